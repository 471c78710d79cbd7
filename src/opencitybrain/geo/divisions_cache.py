"""Save and load :class:`Divisions` to one ``.npz`` file, keyed by a hash of the inputs.

Geometries travel as WKB in one byte buffer with offsets, and everything else as plain
numpy arrays, so loading needs no pickle and takes milliseconds. The key hashes the
county geometries and codes, the road lines, the seed and the format version: any change
to an input gives a different key, and a stale file is rebuilt rather than trusted.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from opencitybrain.geo.divisions import Divisions, build_divisions
from opencitybrain.geo.gridcells import GridTable
from opencitybrain.geo.projection import LocalProjection
from opencitybrain.geo.regions import Level, Region, polygonal

__all__ = ["divisions_key", "load_divisions", "load_or_build_divisions", "save_divisions"]

# Bump when the generation rules change, so old caches stop matching.
FORMAT_VERSION = 1
_LEVELS: tuple[Level, ...] = ("county", "street", "community")
_GRID_FIELDS = ("code", "community", "col", "row", "split", "lon", "lat")


def divisions_key(
    counties: Sequence[Region], road_lines: Sequence[NDArray[np.float64]], seed: int = 0
) -> str:
    """Return the hex SHA-256 of everything that determines the generated divisions."""
    digest = hashlib.sha256(f"opencitybrain.divisions/{FORMAT_VERSION}/{seed}".encode())
    for county in sorted(counties, key=lambda c: c.code):
        digest.update(f"|{county.code}|{county.name_zh}|".encode())
        digest.update(shapely.to_wkb(county.geometry))
    for line in road_lines:
        coords = np.ascontiguousarray(np.asarray(line, dtype=np.float64))
        # The length goes in first so that re-cutting the same points still differs.
        digest.update(np.int64(coords.size).tobytes())
        digest.update(coords.tobytes())
    return digest.hexdigest()


def _pack(regions: Sequence[Region]) -> dict[str, NDArray[Any]]:
    wkb = shapely.to_wkb([r.geometry for r in regions])
    offsets = np.cumsum([0, *(len(b) for b in wkb)], dtype=np.int64)
    return {
        "code": np.array([r.code for r in regions], dtype=str),
        "name": np.array([r.name_zh for r in regions], dtype=str),
        "parent": np.array([r.parent_code or "" for r in regions], dtype=str),
        "wkb": np.frombuffer(b"".join(wkb), dtype=np.uint8),
        "offsets": offsets,
    }


def _unpack(level: Level, arrays: dict[str, NDArray[Any]]) -> list[Region]:
    blob = arrays["wkb"].tobytes()
    offsets = arrays["offsets"].tolist()
    geoms = shapely.from_wkb([blob[a:b] for a, b in itertools.pairwise(offsets)])
    return [
        Region(str(code), str(name), level, str(parent) or None, polygonal(geom))
        for code, name, parent, geom in zip(
            arrays["code"], arrays["name"], arrays["parent"], geoms, strict=True
        )
    ]


def save_divisions(divisions: Divisions, path: str | Path) -> None:
    """Write divisions to an ``.npz`` file at path, atomically."""
    arrays: dict[str, NDArray[Any]] = {}
    for level in _LEVELS:
        for name, array in _pack(divisions.regions(level)).items():
            arrays[f"{level}.{name}"] = array
    for name in _GRID_FIELDS:
        arrays[f"grid.{name}"] = getattr(divisions.grids, name)
    meta = {
        "version": FORMAT_VERSION,
        "key": divisions.cache_key,
        "center": [divisions.projection.center_lon, divisions.projection.center_lat],
        "cell_size": divisions.grids.cell_size,
    }
    arrays["meta"] = np.array(json.dumps(meta))
    target = Path(path)
    temporary = target.with_name(target.name + ".tmp.npz")
    # Write beside the target, then rename: a reader never sees half a file.
    with temporary.open("wb") as handle:
        np.savez(handle, allow_pickle=False, **arrays)
    os.replace(temporary, target)


def load_divisions(path: str | Path, expected_key: str | None = None) -> Divisions | None:
    """Load divisions saved at path; None if missing, unreadable or for other inputs."""
    try:
        with np.load(Path(path), allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    try:
        meta = json.loads(str(arrays["meta"]))
        if meta.get("version") != FORMAT_VERSION:
            return None
        if expected_key is not None and meta.get("key") != expected_key:
            return None
        regions = {
            level: _unpack(
                level,
                {k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith(level + ".")},
            )
            for level in _LEVELS
        }
        grid = {name: arrays[f"grid.{name}"] for name in _GRID_FIELDS}
        grids = GridTable(cell_size=float(meta["cell_size"]), **grid)
        projection = LocalProjection(*meta["center"])
    except (KeyError, ValueError, TypeError, shapely.errors.GEOSException):
        return None
    return Divisions(
        regions["county"],
        regions["street"],
        regions["community"],
        grids,
        projection,
        cache_key=str(meta.get("key", "")),
    )


def load_or_build_divisions(
    path: str | Path,
    counties: Sequence[Region],
    road_lines: Sequence[NDArray[np.float64]],
    *,
    seed: int = 0,
) -> Divisions:
    """Load divisions from path if built from the same inputs, else build and save them."""
    key = divisions_key(counties, road_lines, seed)
    cached = load_divisions(path, key)
    if cached is not None:
        return cached
    built = build_divisions(counties, road_lines, seed=seed)
    built.cache_key = key
    save_divisions(built, path)
    return built
