"""Tests for the RoadGraph: lookups, snapping, lines, statistics, matrices, reversal."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencitybrain.citypack.cbengine import read_cbengine_roadnet
from opencitybrain.geo.roadgraph import ALL_TURNS, RoadClass, RoadGraph, Turn
from opencitybrain.geo.roadgraph_build import graph_from_edges, haversine_m, ragged_ranges
from opencitybrain.kernel.errors import InvalidInput, NotFound

ROADNET = (
    Path(__file__).resolve().parents[3]
    / "src"
    / "opencitybrain"
    / "citypack"
    / "packs"
    / "nanchang"
    / "roadnet_cbengine.txt"
)


@cache
def nanchang() -> RoadGraph:
    """Return the Nanchang CBEngine graph, read once."""
    return read_cbengine_roadnet(ROADNET, name="nanchang")


def test_road_class_names_follow_chinese_urban_classes() -> None:
    assert [c.zh for c in RoadClass] == ["快速路", "主干路", "次干路", "支路"]
    assert [c.en for c in RoadClass] == ["expressway", "arterial", "collector", "local"]


def test_nanchang_stats() -> None:
    stats = nanchang().stats()
    assert (stats.nodes, stats.edges, stats.signalized) == (2067, 6082, 1004)
    assert stats.largest_scc_share == 1.0
    assert set(stats.km_by_class) == set(RoadClass)
    assert all(km > 100 for km in stats.km_by_class.values())
    g = nanchang()
    assert stats.total_km == pytest.approx(g.edge_length_m.sum() / 1000)


def test_arrays_are_read_only() -> None:
    g = nanchang()
    with pytest.raises(ValueError, match="read-only"):
        g.edge_length_m[0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        g.edge_seconds[0] = 1.0


def test_lookup_by_original_id_round_trips() -> None:
    g = nanchang()
    picks = np.array([0, 5, 2066])
    assert g.node_indices(g.node_ids[picks]).tolist() == picks.tolist()
    assert g.node_index(int(g.node_ids[7])) == 7
    assert g.edge_index(int(g.edge_ids[6081])) == 6081
    with pytest.raises(NotFound) as err:
        g.node_indices([int(g.node_ids[0]), 12345])
    assert "12345" in err.value.message_en
    assert "12345" in err.value.message_zh
    with pytest.raises(NotFound):
        g.edge_index(-42)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(115.70, 116.05), st.floats(28.55, 28.80)), min_size=1, max_size=20)
)
def test_nearest_nodes_match_brute_force_haversine(points: list[tuple[float, float]]) -> None:
    g = nanchang()
    lon = np.array([p[0] for p in points])
    lat = np.array([p[1] for p in points])
    idx, dist = g.nearest_nodes(lon, lat)
    for k in range(len(points)):
        true = haversine_m(
            np.full(g.n_nodes, lon[k]), np.full(g.n_nodes, lat[k]), g.node_lon, g.node_lat
        )
        # The local frame is metric to a fraction of a percent across the city.
        assert dist[k] == pytest.approx(true[idx[k]], rel=5e-3, abs=0.5)
        assert true[idx[k]] <= true.min() * 1.005 + 0.5


def test_nearest_nodes_scalar_and_bad_input() -> None:
    g = nanchang()
    idx, dist = g.nearest_nodes(float(g.node_lon[42]), float(g.node_lat[42]))
    assert idx.tolist() == [42]
    assert dist[0] < 1e-6
    with pytest.raises(InvalidInput):
        g.nearest_nodes([1.0, 2.0], [3.0])
    with pytest.raises(InvalidInput):
        g.nearest_nodes(np.nan, 28.6)


def test_edge_lines_are_straight_between_endpoints_without_geometry() -> None:
    g = nanchang()
    lines = g.edge_lines()
    assert len(lines) == g.n_edges
    assert all(line.shape == (2, 2) for line in lines)
    e = 123
    assert lines[e][0].tolist() == [g.node_lon[g.edge_from[e]], g.node_lat[g.edge_from[e]]]
    assert lines[e][1].tolist() == [g.node_lon[g.edge_to[e]], g.node_lat[g.edge_to[e]]]


def test_cbengine_lengths_agree_with_coordinates() -> None:
    g = nanchang()
    crow = haversine_m(
        g.node_lon[g.edge_from],
        g.node_lat[g.edge_from],
        g.node_lon[g.edge_to],
        g.node_lat[g.edge_to],
    )
    # A road is never much shorter than the straight line between its ends.
    assert np.median(g.edge_length_m / np.maximum(crow, 1)) == pytest.approx(1.0, abs=0.2)


def test_csr_matrices_keep_the_fastest_and_shortest_parallel_edge() -> None:
    # Two edges 0->1: long and fast (100 s) versus short and slow (200 s); plus a self-loop.
    g = graph_from_edges(
        [0, 0.01, 0.02],
        [0, 0, 0],
        [0, 0, 1, 2],
        [1, 1, 2, 2],
        [2000, 1000, 500, 10],
        [20, 5, 10, 10],
    )
    t, m = g.travel_time_csr(), g.length_csr()
    assert t.nnz == 2
    assert m.nnz == 2
    assert t[0, 1] == pytest.approx(100.0)
    assert t[1, 2] == pytest.approx(50.0)
    assert m[0, 1] == pytest.approx(1000.0)
    assert g.link_edges([0, 1, 2], [1, 2, 0]).tolist() == [0, 2, -1]


def test_csr_of_nanchang_matches_edges() -> None:
    g = nanchang()
    t = g.travel_time_csr()
    assert t.shape == (2067, 2067)
    pairs = {(int(a), int(b)) for a, b in zip(g.edge_from, g.edge_to, strict=True)}
    assert t.nnz == len(pairs)
    e = 77
    assert t[g.edge_from[e], g.edge_to[e]] <= g.edge_length_m[e] / g.edge_speed_mps[e] + 1e-9


def test_lane_turns_and_union() -> None:
    g = nanchang()
    assert g.lane_turns_of(0).tolist() == [Turn.LEFT, Turn.THROUGH, Turn.RIGHT]
    assert (g.edge_turns == ALL_TURNS).all()
    assert (g.edge_lanes == 3).all()


def test_reversed_swaps_direction_and_geometry() -> None:
    coords = np.array([[0, 0], [0.5, 0.1], [1, 0], [1, 0], [2, 0]], dtype=float)
    base = graph_from_edges([0, 1, 2], [0, 0, 0], [0, 1], [1, 2], [100, 50], 10)
    g = RoadGraph(**{**base.arrays(), "geom_offsets": [0, 3, 5], "geom_coords": coords})
    r = g.reversed()
    assert r.edge_from.tolist() == [1, 2]
    assert r.edge_to.tolist() == [0, 1]
    assert r.edge_lines()[0].tolist() == coords[2::-1].tolist()
    assert r.edge_lines()[1].tolist() == coords[:2:-1].tolist()
    rr = r.reversed()
    assert all(np.array_equal(a, b) for a, b in zip(rr.edge_lines(), g.edge_lines(), strict=True))
    assert nanchang().reversed().travel_time_csr().nnz == nanchang().travel_time_csr().nnz


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    g = nanchang()
    g.save(tmp_path / "g.npz")
    back = RoadGraph.load(tmp_path / "g.npz")
    assert back.name == "nanchang"
    assert back.geom_offsets is None
    for key, value in g.arrays().items():
        if isinstance(value, np.ndarray):
            assert np.array_equal(getattr(back, key), value), key
    assert np.array_equal(back.signal_approaches, g.signal_approaches)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"edge_from": [0, 5]}, "edge endpoints"),
        ({"edge_length_m": [100, 0]}, "length"),
        ({"edge_speed_mps": [10, np.inf]}, "length/speed"),
        ({"node_ids": [1, 1, 2]}, "duplicate"),
        ({"edge_lanes": [1, 2]}, "lane_offsets"),
        ({"lane_turns": [7, 9]}, "lane turns"),
        ({"edge_class": [0, 9]}, "edge_class"),
        ({"node_lat": [0, 0]}, "node_lat"),
        ({"geom_offsets": [0, 1, 2], "geom_coords": [[0, 0], [1, 1]]}, "geometry"),
        ({"geom_offsets": [0, 2, 4]}, "go together"),
        ({"signal_nodes": [0], "signal_approaches": [[0, 1, 2, -1]]}, "signal"),
    ],
)
def test_construction_rejects_inconsistent_arrays(change: dict[str, object], fragment: str) -> None:
    base = graph_from_edges([0, 1, 2], [0, 0, 0], [0, 1], [1, 2], [100, 50], 10)
    with pytest.raises(InvalidInput) as err:
        RoadGraph(**{**base.arrays(), **change})
    assert fragment in err.value.message_en
    assert err.value.code == "roadgraph.invalid"


@given(st.lists(st.integers(0, 6), max_size=8), st.integers(-5, 5))
def test_ragged_ranges_equals_concatenated_aranges(lengths: list[int], shift: int) -> None:
    starts = np.arange(len(lengths)) * 10 + shift
    want = [x for s, n in zip(starts, lengths, strict=True) for x in range(s, s + n)]
    assert ragged_ranges(starts, np.array(lengths)).tolist() == want
