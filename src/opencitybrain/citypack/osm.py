"""Read an OpenStreetMap ``.osm.pbf`` extract into a RoadGraph.

Drivable highway ways are kept. A node becomes an intersection when it ends a way or is
used more than once (shared by two ways, or a loop); ways are split at intersections into
edges that keep their polyline. One pass over the file reads nodes and ways together, the
way-node locations coming from pyosmium's location cache; everything after that pass is
whole-array numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import osmium
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from opencitybrain.citypack.osm_tags import WayAttrs, way_attrs
from opencitybrain.geo.roadgraph import F64, I64, RoadGraph
from opencitybrain.geo.roadgraph_build import haversine_m, ragged_ranges
from opencitybrain.kernel.errors import InvalidInput

# A signal mapped on the approach, not on the junction node itself, is normally within a
# few tens of metres of the stop line.
SIGNAL_SNAP_M = 30.0
_UNDEFINED_COORD = 2147483647  # osmium's fixed-point value for a missing location
_ID_SHIFT = 20  # edge id = way id << 20 | segment index << 1 | reversed


@dataclass(frozen=True, slots=True)
class BBox:
    """Bound an import to a lon/lat rectangle."""

    west: float
    south: float
    east: float
    north: float


@dataclass(eq=False)
class _Ways:
    """The raw pass over the file: every kept way's points and attributes."""

    points: list[tuple[int, int, int]]
    counts: list[int]
    way_ids: list[int]
    attrs: list[WayAttrs]
    signals: list[int]


def _scan(path: Path) -> _Ways:
    ways = _Ways([], [], [], [], [])
    entities = osmium.osm.NODE | osmium.osm.WAY
    processor = osmium.FileProcessor(str(path), entities).with_locations()
    for obj in processor.with_filter(osmium.filter.KeyFilter("highway")):
        if isinstance(obj, osmium.osm.Node):
            if obj.tags.get("highway") == "traffic_signals":
                ways.signals.append(obj.id)
            continue
        if not isinstance(obj, osmium.osm.Way):
            continue
        attrs = way_attrs(dict(obj.tags))
        if attrs is None:
            continue
        pts = [(n.ref, n.x, n.y) for n in obj.nodes]
        ways.points.extend(pts)
        ways.counts.append(len(pts))
        ways.way_ids.append(obj.id)
        ways.attrs.append(attrs)
    return ways


def read_osm(
    path: Path, *, bbox: BBox | None = None, name: str = "", largest_component: bool = False
) -> RoadGraph:
    """Read drivable roads of an ``.osm.pbf`` file into a RoadGraph."""
    if not path.is_file():
        raise InvalidInput("osm.missing", f"找不到 OSM 文件：{path}", f"OSM file not found: {path}")
    try:
        ways = _scan(path)
    except RuntimeError as exc:
        raise InvalidInput(
            "osm.unreadable",
            f"无法读取 OSM 文件 {path.name}：{exc}",
            f"cannot read {path.name}: {exc}",
        ) from exc
    pts = np.array(ways.points, dtype=np.int64).reshape(-1, 3)
    way = np.repeat(np.arange(len(ways.counts)), ways.counts)
    ok = pts[:, 1] != _UNDEFINED_COORD
    lon, lat = pts[:, 1] / 1e7, pts[:, 2] / 1e7
    if bbox is not None:
        ok &= (lon >= bbox.west) & (lon <= bbox.east) & (lat >= bbox.south) & (lat <= bbox.north)
    # A missing or out-of-box point cuts its way into separate runs.
    keep = np.flatnonzero(ok)
    new_run = np.ones(len(keep), dtype=bool)
    new_run[1:] = (way[keep][1:] != way[keep][:-1]) | (np.diff(keep) != 1)
    run = np.cumsum(new_run) - 1
    keep = keep[np.bincount(run)[run] >= 2] if len(keep) else keep
    if len(keep) == 0:
        raise InvalidInput("osm.empty", "范围内没有可通车道路", "no drivable roads in the extract")
    ref, lon, lat, way = pts[keep, 0], lon[keep], lat[keep], way[keep]
    new_run = np.ones(len(keep), dtype=bool)
    new_run[1:] = (way[1:] != way[:-1]) | (np.diff(keep) != 1)
    run_end = np.append(new_run[1:], True)
    _, inv, cnt = np.unique(ref, return_inverse=True, return_counts=True)
    is_inter = (cnt[inv] >= 2) | new_run | run_end
    seg = haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:])
    seg[new_run[1:]] = 0.0
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    p = np.flatnonzero(is_inter)
    a, b = p[:-1][~run_end[p[:-1]]], p[1:][~run_end[p[:-1]]]
    points = _Points(ref, lon, lat, way, cum, is_inter)
    return _assemble(ways, points, a, b, largest_component, name)


@dataclass(frozen=True, eq=False)
class _Points:
    """Kept way points in file order, with cumulative distance along their runs."""

    ref: I64
    lon: F64
    lat: F64
    way: I64
    cum: F64
    is_inter: npt.NDArray[np.bool_]


