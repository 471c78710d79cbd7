"""Fastest paths and travel-time queries over a RoadGraph, using scipy.sparse.csgraph.

All times are free-flow seconds. Where two edges join the same pair of intersections, the
faster one is the link the router uses. Unreachable targets get ``inf``; asking for the path
to one raises :class:`NotFound`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse.csgraph import dijkstra

from opencitybrain.geo.roadgraph import F64, I64, RoadGraph
from opencitybrain.geo.roadgraph_build import ragged_ranges
from opencitybrain.kernel.errors import InvalidInput, NotFound

# Rows of distances computed per dijkstra call in matrix(): bounds memory to about
# this many bytes whatever the number of sources.
_MATRIX_CHUNK_BYTES = 256 * 2**20


@dataclass(frozen=True, eq=False)
class Route:
    """Hold one fastest path: node and edge indices, totals and its lon/lat line."""

    nodes: I64
    edges: I64
    seconds: float
    metres: float
    line: F64


@dataclass(frozen=True, eq=False)
class Reach:
    """Hold the nodes reachable within a time budget and their times, nearest first."""

    nodes: I64
    seconds: F64


class Router:
    """Answer fastest-path and travel-time questions on one road graph."""

    def __init__(self, graph: RoadGraph) -> None:
        self.graph = graph
        self._forward = graph.travel_time_csr()
        # Searching the transposed graph from a target gives times *to* it from everywhere.
        self._backward = self._forward.transpose().tocsr()

    def _nodes(self, nodes: npt.ArrayLike, what: str) -> I64:
        arr = np.atleast_1d(np.asarray(nodes))
        if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
            raise InvalidInput(
                "routing.bad_node", f"{what} 须为路口下标", f"{what} must be intersection indices"
            )
        arr = arr.astype(np.int64)
        if arr.size and (arr.min() < 0 or arr.max() >= self.graph.n_nodes):
            raise InvalidInput(
                "routing.bad_node",
                f"{what} 超出路口下标范围 0..{self.graph.n_nodes - 1}",
                f"{what} out of intersection index range 0..{self.graph.n_nodes - 1}",
            )
        return arr

    def _node(self, node: int, what: str) -> int:
        return int(self._nodes(np.array([node]), what)[0])

    def travel_times_from(self, src: int, limit_s: float | None = None) -> F64:
        """Return seconds from src to every node (inf beyond limit_s or unreachable)."""
        s = self._node(src, "src")
        limit = np.inf if limit_s is None else float(limit_s)
        return np.asarray(dijkstra(self._forward, indices=s, limit=limit), dtype=np.float64)

    def travel_times_to(self, dst: int, limit_s: float | None = None) -> F64:
        """Return seconds from every node to dst (inf beyond limit_s or unreachable)."""
        d = self._node(dst, "dst")
        limit = np.inf if limit_s is None else float(limit_s)
        return np.asarray(dijkstra(self._backward, indices=d, limit=limit), dtype=np.float64)

    def one_to_many(self, src: int, targets: npt.ArrayLike) -> F64:
        """Return seconds from src to each target."""
        t = self._nodes(targets, "targets")
        return self.travel_times_from(src)[t]

    def many_to_one(self, sources: npt.ArrayLike, target: int) -> F64:
        """Return seconds from each source to target, by one search on the reversed graph."""
        s = self._nodes(sources, "sources")
        return self.travel_times_to(target)[s]

    def matrix(self, sources: npt.ArrayLike, targets: npt.ArrayLike) -> F64:
        """Return the (len(sources), len(targets)) matrix of travel seconds."""
        s = self._nodes(sources, "sources")
        t = self._nodes(targets, "targets")
        out = np.empty((len(s), len(t)))
        if not (len(s) and len(t)):
            return out
        # Search from whichever side has fewer nodes; backward searches fill columns.
        backward = len(t) < len(s)
        graph, roots, picks = (self._backward, t, s) if backward else (self._forward, s, t)
        chunk = max(1, _MATRIX_CHUNK_BYTES // (8 * max(self.graph.n_nodes, 1)))
        for lo in range(0, len(roots), chunk):
            rows = np.asarray(dijkstra(graph, indices=roots[lo : lo + chunk]))[:, picks]
            if backward:
                out[:, lo : lo + chunk] = rows.T
            else:
                out[lo : lo + chunk] = rows
        return out

    def reachable_within(self, src: int, limit_s: float) -> Reach:
        """Return the nodes reachable from src within limit_s seconds, nearest first."""
        if not limit_s >= 0:
            raise InvalidInput("routing.bad_limit", "时间上限须 ≥ 0", "limit_s must be ≥ 0")
        times = self.travel_times_from(src, limit_s)
        nodes = np.flatnonzero(np.isfinite(times))
        order = np.argsort(times[nodes], kind="stable")
        return Reach(nodes[order].astype(np.int64), times[nodes[order]])

    def fastest_path(self, src: int, dst: int) -> Route:
        """Return the fastest route from src to dst; raise NotFound if none exists."""
        s, d = self._node(src, "src"), self._node(dst, "dst")
        dist, pred = dijkstra(self._forward, indices=s, return_predecessors=True)
        if not np.isfinite(dist[d]):
            raise NotFound(
                "routing.unreachable",
                f"从路口 {s} 无法到达路口 {d}",
                f"intersection {d} cannot be reached from intersection {s}",
            )
        return self._route(pred.tolist(), s, d, float(dist[d]))

    def _route(self, pred: list[int], s: int, d: int, seconds: float) -> Route:
        # Following predecessor links is sequential by nature; it costs one step per node
        # on the path (hundreds), never per node of the graph.
        path = [d]
        while path[-1] != s:
            path.append(pred[path[-1]])
        nodes = np.array(path[::-1], dtype=np.int64)
        edges = self.graph.link_edges(nodes[:-1], nodes[1:])
        return Route(
            nodes=nodes,
            edges=edges,
            seconds=seconds,
            metres=float(self.graph.edge_length_m[edges].sum()),
            line=path_line(self.graph, edges, s),
        )


def path_line(graph: RoadGraph, edges: I64, start: int) -> F64:
    """Return the lon/lat polyline of consecutive edges from start, joints not repeated."""
    if len(edges) == 0 or graph.geom_offsets is None or graph.geom_coords is None:
        nodes = np.concatenate([[start], graph.edge_to[edges]]).astype(np.int64)
        return np.column_stack([graph.node_lon[nodes], graph.node_lat[nodes]])
    starts = graph.geom_offsets[edges]
    lengths = graph.geom_offsets[edges + 1] - starts
    # Every edge after the first starts where the one before it ended: skip that point.
    skip = np.ones(len(edges), dtype=np.int64)
    skip[0] = 0
    return graph.geom_coords[ragged_ranges(starts + skip, lengths - skip)]
