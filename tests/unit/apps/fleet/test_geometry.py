"""The grid-indexed zone and road lookups give the brute-force answer, on random geometry."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import example, given, settings
from hypothesis import strategies as st

from opencitybrain.apps.fleet.grid import GridIndex
from opencitybrain.apps.fleet.matching import RoadMatcher
from opencitybrain.apps.fleet.model import TimeWindow, VehicleClass
from opencitybrain.apps.fleet.rules import Zone
from opencitybrain.apps.fleet.zones import ZoneIndex, minutes_table
from opencitybrain.geo.roadgraph_build import graph_from_edges
from tests.unit.apps.fleet.support import PROJECTION, square

LON, LAT = 115.875, 28.68
metres = st.floats(-3000, 3000, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(
    boxes=st.lists(st.tuples(metres, metres, st.floats(1, 800), st.floats(1, 800)), max_size=30),
    points=st.lists(st.tuples(metres, metres), min_size=1, max_size=60),
    cell=st.floats(5, 500),
)
def test_grid_candidates_cover_every_box_a_point_is_in(
    boxes: list[tuple[float, float, float, float]], points: list[tuple[float, float]], cell: float
) -> None:
    b = np.array(boxes).reshape(-1, 4)
    grid = GridIndex(b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3], cell_m=cell)
    x, y = np.array(points).T
    p, i = grid.candidates(x, y)
    got = set(zip(p.tolist(), i.tolist(), strict=True))
    for k, (px, py) in enumerate(points):
        for j, (bx, by, w, h) in enumerate(boxes):
            if bx <= px <= bx + w and by <= py <= by + h:
                assert (k, j) in got


@settings(max_examples=30, deadline=None)
@given(
    nodes=st.lists(st.tuples(metres, metres), min_size=2, max_size=12),
    edges=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11)), min_size=1, max_size=20),
    limits=st.lists(st.sampled_from([20.0, 40.0, 60.0]), min_size=20, max_size=20),
    points=st.lists(st.tuples(metres, metres), min_size=1, max_size=40),
)
@example(  # a point on the node two roads share, 20 and 40 km/h: the 40 wins (a regression)
    nodes=[(123.456, -789.1), (-1500.25, 2000.5), (2900.0, 7.75)],
    edges=[(1, 0), (0, 2)],
    limits=[20.0, 40.0] + [60.0] * 18,
    points=[(123.456, -789.1), (-1500.25, 2000.5)],
)
def test_road_matching_equals_brute_force(
    nodes: list[tuple[float, float]],
    edges: list[tuple[int, int]],
    limits: list[float],
    points: list[tuple[float, float]],
) -> None:
    edges = [(a % len(nodes), b % len(nodes)) for a, b in edges if a % len(nodes) != b % len(nodes)]
    if not edges:
        return
    x0, y0 = PROJECTION.to_metres(LON, LAT)
    nx, ny = np.array(nodes).T
    lon, lat = PROJECTION.to_lonlat(nx + x0, ny + y0)
    src, dst = np.array(edges).T
    speed = np.array(limits[: len(edges)]) / 3.6
    graph = graph_from_edges(lon, lat, src, dst, np.ones(len(edges)), speed)
    matcher = RoadMatcher(graph, PROJECTION, 50.0)
    px, py = np.array(points).T
    got = matcher.match(px + x0, py + y0)
    lines = shapely.linestrings(
        np.stack([np.column_stack([matcher.ax, matcher.ay]),
                  np.column_stack([matcher.bx, matcher.by])], axis=1)
    )  # fmt: skip
    for k in range(len(points)):
        d = shapely.distance(shapely.points(px[k] + x0, py[k] + y0), lines)
        if d.min() > 50.0:
            assert got.edge[k] == -1
            continue
        assert abs(got.distance_m[k] - d.min()) < 1e-6
        near = np.flatnonzero(d <= d.min() + 1e-6)
        best = matcher.edge_limit_kmh[matcher.seg_edge[near]].max()
        assert got.limit_kmh[k] == best  # ties: the higher limit


@settings(max_examples=30, deadline=None)
@given(
    zones=st.lists(st.tuples(metres, metres, st.floats(20, 600)), min_size=1, max_size=15),
    points=st.lists(st.tuples(metres, metres), min_size=1, max_size=60),
)
def test_zone_violations_equal_brute_force(
    zones: list[tuple[float, float, float]], points: list[tuple[float, float]]
) -> None:
    x0, y0 = PROJECTION.to_metres(LON, LAT)
    specs = []
    for i, (zx, zy, half) in enumerate(zones):
        zlon, zlat = PROJECTION.to_lonlat(zx + x0, zy + y0)
        specs.append(
            Zone(f"z{i}", "z", square(float(zlon), float(zlat), half), [VehicleClass.MUCK])
        )
    index = ZoneIndex(specs, PROJECTION)
    px, py = np.array(points).T + np.array([[x0], [y0]])
    cls = np.zeros(len(points), dtype=np.int64)  # muck
    p, z = index.violations(px, py, cls, np.zeros(len(points), dtype=np.int64))
    got = set(zip(p.tolist(), z.tolist(), strict=True))
    want = {
        (k, j)
        for k in range(len(points))
        for j, poly in enumerate(index.polygons)
        if shapely.contains_xy(poly, px[k], py[k])
    }
    assert got == want


@given(start=st.integers(0, 1439), end=st.integers(0, 1440))
def test_windows_cover_their_minutes_and_wrap_past_midnight(start: int, end: int) -> None:
    hhmm = [f"{m // 60:02d}:{m % 60:02d}" for m in (start, end)]
    mask = minutes_table([TimeWindow(*hhmm)])
    minutes = np.arange(1440)
    inside = (minutes >= start) & (minutes < end) if start <= end else (
        (minutes >= start) | (minutes < end)
    )  # fmt: skip
    assert (mask == inside).all()
