"""Helpers for building road graphs: ragged index ranges, distances, graphs from bare edges.

Importers (CBEngine, OSM) and synthetic graphs (tests, benchmarks) share these; the
RoadGraph itself does not need them.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from opencitybrain.geo.roadgraph import (
    ALL_TURNS,
    EARTH_RADIUS_M,
    F64,
    I64,
    U8,
    RoadClass,
    RoadGraph,
)


def ragged_ranges(starts: I64, lengths: I64) -> I64:
    """Return the concatenation of ``arange(s, s + n)`` for every start and length."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    # Each position's offset inside its own run, then shifted by that run's start.
    inner = np.arange(total, dtype=np.int64) - np.repeat(ends - lengths, lengths)
    return np.repeat(np.asarray(starts, dtype=np.int64), lengths) + inner


def uniform_lane_turns(lanes: I64, turns: int = ALL_TURNS) -> tuple[I64, U8]:
    """Return lane offsets and per-lane turns giving every lane the same movements."""
    offsets = np.zeros(len(lanes) + 1, dtype=np.int64)
    np.cumsum(lanes, out=offsets[1:])
    return offsets, np.full(int(offsets[-1]), turns, dtype=np.uint8)


def haversine_m(lon1: F64, lat1: F64, lon2: F64, lat2: F64) -> F64:
    """Return great-circle distances in metres between paired points."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    )
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))), np.float64)


def graph_from_edges(
    node_lon: npt.ArrayLike,
    node_lat: npt.ArrayLike,
    edge_from: npt.ArrayLike,
    edge_to: npt.ArrayLike,
    length_m: npt.ArrayLike,
    speed_mps: npt.ArrayLike,
    *,
    road_class: RoadClass = RoadClass.LOCAL,
    name: str = "",
) -> RoadGraph:
    """Build a graph from bare edges: ids are indices, one lane, all turns, no signals."""
    lon = np.asarray(node_lon, dtype=np.float64)
    src = np.asarray(edge_from, dtype=np.int64)
    lanes = np.ones(len(src), dtype=np.int64)
    offsets, turns = uniform_lane_turns(lanes)
    return RoadGraph(
        node_ids=np.arange(len(lon)),
        node_lon=lon,
        node_lat=np.asarray(node_lat, dtype=np.float64),
        node_signalized=np.zeros(len(lon), dtype=bool),
        edge_ids=np.arange(len(src)),
        edge_from=src,
        edge_to=np.asarray(edge_to, dtype=np.int64),
        edge_length_m=np.asarray(length_m, dtype=np.float64),
        edge_speed_mps=np.broadcast_to(np.asarray(speed_mps, dtype=np.float64), src.shape),
        edge_lanes=lanes,
        edge_class=np.full(len(src), road_class, dtype=np.int8),
        lane_offsets=offsets,
        lane_turns=turns,
        name=name,
    )
