"""Load a city pack (built in, or any folder with a ``pack.toml``) into a CityPack.

Reading a road network and generating divisions are the slow steps; with a ``cache_dir``
both are kept as ``.npz`` files keyed by a hash of their inputs, so a second load of the
same pack reads arrays instead of parsing, and any change to an input rebuilds.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from opencitybrain.citypack.cbengine import (
    CBEngineFlows,
    read_cbengine_flows,
    read_cbengine_roadnet,
)
from opencitybrain.citypack.manifest import MANIFEST_NAME, read_manifest
from opencitybrain.citypack.model import CityPack, PackManifest
from opencitybrain.citypack.osm import BBox, read_osm
from opencitybrain.geo.divisions import Divisions, build_divisions
from opencitybrain.geo.divisions_cache import load_or_build_divisions
from opencitybrain.geo.regions import Region, load_counties, shifted
from opencitybrain.geo.roadgraph import RoadGraph
from opencitybrain.kernel.errors import NotFound

__all__ = ["PACKS_DIR", "Progress", "available_packs", "load_pack", "pack_folder"]

log = logging.getLogger(__name__)

PACKS_DIR = Path(__file__).parent / "packs"
# Bump when a reader changes what it produces from the same file, so caches rebuild.
GRAPH_CACHE_VERSION = 1

Progress = Callable[[str, float], None]


def available_packs() -> list[str]:
    """Return the names of the built-in city packs."""
    if not PACKS_DIR.is_dir():
        return []
    return sorted(p.name for p in PACKS_DIR.iterdir() if (p / MANIFEST_NAME).is_file())


def pack_folder(name_or_path: str | Path) -> Path:
    """Return the folder of a built-in pack by name, or of a pack given by path."""
    if isinstance(name_or_path, str) and (PACKS_DIR / name_or_path / MANIFEST_NAME).is_file():
        return PACKS_DIR / name_or_path
    path = Path(name_or_path)
    if path.name == MANIFEST_NAME and path.is_file():
        return path.parent
    if path.is_dir():
        return path
    known = ", ".join(available_packs()) or "-"
    raise NotFound(
        "citypack.unknown",
        f"找不到城市包 {name_or_path}（内置：{known}）",
        f"no city pack {name_or_path} (built in: {known})",
    )


def load_pack(
    name_or_path: str | Path,
    *,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> CityPack:
    """Load a city pack: manifest, road graph, counties, divisions and flows."""
    report = progress or (lambda stage, done: None)
    folder = pack_folder(name_or_path)
    manifest = read_manifest(folder)
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
    report("读取路网 / reading the road network", 0.0)
    started = time.perf_counter()
    graph = _graph(manifest, folder, cache_dir)
    log.info("city pack %s: road graph in %.3f s", manifest.name, time.perf_counter() - started)
    counties: tuple[Region, ...] = ()
    divisions: Divisions | None = None
    if manifest.admin is not None:
        report("读取行政区划 / reading the county boundaries", 0.3)
        counties = tuple(load_counties(folder / manifest.admin.file, manifest.city_code))
        if manifest.admin.shift is not None:
            counties = tuple(shifted(counties, *manifest.admin.shift))
        report("街道、社区与网格 / streets, communities and grids", 0.35)
        started = time.perf_counter()
        divisions = _divisions(manifest, counties, graph, cache_dir)
        log.info("city pack %s: divisions in %.3f s", manifest.name, time.perf_counter() - started)
    flows: CBEngineFlows | None = None
    if manifest.flows is not None:
        report("读取交通需求 / reading the traffic demand", 0.85)
        flows = read_cbengine_flows(folder / manifest.flows.file, graph)
    report("城市包就绪 / city pack loaded", 1.0)
    return CityPack(manifest, folder, graph, counties, divisions, flows)


def _graph(manifest: PackManifest, folder: Path, cache_dir: Path | None) -> RoadGraph:
    spec = manifest.roadnet
    source = folder / spec.file
    if cache_dir is None:
        return _read_graph(manifest, source)
    digest = hashlib.sha256(f"roadgraph/{GRAPH_CACHE_VERSION}/".encode())
    digest.update(msgspec.json.encode(spec))
    with source.open("rb") as fh:
        digest.update(hashlib.file_digest(fh, "sha256").digest())
    cached = cache_dir / f"{manifest.name}-roadgraph-{digest.hexdigest()[:20]}.npz"
    if cached.is_file():
        try:
            return RoadGraph.load(cached)
        except (OSError, ValueError, KeyError, TypeError):
            # A damaged cache file is only a lost shortcut: rebuild it below.
            log.warning("city pack %s: ignoring unreadable cache %s", manifest.name, cached)
    graph = _read_graph(manifest, source)
    temporary = cached.with_name(cached.name + ".tmp")
    graph.save(temporary)
    os.replace(temporary, cached)
    return graph


def _read_graph(manifest: PackManifest, source: Path) -> RoadGraph:
    spec = manifest.roadnet
    if spec.format == "cbengine":
        return read_cbengine_roadnet(source, name=manifest.name)
    bbox = BBox(*spec.bbox) if spec.bbox is not None else None
    return read_osm(source, bbox=bbox, name=manifest.name, largest_component=spec.largest_component)


def _divisions(
    manifest: PackManifest,
    counties: tuple[Region, ...],
    graph: RoadGraph,
    cache_dir: Path | None,
) -> Divisions:
    lines = graph.edge_lines()
    if cache_dir is None:
        return build_divisions(counties, lines)
    return load_or_build_divisions(cache_dir / f"{manifest.name}-divisions.npz", counties, lines)