def _assemble(
    ways: _Ways, pt: _Points, a: I64, b: I64, largest_component: bool, name: str
) -> RoadGraph:
    at, ref, lon, lat, cum = ways.attrs, pt.ref, pt.lon, pt.lat, pt.cum
    w = pt.way[a]
    first_of_way = np.searchsorted(w, w)  # w is sorted: way order is file order
    seg_idx = np.arange(len(a)) - first_of_way
    fwd = np.array([x.forward for x in at])[w]
    bwd = np.array([x.backward for x in at])[w]
    # Directed edges as point ranges: head -> tail along the flat point arrays.
    head = np.concatenate([a[fwd], b[bwd]])
    tail = np.concatenate([b[fwd], a[bwd]])
    rev = np.concatenate([np.zeros(fwd.sum(), bool), np.ones(bwd.sum(), bool)])
    ew = np.concatenate([w[fwd], w[bwd]])
    eseg = np.concatenate([seg_idx[fwd], seg_idx[bwd]])
    if largest_component:
        nodes, inv = np.unique(np.concatenate([ref[head], ref[tail]]), return_inverse=True)
        n_edges = len(head)
        adj = coo_matrix((np.ones(n_edges), (inv[:n_edges], inv[n_edges:])), (len(nodes),) * 2)
        _, labels = connected_components(adj, connection="strong")
        big = np.bincount(labels).argmax()
        keep = labels[inv[:n_edges]] == big
        keep &= labels[inv[n_edges:]] == big
        head, tail, rev, ew, eseg = head[keep], tail[keep], rev[keep], ew[keep], eseg[keep]
    node_ids = np.unique(np.concatenate([ref[head], ref[tail]]))
    npts = np.abs(tail - head) + 1
    inner = ragged_ranges(np.zeros(len(head), np.int64), npts)
    step = np.where(rev, -1, 1)
    geom_idx = np.repeat(head, npts) + np.repeat(step, npts) * inner
    geom_offsets = np.concatenate([[0], np.cumsum(npts)])
    speeds = np.array([[x.speed_fwd_mps, x.speed_bwd_mps] for x in at]).reshape(-1, 2)
    lanes_w = np.array([[x.lanes_fwd, x.lanes_bwd] for x in at], dtype=np.int64).reshape(-1, 2)
    lanes = lanes_w[ew, rev.astype(np.int64)]
    flat_turns = np.array([t for x in at for t in (*x.turns_fwd, *x.turns_bwd)], dtype=np.uint8)
    turn_start = np.concatenate([[0], np.cumsum(lanes_w.sum(axis=1))])[:-1]
    lane_src = ragged_ranges(turn_start[ew] + np.where(rev, lanes_w[ew, 0], 0), lanes)
    way_ids = np.array(ways.way_ids, dtype=np.int64)[ew]
    edge_ids = (way_ids << _ID_SHIFT) | (eseg << 1) | rev.astype(np.int64)
    signalized = np.isin(node_ids, _signal_refs(ways.signals, pt))
    from_idx = np.searchsorted(node_ids, ref[head])
    geom = np.column_stack([lon[geom_idx], lat[geom_idx]])
    sig_nodes = np.flatnonzero(signalized)
    uniq, first = np.unique(ref, return_index=True)
    node_pos = first[np.searchsorted(uniq, node_ids)]
    return RoadGraph(
        node_ids=node_ids,
        node_lon=lon[node_pos],
        node_lat=lat[node_pos],
        node_signalized=signalized,
        edge_ids=edge_ids,
        edge_from=from_idx,
        edge_to=np.searchsorted(node_ids, ref[tail]),
        edge_length_m=np.maximum(np.abs(cum[tail] - cum[head]), 0.1),
        edge_speed_mps=speeds[ew, rev.astype(np.int64)],
        edge_lanes=lanes,
        edge_class=np.array([x.road_class for x in at], dtype=np.int8)[ew],
        lane_offsets=np.concatenate([[0], np.cumsum(lanes)]),
        lane_turns=flat_turns[lane_src],
        geom_offsets=geom_offsets,
        geom_coords=geom,
        signal_nodes=sig_nodes,
        signal_approaches=_approaches(sig_nodes, from_idx, geom, geom_offsets),
        name=name,
    )


def _signal_refs(signals: list[int], pt: _Points) -> I64:
    """Return ids of intersections marked by a traffic_signals node on or near them."""
    at = np.flatnonzero(np.isin(pt.ref, np.array(signals, dtype=np.int64)))
    idx = np.arange(len(pt.ref))
    # Nearest intersection before and after every point along its run (runs start and end
    # at intersections, so neither search leaves the run).
    prev = np.maximum.accumulate(np.where(pt.is_inter, idx, 0))[at]
    nxt = np.minimum.accumulate(np.where(pt.is_inter, idx, len(idx) - 1)[::-1])[::-1][at]
    d_prev, d_next = pt.cum[at] - pt.cum[prev], pt.cum[nxt] - pt.cum[at]
    pick = np.where(d_prev <= d_next, prev, nxt)
    return pt.ref[pick[np.minimum(d_prev, d_next) <= SIGNAL_SNAP_M]]


def _approaches(sig_nodes: I64, edge_from: I64, geom: F64, geom_offsets: I64) -> I64:
    """Return, per signalised node, its exiting edge closest to north, east, south, west."""
    out = np.full((len(sig_nodes), 4), -1, dtype=np.int64)
    e = np.flatnonzero(np.isin(edge_from, sig_nodes))
    p0, p1 = geom[geom_offsets[e]], geom[geom_offsets[e] + 1]
    dx = (p1[:, 0] - p0[:, 0]) * np.cos(np.radians(p0[:, 1]))
    bearing = np.degrees(np.arctan2(dx, p1[:, 1] - p0[:, 1])) % 360
    sector = ((bearing + 45) // 90).astype(np.int64) % 4
    deviation = np.abs((bearing - sector * 90 + 180) % 360 - 180)
    row = np.searchsorted(sig_nodes, edge_from[e])
    order = np.lexsort((deviation, sector, row))
    row, sector, e = row[order], sector[order], e[order]
    first = np.ones(len(e), dtype=bool)
    first[1:] = (row[1:] != row[:-1]) | (sector[1:] != sector[:-1])
    out[row[first], sector[first]] = e[first]
    return out
