"""Match GPS points to the nearest road segment within a radius, a whole batch at once.

Why not ``STRtree.query_nearest``: on the Nanchang network it matched about 70,000
points/s (measured), a quarter of the budget for the whole pipeline. Here the STRtree
holds each segment's envelope grown by the radius; one bulk ``query`` (over a million
points/s) yields the candidate pairs, numpy measures point-to-segment distances for all
pairs at once, and a sort keeps the nearest per point. Same answer, several times faster.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from opencitybrain.geo.projection import LocalProjection
from opencitybrain.geo.roadgraph import RoadGraph

__all__ = ["Matched", "RoadMatcher"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Matched:
    """Hold, per point, the matched edge (-1: none within the radius), distance, limit."""

    edge: I64
    distance_m: F64
    limit_kmh: F64


class RoadMatcher:
    """Find each point's nearest road segment, in projected metres."""

    def __init__(self, graph: RoadGraph, projection: LocalProjection, radius_m: float) -> None:
        self.radius_m = float(radius_m)
        self.edge_limit_kmh = graph.edge_speed_mps * 3.6
        lines = graph.edge_lines()
        counts = np.fromiter((len(line) - 1 for line in lines), np.int64, len(lines))
        coords = np.concatenate(lines) if lines else np.zeros((0, 2))
        x, y = projection.to_metres(coords[:, 0], coords[:, 1])
        # Segment k of edge e joins vertex j to j+1 of its polyline; skip each line's last.
        starts = np.cumsum(np.concatenate([[0], counts + 1]))[:-1]
        first = np.repeat(starts, counts) + _ranks(counts)
        self.seg_edge = np.repeat(np.arange(len(lines), dtype=np.int64), counts)
        self.ax, self.ay = x[first], y[first]
        self.bx, self.by = x[first + 1], y[first + 1]
        r = self.radius_m
        boxes = shapely.box(
            np.minimum(self.ax, self.bx) - r,
            np.minimum(self.ay, self.by) - r,
            np.maximum(self.ax, self.bx) + r,
            np.maximum(self.ay, self.by) + r,
        )
        self.tree = shapely.STRtree(boxes)
        self.min_limit_kmh = float(self.edge_limit_kmh.min()) if len(lines) else np.inf

    def match(self, x: F64, y: F64) -> Matched:
        """Return the nearest segment's edge within the radius for each point."""
        n = len(x)
        edge = np.full(n, -1, dtype=np.int64)
        dist = np.full(n, np.inf)
        limit = np.full(n, np.nan)
        if n == 0 or len(self.seg_edge) == 0:
            return Matched(edge, dist, limit)
        pi, si = self.tree.query(shapely.points(x, y))
        d = _segment_distance(x[pi], y[pi], self.ax[si], self.ay[si], self.bx[si], self.by[si])
        near = d <= self.radius_m
        pi, si, d = pi[near], si[near], d[near]
        # Nearest first within each point; the first row of each point is its match.
        order = np.lexsort((d, pi))
        pi, si, d = pi[order], si[order], d[order]
        head = np.ones(len(pi), dtype=np.bool_)
        head[1:] = pi[1:] != pi[:-1]
        p = pi[head]
        edge[p] = self.seg_edge[si[head]]
        dist[p] = d[head]
        limit[p] = self.edge_limit_kmh[edge[p]]
        return Matched(edge, dist, limit)


def _ranks(counts: I64) -> I64:
    """Return 0..c-1 for each count c, concatenated."""
    total = int(counts.sum())
    starts = np.cumsum(counts) - counts
    return np.arange(total, dtype=np.int64) - np.repeat(starts, counts)


def _segment_distance(px: F64, py: F64, ax: F64, ay: F64, bx: F64, by: F64) -> F64:
    """Return the distance from each point to its segment, all in one pass."""
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        u = ((px - ax) * dx + (py - ay) * dy) / length2
    u = np.clip(np.nan_to_num(u, nan=0.0), 0.0, 1.0)  # a zero-length segment is its start
    return np.hypot(px - (ax + u * dx), py - (ay + u * dy))
