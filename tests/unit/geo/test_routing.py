"""Tests for the Router: fastest paths and travel-time queries on real and random graphs."""

from __future__ import annotations

import heapq
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencitybrain.citypack.cbengine import read_cbengine_roadnet
from opencitybrain.geo.roadgraph import RoadGraph
from opencitybrain.geo.roadgraph_build import graph_from_edges
from opencitybrain.geo.routing import Router
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
NODES = st.integers(0, 2066)


@cache
def nanchang() -> tuple[RoadGraph, Router]:
    """Return the Nanchang graph and a router over it, built once."""
    graph = read_cbengine_roadnet(ROADNET)
    return graph, Router(graph)


def reference_times(graph: RoadGraph, src: int) -> list[float]:
    """Return travel times from src by a textbook heap Dijkstra over every edge."""
    adj: list[list[tuple[int, float]]] = [[] for _ in range(graph.n_nodes)]
    for u, v, t in zip(graph.edge_from, graph.edge_to, graph.edge_seconds, strict=True):
        adj[int(u)].append((int(v), float(t)))
    dist = [float("inf")] * graph.n_nodes
    dist[src] = 0.0
    heap = [(0.0, src)]
    while heap:
        d, u = heapq.heappop(heap)
        if d > dist[u]:
            continue
        for v, t in adj[u]:
            if d + t < dist[v]:
                dist[v] = d + t
                heapq.heappush(heap, (d + t, v))
    return dist


@st.composite
def small_graphs(draw: st.DrawFn) -> RoadGraph:
    """Draw a small directed graph with parallel edges, self-loops and unreachable parts."""
    n = draw(st.integers(2, 9))
    edges = draw(
        st.lists(
            st.tuples(
                st.integers(0, n - 1),
                st.integers(0, n - 1),
                st.floats(1, 2000),
                st.sampled_from([2.8, 5.6, 11.1, 16.7]),
            ),
            max_size=25,
        )
    )
    cols = list(zip(*edges, strict=True)) if edges else [(), (), (), ()]
    return graph_from_edges(
        np.linspace(115.8, 115.9, n), np.full(n, 28.6), cols[0], cols[1], cols[2], cols[3]
    )


@settings(max_examples=150, deadline=None)
@given(small_graphs(), st.data())
def test_times_equal_reference_dijkstra(graph: RoadGraph, data: st.DataObject) -> None:
    src = data.draw(st.integers(0, graph.n_nodes - 1))
    router = Router(graph)
    got = router.travel_times_from(src)
    assert got == pytest.approx(reference_times(graph, src))
    for dst in range(graph.n_nodes):
        if np.isinf(got[dst]):
            with pytest.raises(NotFound):
                router.fastest_path(src, dst)
            continue
        route = router.fastest_path(src, dst)
        # The route is a chain of real edges whose times add up to the reported total.
        assert route.nodes[0] == src
        assert route.nodes[-1] == dst
        assert graph.edge_from[route.edges].tolist() == route.nodes[:-1].tolist()
        assert graph.edge_to[route.edges].tolist() == route.nodes[1:].tolist()
        assert route.seconds == pytest.approx(graph.edge_seconds[route.edges].sum())
        assert route.seconds == pytest.approx(got[dst])
        assert route.metres == pytest.approx(graph.edge_length_m[route.edges].sum())


def test_parallel_edges_keep_the_fastest() -> None:
    # 0->1 twice: 1000 m at 5 m/s (200 s) and 1500 m at 15 m/s (100 s).
    graph = graph_from_edges([0, 0.01], [0, 0], [0, 0], [1, 1], [1000, 1500], [5, 15])
    route = Router(graph).fastest_path(0, 1)
    assert route.edges.tolist() == [1]
    assert route.seconds == pytest.approx(100.0)
    assert route.metres == pytest.approx(1500.0)


