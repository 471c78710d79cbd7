"""Tests for the CBEngine road-network and flow readers, on the real Nanchang files."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from opencitybrain.citypack.cbengine import (
    parse_cbengine_flows,
    parse_cbengine_roadnet,
    read_cbengine_flows,
    read_cbengine_roadnet,
    road_class_for_speed,
)
from opencitybrain.geo.roadgraph import RoadClass, RoadGraph
from opencitybrain.kernel.errors import InvalidInput

NANCHANG = (
    Path(__file__).resolve().parents[3]
    / "src"
    / "opencitybrain"
    / "citypack"
    / "packs"
    / "nanchang"
)

# A tiny valid network: three intersections, two two-way roads, one signal.
TINY = """3
28.60 115.80 11 1
28.61 115.80 12 0
28.60 115.81 13 0
2
11 12 1100.0 16.666666666666668 3 3 1 2
1 0 0 0 1 0 0 0 1
1 0 0 0 1 0 0 0 1
11 13 980.0 11.11111111111111 1 2 3 4
0 1 1
1 0 0 0 1 1
1
11 1 -1 -1 3
"""


@cache
def nanchang() -> RoadGraph:
    """Return the Nanchang graph, read once."""
    return read_cbengine_roadnet(NANCHANG / "roadnet_cbengine.txt")


def test_nanchang_counts_and_attributes() -> None:
    g = nanchang()
    assert (g.n_nodes, g.n_edges, int(g.node_signalized.sum())) == (2067, 6082, 1004)
    assert len(g.signal_nodes) == 1004
    assert (g.edge_lanes == 3).all()
    assert set(np.round(g.edge_speed_mps, 1).tolist()) == {22.2, 16.7, 13.9, 11.1, 5.6, 2.8}
    # Every two-way segment yields a pair of opposite edges.
    assert g.edge_from[0] == g.edge_to[1]
    assert g.edge_to[0] == g.edge_from[1]
    assert (g.node_lat > 28).all()
    assert (g.node_lon > 115).all()


def test_speed_to_road_class() -> None:
    got = road_class_for_speed([22.22, 16.67, 13.89, 11.11, 5.56, 2.78])
    want = [RoadClass.EXPRESSWAY, RoadClass.ARTERIAL, RoadClass.COLLECTOR] + [RoadClass.LOCAL] * 3
    assert got.tolist() == want
    counts = np.bincount(nanchang().edge_class, minlength=4)
    assert counts.tolist() == [702, 1850, 1388, 2142]


def test_signal_approaches_are_exiting_roads() -> None:
    g = nanchang()
    rows, cols = np.nonzero(g.signal_approaches >= 0)
    edges = g.signal_approaches[rows, cols]
    assert len(edges) == 3519
    assert (g.edge_from[edges] == g.signal_nodes[rows]).all()


def test_tiny_network_lanes_turns_and_signal() -> None:
    g = parse_cbengine_roadnet(TINY)
    assert g.edge_ids.tolist() == [1, 2, 3, 4]
    assert g.edge_lanes.tolist() == [3, 3, 1, 2]
    assert g.lane_turns_of(2).tolist() == [6]  # through + right
    assert g.lane_turns_of(3).tolist() == [1, 6]
    assert g.edge_turns.tolist() == [7, 7, 6, 7]
    assert g.signal_nodes.tolist() == [0]
    assert g.signal_approaches.tolist() == [[0, -1, -1, 2]]


@pytest.mark.parametrize(
    ("old", "new", "line", "fragment"),
    [
        ("28.61 115.80 12 0", "28.61 north 12 0", 3, "non-numeric"),
        ("28.61 115.80 12 0", "28.61 115.80 12", 3, "needs 4 fields"),
        ("28.61 115.80 12 0", "28.61 115.80 12 2", 3, "signalized flag"),
        ("28.61 115.80 12 0", "28.61 115.80 11 0", 3, "duplicate intersection"),
        ("11 13 980.0", "11 99 980.0", 9, "unknown intersection 99"),
        ("11 13 980.0", "11 13 -5.0", 9, "positive"),
        ("0 1 1\n", "0 1 1 0\n", 10, "needs 3 fields"),
        ("0 1 1\n", "0 2 1\n", 10, "0 or 1"),
        ("1 2 3 4\n", "1 2 2 4\n", 9, "duplicate road"),
        ("11 1 -1 -1 3", "11 1 -1 -1 77", 13, "unknown road 77"),
        ("11 1 -1 -1 3\n", "11 1 -1 -1 3\n5 6\n", 14, "unexpected content"),
    ],
)
def test_malformed_roadnet_names_the_line(old: str, new: str, line: int, fragment: str) -> None:
    assert old in TINY
    with pytest.raises(InvalidInput) as err:
        parse_cbengine_roadnet(TINY.replace(old, new, 1), source="x.txt")
    assert err.value.code == "cbengine.malformed"
    assert f"x.txt line {line}:" in err.value.message_en
    assert f"第 {line} 行" in err.value.message_zh
    assert fragment in err.value.message_en
    assert err.value.errors[0].field == f"line {line}"


def test_truncated_roadnet_reports_what_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "cut.txt"
    path.write_text("\n".join(TINY.splitlines()[:8]))
    with pytest.raises(InvalidInput) as err:
        read_cbengine_roadnet(path)
    assert "ends early" in err.value.message_en
    assert "cut.txt" in err.value.message_en


def test_nanchang_flows() -> None:
    g = nanchang()
    flows = read_cbengine_flows(NANCHANG / "flow0_cbengine.txt", g)
    assert flows.n_flows == 12355
    assert flows.rejected == ()
    assert len(flows.route_edges) == 257878
    assert int(flows.vehicle_counts().sum()) == 67159
    assert flows.start_s[0] == 23
    assert flows.end_s[0] == 200
    assert flows.interval_s[0] == 13
    route = flows.route(0)
    assert len(route) == 75
    assert g.edge_ids[route[0]] == 2490
    # Routes chain: each road starts where the previous one ends.
    assert (g.edge_to[route[:-1]] == g.edge_from[route[1:]]).all()
    assert flows.end_s.max() <= 3600


def test_bad_flows_are_set_aside_and_good_ones_kept() -> None:
    g = parse_cbengine_roadnet(TINY)
    text = "\n".join(
        [
            "6",
            "0 100 10", "2", "1 3",  # 1 ends at 12, 3 starts at 11: no chain
            "0 100 10", "1", "4",  # good
            "0 100 10", "2", "4 99",  # unknown road 99
            "5 1 10", "1", "4",  # end before start
            "0 x 10", "1", "4",  # non-numeric
            "0 100 10", "3", "2 3",  # wrong count
        ]
    )  # fmt: skip
    flows = parse_cbengine_flows(text, g, source="f.txt")
    assert flows.n_flows == 1
    assert flows.lines.tolist() == [5]
    assert g.edge_ids[flows.route(0)].tolist() == [4]
    reasons = {r.line: r.reason_en for r in flows.rejected}
    assert sorted(reasons) == [4, 10, 11, 14, 17]
    assert "do not connect" in reasons[4]
    assert "99" in reasons[10]
    assert "start ≤ end" in reasons[11]
    assert "non-numeric" in reasons[14]
    assert "needs 3 fields" in reasons[17]
    assert flows.n_flows + len(flows.rejected) == 6


def test_flow_file_structure_errors_raise() -> None:
    g = parse_cbengine_roadnet(TINY)
    with pytest.raises(InvalidInput, match="ends early"):
        parse_cbengine_flows("2\n0 10 1\n1\n4\n", g)
    with pytest.raises(InvalidInput, match="line 5"):
        parse_cbengine_flows("1\n0 10 1\n1\n4\nextra\n", g)
