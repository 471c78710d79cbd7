"""The road graph: intersections and directed road edges held as immutable numpy arrays.

Nodes are intersections; edges are directed road segments. Every per-node or per-edge
attribute is one array, so routing, snapping and statistics are whole-array operations.
Ragged per-edge data (lane turns, polylines) is stored CSR-style: one flat array plus an
offsets array of length ``n_edges + 1``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import IntEnum, IntFlag
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from opencitybrain.kernel.errors import InvalidInput, NotFound

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
U8 = npt.NDArray[np.uint8]
Bool = npt.NDArray[np.bool_]

EARTH_RADIUS_M = 6_371_008.8
# A zero weight would make two intersections coincide for the router; real segments are
# never shorter than this, so it only guards against rounding in the source data.
_MIN_SECONDS = 1e-3


class RoadClass(IntEnum):
    """Name a Chinese urban road class (城市道路等级, CJJ 37)."""

    EXPRESSWAY = 0
    ARTERIAL = 1
    COLLECTOR = 2
    LOCAL = 3

    @property
    def zh(self) -> str:
        """Return the Chinese name."""
        return ("快速路", "主干路", "次干路", "支路")[self.value]

    @property
    def en(self) -> str:
        """Return the English name."""
        return ("expressway", "arterial", "collector", "local")[self.value]


class Turn(IntFlag):
    """Name the movements a lane allows, as bit flags."""

    LEFT = 1
    THROUGH = 2
    RIGHT = 4


ALL_TURNS = int(Turn.LEFT | Turn.THROUGH | Turn.RIGHT)
APPROACHES = ("N", "E", "S", "W")


def _require(ok: object, what_zh: str, what_en: str) -> None:
    # Messages are short on purpose: they name the array at fault, which is what a
    # developer building a graph by hand needs.
    if not ok:
        raise InvalidInput(
            "roadgraph.invalid", f"路网数据无效：{what_zh}", f"invalid road graph: {what_en}"
        )


@dataclass(frozen=True, slots=True)
class GraphStats:
    """Summarise a road graph: counts, signalised intersections, kilometres by class."""

    nodes: int
    edges: int
    signalized: int
    km_by_class: dict[RoadClass, float]
    largest_scc_share: float

    @property
    def total_km(self) -> float:
        """Return the total directed length in kilometres."""
        return sum(self.km_by_class.values())


# Constructor arrays and their dtypes; every one is copied, cast and frozen on construction.
_ARRAYS: dict[str, Any] = {
    **dict.fromkeys(("node_ids", "edge_ids", "edge_from", "edge_to", "edge_lanes"), np.int64),
    **dict.fromkeys(("lane_offsets", "signal_nodes", "signal_approaches"), np.int64),
    **dict.fromkeys(("node_lon", "node_lat", "edge_length_m", "edge_speed_mps"), np.float64),
    "node_signalized": np.bool_,
    "edge_class": np.int8,
    "lane_turns": np.uint8,
}


@dataclass(frozen=True, eq=False)
class RoadGraph:
    """Hold an immutable directed road graph; build it with every array as a keyword."""

    node_ids: I64
    node_lon: F64
    node_lat: F64
    node_signalized: Bool
    edge_ids: I64
    edge_from: I64
    edge_to: I64
    edge_length_m: F64
    edge_speed_mps: F64
    edge_lanes: I64
    edge_class: npt.NDArray[np.int8]
    lane_offsets: I64
    lane_turns: U8
    geom_offsets: I64 | None = None
    geom_coords: F64 | None = None
    signal_nodes: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    signal_approaches: I64 = field(default_factory=lambda: np.zeros((0, 4), np.int64))
    name: str = ""
    edge_turns: U8 = field(init=False)

    def __post_init__(self) -> None:
        for name, dtype in _ARRAYS.items():
            self._freeze(name, np.array(getattr(self, name), dtype=dtype))
        if self.geom_offsets is not None or self.geom_coords is not None:
            both = self.geom_offsets is not None and self.geom_coords is not None
            _require(both, "折线偏移与坐标须同时给出", "geometry offsets and coords go together")
            self._freeze("geom_offsets", np.array(self.geom_offsets, dtype=np.int64))
            self._freeze("geom_coords", np.array(self.geom_coords, dtype=np.float64))
        self._validate()
        turns = np.zeros(self.n_edges, dtype=np.uint8)
        if self.n_edges:
            # Every edge has at least one lane, so each reduceat slice is non-empty.
            turns = np.bitwise_or.reduceat(self.lane_turns, self.lane_offsets[:-1])
        self._freeze("edge_turns", turns.astype(np.uint8))

    def _freeze(self, name: str, arr: npt.NDArray[Any]) -> None:
        arr.flags.writeable = False
        object.__setattr__(self, name, arr)

    def _validate(self) -> None:
        n, e, s = len(self.node_ids), len(self.edge_ids), len(self.signal_nodes)
        per_node = ("node_lon", "node_lat", "node_signalized")
        per_edge = ("edge_from", "edge_to", "edge_length_m", "edge_speed_mps", "edge_lanes")
        for name in (*per_node, *per_edge, "edge_class"):
            size = n if name in per_node else e
            _require(getattr(self, name).shape == (size,), f"{name} 长度须为 {size}", name)
        _require(np.isin(self.edge_class, list(RoadClass)).all(), "道路等级越界", "edge_class")
        unique = len(np.unique(self.node_ids)) == n and len(np.unique(self.edge_ids)) == e
        _require(unique, "路口或道路编号重复", "duplicate node or edge ids")
        ends = np.concatenate([self.edge_from, self.edge_to, [0]])
        _require(ends.min() >= 0 and ends.max() < max(n, 1), "道路端点越界", "edge endpoints")
        for arr in (self.edge_length_m, self.edge_speed_mps):
            _require(
                (arr > 0).all() and np.isfinite(arr).all(), "长度和限速须为正数", "length/speed"
            )
        lo, go, gc = self.lane_offsets, self.geom_offsets, self.geom_coords
        _require((self.edge_lanes >= 1).all(), "每条道路至少一条车道", "every edge needs a lane")
        lanes_ok = lo.shape == (e + 1,) and lo[0] == 0 and lo[-1] == len(self.lane_turns)
        lanes_ok = lanes_ok and np.array_equal(np.diff(lo), self.edge_lanes)
        _require(lanes_ok, "车道偏移与车道数不符", "lane_offsets must match edge_lanes")
        _require((self.lane_turns <= ALL_TURNS).all(), "车道转向值越界", "lane turns are flags")
        if go is not None and gc is not None:
            geom_ok = go.shape == (e + 1,) and go[0] == 0 and go[-1] == len(gc) and gc.ndim == 2
            geom_ok = geom_ok and bool((np.diff(go) >= 2).all())
            _require(geom_ok, "折线偏移与坐标不符或少于两点", "geometry offsets/coords")
        sig = self.signal_approaches
        sig_ok = sig.shape == (s, 4) and (s == 0 or (sig.min() >= -1 and sig.max() < e))
        sig_ok = sig_ok and (
            s == 0 or (self.signal_nodes.min() >= 0 and self.signal_nodes.max() < n)
        )
        _require(sig_ok, "信号路口或进口越界", "signal nodes / approaches (S, 4)")

    @property
    def n_nodes(self) -> int:
        """Return the number of intersections."""
        return len(self.node_ids)

    @property
    def n_edges(self) -> int:
        """Return the number of directed edges."""
        return len(self.edge_ids)

    @cached_property
    def edge_seconds(self) -> F64:
        """Return free-flow travel time per edge in seconds."""
        sec = np.maximum(self.edge_length_m / self.edge_speed_mps, _MIN_SECONDS)
        sec.flags.writeable = False
        return sec

    def lane_turns_of(self, edge: int) -> U8:
        """Return the Turn flags of each lane of one edge, lane 0 first."""
        return self.lane_turns[self.lane_offsets[edge] : self.lane_offsets[edge + 1]]

    def node_index(self, node_id: int) -> int:
        """Return the index of the intersection with this original id."""
        return int(self.node_indices(np.array([node_id]))[0])

    def node_indices(self, node_ids: npt.ArrayLike) -> I64:
        """Return indices of intersections by original id; raise NotFound for unknown ids."""
        return _lookup(self.node_ids, self._node_order, node_ids, "路口", "intersection")

    def edge_index(self, edge_id: int) -> int:
        """Return the index of the edge with this original id."""
        return int(self.edge_indices(np.array([edge_id]))[0])

    def edge_indices(self, edge_ids: npt.ArrayLike) -> I64:
        """Return indices of edges by original id; raise NotFound for unknown ids."""
        return _lookup(self.edge_ids, self._edge_order, edge_ids, "道路", "road")

    @cached_property
    def _node_order(self) -> I64:
        return np.argsort(self.node_ids, kind="stable")

    @cached_property
    def _edge_order(self) -> I64:
        return np.argsort(self.edge_ids, kind="stable")

    @cached_property
    def _frame(self) -> tuple[float, float, float]:
        lon0, lat0 = float(np.mean(self.node_lon)), float(np.mean(self.node_lat))
        return lon0, lat0, float(np.cos(np.radians(lat0)))

    def _local_xy(self, lon: F64, lat: F64) -> F64:
        # An equirectangular frame centred on the city: metric to well under 1 % across a
        # city, which is all snapping needs, and far cheaper than a projection library.
        lon0, lat0, c = self._frame
        k = np.pi / 180 * EARTH_RADIUS_M
        return np.column_stack([(lon - lon0) * k * c, (lat - lat0) * k])

    @cached_property
    def _kdtree(self) -> cKDTree:
        return cKDTree(self._local_xy(self.node_lon, self.node_lat))

    def nearest_nodes(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[I64, F64]:
        """Return the nearest intersection index and its distance in metres for each point."""
        x = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        y = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        if x.shape != y.shape or not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise InvalidInput(
                "roadgraph.bad_point",
                "经纬度须为等长的有限数",
                "lon and lat must be finite and of equal length",
            )
        if self.n_nodes == 0:
            raise NotFound("roadgraph.empty", "路网没有路口", "the road graph has no intersections")
        dist, idx = self._kdtree.query(self._local_xy(x, y))
        return np.asarray(idx, dtype=np.int64), np.asarray(dist, dtype=np.float64)

    def edge_lines(self) -> list[F64]:
        """Return each edge's polyline as a (k, 2) lon/lat array (straight if no geometry)."""
        if self.geom_offsets is not None and self.geom_coords is not None:
            return np.split(self.geom_coords, self.geom_offsets[1:-1])
        ends = np.stack(
            [
                np.column_stack([self.node_lon[self.edge_from], self.node_lat[self.edge_from]]),
                np.column_stack([self.node_lon[self.edge_to], self.node_lat[self.edge_to]]),
            ],
            axis=1,
        )
        return list(ends)

    def stats(self) -> GraphStats:
        """Return counts, signalised intersections, km by road class and largest SCC share."""
        km = np.bincount(self.edge_class, weights=self.edge_length_m, minlength=4) / 1000.0
        share = 0.0
        if self.n_nodes:
            _, labels = connected_components(self.travel_time_csr(), connection="strong")
            share = float(np.bincount(labels).max() / self.n_nodes)
        return GraphStats(
            nodes=self.n_nodes,
            edges=self.n_edges,
            signalized=int(self.node_signalized.sum()),
            km_by_class={c: float(km[c]) for c in RoadClass},
            largest_scc_share=share,
        )

    @cached_property
    def _links(self) -> tuple[I64, I64]:
        # One link per (from, to) pair, carried by its fastest edge; self-loops never help.
        keep = np.flatnonzero(self.edge_from != self.edge_to)
        keys = self.edge_from[keep] * self.n_nodes + self.edge_to[keep]
        order = np.lexsort((self.edge_seconds[keep], keys))
        keys = keys[order]
        first = np.ones(len(keys), dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        return keys[first], keep[order][first]

    def link_edges(self, src: npt.ArrayLike, dst: npt.ArrayLike) -> I64:
        """Return the fastest edge from each src node to each dst node, or -1 if none."""
        keys, edges = self._links
        want = np.asarray(src, dtype=np.int64) * self.n_nodes + np.asarray(dst, dtype=np.int64)
        pos = np.minimum(np.searchsorted(keys, want), max(len(keys) - 1, 0))
        if len(keys) == 0:
            return np.full(want.shape, -1, dtype=np.int64)
        return np.where(keys[pos] == want, edges[pos], -1)

    def _csr(self, weights: F64) -> csr_matrix:
        keys, _ = self._links
        rows, cols = np.divmod(keys, self.n_nodes)
        indptr = np.zeros(self.n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=self.n_nodes), out=indptr[1:])
        return csr_matrix((weights, cols, indptr), shape=(self.n_nodes, self.n_nodes))

    def travel_time_csr(self) -> csr_matrix:
        """Return the (n, n) free-flow travel-time matrix in seconds, fastest parallel edge."""
        return self._csr(self.edge_seconds[self._links[1]])

    def length_csr(self) -> csr_matrix:
        """Return the (n, n) length matrix in metres, shortest parallel edge."""
        keep = self.edge_from != self.edge_to
        keys = self.edge_from[keep] * self.n_nodes + self.edge_to[keep]
        best = np.full(len(self._links[0]), np.inf)
        np.minimum.at(best, np.searchsorted(self._links[0], keys), self.edge_length_m[keep])
        return self._csr(best)

    def reversed(self) -> RoadGraph:
        """Return the graph with every edge pointing the other way."""
        go, gc = self.geom_offsets, self.geom_coords
        if go is not None and gc is not None:
            # Point i of edge e moves to mirror position start + end - 1 - i.
            edge_of_point = np.repeat(np.arange(self.n_edges), np.diff(go))
            gc = gc[go[edge_of_point] + go[edge_of_point + 1] - 1 - np.arange(len(gc))]
        name = f"{self.name} (reversed)"
        return replace(
            self, edge_from=self.edge_to, edge_to=self.edge_from, geom_coords=gc, name=name
        )

    def arrays(self) -> dict[str, Any]:
        """Return the constructor arguments, so a graph can be copied with changes."""
        out: dict[str, Any] = {name: getattr(self, name) for name in _ARRAYS}
        out.update(geom_offsets=self.geom_offsets, geom_coords=self.geom_coords, name=self.name)
        return out

    def save(self, path: Path) -> None:
        """Write the graph to an ``.npz`` file."""
        arrays: dict[str, Any] = {
            k: v for k, v in self.arrays().items() if isinstance(v, np.ndarray)
        }
        arrays["name"] = np.array(self.name)
        with path.open("wb") as fh:
            np.savez(fh, **arrays)

    @classmethod
    def load(cls, path: Path) -> RoadGraph:
        """Read a graph written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            kwargs: dict[str, Any] = {k: data[k] for k in data.files if k != "name"}
            return cls(**kwargs, name=str(data["name"]))


def _lookup(ids: I64, order: I64, wanted: npt.ArrayLike, zh: str, en: str) -> I64:
    want = np.atleast_1d(np.asarray(wanted, dtype=np.int64))
    if len(ids) == 0:
        raise NotFound("roadgraph.unknown_id", f"未知{zh}编号", f"unknown {en} id")
    pos = np.minimum(np.searchsorted(ids, want, sorter=order), len(ids) - 1)
    found = order[pos]
    missing = want[ids[found] != want]
    if len(missing):
        shown = ", ".join(str(x) for x in missing[:5].tolist())
        raise NotFound(
            "roadgraph.unknown_id", f"未知{zh}编号：{shown}", f"unknown {en} id(s): {shown}"
        )
    return found