@settings(max_examples=40, deadline=None)
@given(NODES, NODES, NODES)
def test_triangle_inequality_on_nanchang(a: int, b: int, c: int) -> None:
    _, router = nanchang()
    ab, bc = router.one_to_many(a, [b, c])[0], router.one_to_many(b, [c])[0]
    ac = router.one_to_many(a, [c])[0]
    assert ac <= ab + bc + 1e-6


@settings(max_examples=25, deadline=None)
@given(NODES, st.lists(NODES, min_size=1, max_size=6))
def test_one_to_many_equals_repeated_single_paths(src: int, targets: list[int]) -> None:
    graph, router = nanchang()
    times = router.one_to_many(src, targets)
    for dst, t in zip(targets, times, strict=True):
        route = router.fastest_path(src, dst)
        assert route.seconds == pytest.approx(t)
        assert route.line.shape == (len(route.nodes), 2)
        assert route.line[0].tolist() == [graph.node_lon[src], graph.node_lat[src]]


@settings(max_examples=25, deadline=None)
@given(st.lists(NODES, min_size=1, max_size=8), NODES)
def test_many_to_one_equals_one_to_many_on_reversed_graph(sources: list[int], target: int) -> None:
    _graph, router = nanchang()
    reverse = reversed_router()
    assert router.many_to_one(sources, target) == pytest.approx(
        reverse.one_to_many(target, sources)
    )


@cache
def reversed_router() -> Router:
    """Return a router over the reversed Nanchang graph."""
    return Router(nanchang()[0].reversed())


@settings(max_examples=15, deadline=None)
@given(st.lists(NODES, min_size=1, max_size=7), st.lists(NODES, min_size=1, max_size=7))
def test_matrix_rows_are_one_to_many(sources: list[int], targets: list[int]) -> None:
    _, router = nanchang()
    m = router.matrix(sources, targets)
    assert m.shape == (len(sources), len(targets))
    for i, s in enumerate(sources):
        assert m[i] == pytest.approx(router.one_to_many(s, targets))


@settings(max_examples=20, deadline=None)
@given(NODES, st.floats(0, 900))
def test_reachable_within_is_a_bounded_search(src: int, limit: float) -> None:
    _, router = nanchang()
    reach = router.reachable_within(src, limit)
    full = router.travel_times_from(src)
    assert sorted(reach.nodes.tolist()) == np.flatnonzero(full <= limit).tolist()
    assert reach.seconds == pytest.approx(full[reach.nodes])
    assert (np.diff(reach.seconds) >= 0).all()
    assert reach.nodes[0] == src


def test_limit_leaves_far_nodes_infinite() -> None:
    _, router = nanchang()
    times = router.travel_times_from(0, limit_s=120)
    assert np.isinf(times).sum() > 1000
    assert times[np.isfinite(times)].max() <= 120


def test_nanchang_route_is_plausible() -> None:
    graph, router = nanchang()
    a, b = graph.nearest_nodes([115.80, 115.95], [28.62, 28.72])[0]
    route = router.fastest_path(int(a), int(b))
    crow = 16_500  # about 16.5 km between the two points
    assert crow < route.metres < 2.0 * crow
    assert 5.0 < route.metres / route.seconds < 22.3


def test_unreachable_and_bad_nodes() -> None:
    graph = graph_from_edges([0, 0.01, 0.02], [0, 0, 0], [0], [1], [100], [10])
    router = Router(graph)
    assert np.isinf(router.one_to_many(0, [2])).all()
    assert np.isinf(router.matrix([0, 1], [2])).all()
    with pytest.raises(NotFound) as err:
        router.fastest_path(0, 2)
    assert err.value.code == "routing.unreachable"
    with pytest.raises(InvalidInput):
        router.fastest_path(0, 3)
    with pytest.raises(InvalidInput):
        router.one_to_many(0, [0.5])
    with pytest.raises(InvalidInput):
        router.reachable_within(0, -1)
    assert router.fastest_path(1, 1).seconds == 0.0
    assert router.matrix([], [1]).shape == (0, 1)
