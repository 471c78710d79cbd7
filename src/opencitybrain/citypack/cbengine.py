"""Read CBEngine road networks and flow files (KDD Cup 2021 City Brain Challenge format).

Road network layout, one record per line::

    N / N x "lat lon inter_id signalized"
    M / M x ("from to length_m speed_mps lanes1 lanes2 id1 id2", lanes1 movements, lanes2 movements)
    S / S x "inter_id road_N road_E road_S road_W"   (exiting road ids, -1 = none)

A movement line holds three 0/1 digits per lane: left, through, right. Flow files hold a
count, then per flow ``start end interval`` / ``k`` / ``k road ids`` (the route).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from opencitybrain.geo.roadgraph import F64, I64, RoadClass, RoadGraph
from opencitybrain.kernel.errors import FieldError, InvalidInput

# Speed limits in this format are km/h values converted to m/s (80, 60, 50, 40, 20, 10).
# Thresholds sit between them so rounding in the file never changes a class.
_CLASS_THRESHOLDS_MPS = (20.0, 15.0, 12.5)


def road_class_for_speed(speed_mps: npt.ArrayLike) -> npt.NDArray[np.int8]:
    """Return road classes by speed: 80 km/h expressway, 60 arterial, 50 collector, less local."""
    s = np.asarray(speed_mps, dtype=np.float64)
    hi, mid, lo = _CLASS_THRESHOLDS_MPS
    return np.select(
        [s >= hi, s >= mid, s >= lo],
        [RoadClass.EXPRESSWAY, RoadClass.ARTERIAL, RoadClass.COLLECTOR],
        RoadClass.LOCAL,
    ).astype(np.int8)


class _Lines:
    """Walk the non-blank lines of a text, remembering line numbers for error messages."""

    def __init__(self, text: str, source: str, *, skip_blank: bool = True) -> None:
        # Flow files keep blank lines: an empty route is a record, not a gap.
        self._it: Iterator[tuple[int, str]] = (
            (n, line)
            for n, line in enumerate(text.splitlines(), start=1)
            if line.strip() or not skip_blank
        )
        self.source = source
        self.lineno = 0

    def next(self, what_zh: str, what_en: str) -> list[str]:
        """Return the next line's tokens; raise if the text ends first."""
        try:
            self.lineno, line = next(self._it)
        except StopIteration:
            raise self.error(
                f"文件提前结束，缺少{what_zh}", f"file ends early, {what_en} missing"
            ) from None
        return line.split()

    def rest(self) -> list[tuple[int, str]]:
        """Return every remaining non-blank line."""
        return [(n, line) for n, line in self._it if line.strip()]

    def error(self, zh: str, en: str, lineno: int | None = None) -> InvalidInput:
        """Build an error naming the source and line."""
        n = self.lineno if lineno is None else lineno
        return InvalidInput(
            "cbengine.malformed",
            f"{self.source} 第 {n} 行：{zh}",
            f"{self.source} line {n}: {en}",
            (FieldError(f"line {n}", en),),
        )

    def numbers(self, tokens: list[str], kinds: str, zh: str, en: str) -> list[float]:
        """Parse tokens as numbers, 'i' for int and 'f' for float per position."""
        if len(tokens) != len(kinds):
            raise self.error(
                f"{zh}应有 {len(kinds)} 个字段，实有 {len(tokens)} 个",
                f"{en} needs {len(kinds)} fields, found {len(tokens)}",
            )
        try:
            return [int(t) if k == "i" else float(t) for t, k in zip(tokens, kinds, strict=True)]
        except ValueError:
            raise self.error(f"{zh}含非数字字段", f"{en} has a non-numeric field") from None

    def ints(self, tokens: list[str], n: int, zh: str, en: str) -> list[int]:
        """Parse exactly n integer tokens (the fast path for long route lines)."""
        if len(tokens) != n:
            raise self.error(
                f"{zh}应有 {n} 个字段，实有 {len(tokens)} 个",
                f"{en} needs {n} fields, found {len(tokens)}",
            )
        try:
            return [int(t) for t in tokens]
        except ValueError:
            raise self.error(f"{zh}含非整数字段", f"{en} has a non-integer field") from None

    def count(self, zh: str, en: str) -> int:
        """Parse a record count line."""
        (n,) = self.numbers(self.next(zh, en), "i", zh, en)
        if n < 0:
            raise self.error(f"{zh}不能为负", f"{en} cannot be negative")
        return int(n)


def parse_cbengine_roadnet(text: str, *, source: str = "roadnet", name: str = "") -> RoadGraph:
    """Parse CBEngine road-network text into a RoadGraph; errors name the line."""
    lines = _Lines(text, source)
    n = lines.count("路口数", "intersection count")
    lat, lon = np.empty(n), np.empty(n)
    signalized = np.empty(n, bool)
    index_of: dict[int, int] = {}  # intersection id -> index
    for i in range(n):
        a, b, c, d = lines.numbers(
            lines.next("路口", "intersection"), "ffii", "路口行", "intersection line"
        )
        if d not in (0, 1):
            raise lines.error("信号标志须为 0 或 1", "signalized flag must be 0 or 1")
        if not (abs(a) <= 90 and abs(b) <= 180):
            raise lines.error("路口坐标越界", "intersection coordinates out of range")
        if int(c) in index_of:
            raise lines.error(f"路口编号 {int(c)} 重复", f"duplicate intersection id {int(c)}")
        lat[i], lon[i], signalized[i], index_of[int(c)] = a, b, d, i

    def node_of(inter_id: int) -> int:
        if inter_id not in index_of:
            raise lines.error(f"未知路口 {inter_id}", f"unknown intersection {inter_id}")
        return index_of[inter_id]

    m = lines.count("道路数", "road count")
    rows: list[tuple[int, int, float, float, int, int]] = []  # from, to, length, speed, lanes, id
    turns: list[int] = []
    edge_of: dict[int, int] = {}  # road id -> edge index
    for _ in range(m):
        f, t, length, speed, l1, l2, id1, id2 = lines.numbers(
            lines.next("道路", "road"), "iiffiiii", "道路行", "road line"
        )
        if length <= 0 or speed <= 0 or not np.isfinite([length, speed]).all():
            raise lines.error("长度和限速须为正数", "length and speed limit must be positive")
        if l1 < 1 or l2 < 1:
            raise lines.error("每个方向至少一条车道", "each direction needs at least one lane")
        for rid in (int(id1), int(id2)):
            if rid in edge_of or id1 == id2:
                raise lines.error(f"道路编号 {rid} 重复", f"duplicate road id {rid}")
            edge_of[rid] = len(edge_of)
        u, v = node_of(int(f)), node_of(int(t))
        for lanes, a, b, rid in ((int(l1), u, v, int(id1)), (int(l2), v, u, int(id2))):
            digits = lines.numbers(
                lines.next("车道转向", "lane movements"),
                "i" * 3 * lanes,
                "车道转向行",
                "lane movement line",
            )
            if any(d not in (0, 1) for d in digits):
                raise lines.error("车道转向须为 0 或 1", "lane movement digits must be 0 or 1")
            # Bits: left 1, through 2, right 4 — the order the digits come in.
            turns.extend(
                int(x + 2 * y + 4 * z) for x, y, z in zip(*[iter(digits)] * 3, strict=True)
            )
            rows.append((a, b, length, speed, lanes, rid))

    s = lines.count("信号路口数", "signal count")
    sig_nodes, approaches = np.empty(s, np.int64), np.empty((s, 4), np.int64)
    for i in range(s):
        inter, *roads = lines.numbers(
            lines.next("信号路口", "signal"), "iiiii", "信号行", "signal line"
        )
        sig_nodes[i] = node_of(int(inter))
        for k, road in enumerate(int(r) for r in roads):
            if road == -1:
                approaches[i, k] = -1
                continue
            if road not in edge_of:
                raise lines.error(f"未知道路 {road}", f"unknown road {road}")
            approaches[i, k] = edge_of[road]
    extra = lines.rest()
    if extra:
        raise lines.error(
            "记录之后有多余内容", "unexpected content after the last record", extra[0][0]
        )

    cols = list(zip(*rows, strict=True)) if rows else [()] * 6
    lanes_arr = np.array(cols[4], dtype=np.int64)
    speeds = np.array(cols[3], dtype=np.float64)
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lanes_arr, out=offsets[1:])
    return RoadGraph(
        node_ids=np.fromiter(index_of, dtype=np.int64, count=n),
        node_lon=lon,
        node_lat=lat,
        node_signalized=signalized,
        edge_ids=np.fromiter(edge_of, dtype=np.int64, count=len(edge_of)),
        edge_from=np.array(cols[0], dtype=np.int64),
        edge_to=np.array(cols[1], dtype=np.int64),
        edge_length_m=np.array(cols[2], dtype=np.float64),
        edge_speed_mps=speeds,
        edge_lanes=lanes_arr,
        edge_class=road_class_for_speed(speeds),
        lane_offsets=offsets,
        lane_turns=np.array(turns, dtype=np.uint8),
        signal_nodes=sig_nodes,
        signal_approaches=approaches,
        name=name,
    )


def read_cbengine_roadnet(path: Path, *, name: str = "") -> RoadGraph:
    """Read a CBEngine road-network file into a RoadGraph."""
    return parse_cbengine_roadnet(path.read_text(encoding="utf-8"), source=path.name, name=name)


@dataclass(frozen=True, slots=True)
class RejectedFlow:
    """Name one flow record that was set aside, and why."""

    line: int
    reason_zh: str
    reason_en: str


@dataclass(frozen=True, eq=False)
class CBEngineFlows:
    """Hold traffic demand: per flow start/end/interval (s) and its route as edge indices."""

    start_s: F64
    end_s: F64
    interval_s: F64
    route_offsets: I64
    route_edges: I64
    lines: I64
    rejected: tuple[RejectedFlow, ...]

    @property
    def n_flows(self) -> int:
        """Return how many flows were accepted."""
        return len(self.start_s)

    def route(self, flow: int) -> I64:
        """Return the edge indices of one flow's route."""
        return self.route_edges[self.route_offsets[flow] : self.route_offsets[flow + 1]]

    def vehicle_counts(self) -> I64:
        """Return vehicles per flow: one at start, then every interval up to end."""
        return (np.floor((self.end_s - self.start_s) / self.interval_s) + 1).astype(np.int64)


def parse_cbengine_flows(text: str, graph: RoadGraph, *, source: str = "flows") -> CBEngineFlows:
    """Parse CBEngine flow text; flows with bad fields or unknown roads are set aside."""
    lines = _Lines(text, source, skip_blank=False)
    declared = lines.count("车流数", "flow count")
    heads: list[tuple[float, float, float, int]] = []
    routes: list[list[int]] = []
    rejected: list[RejectedFlow] = []
    for _ in range(declared):
        head = lines.next("车流时间行", "flow timing line")
        at = lines.lineno
        k_tokens = lines.next("路径长度行", "route length line")
        route_tokens = lines.next("路径行", "route line")
        try:
            start, end, interval = lines.numbers(head, "fff", "车流时间行", "flow timing line")
            lines.lineno = at + 1
            (k,) = lines.numbers(k_tokens, "i", "路径长度行", "route length line")
            lines.lineno = at + 2
            route = lines.ints(route_tokens, int(k), "路径行", "route line")
        except InvalidInput as exc:
            rejected.append(RejectedFlow(at, exc.message_zh, exc.message_en))
            continue
        if not (0 <= start <= end and interval > 0 and k > 0):
            rejected.append(
                RejectedFlow(
                    at,
                    "须 0 ≤ 开始 ≤ 结束、间隔 > 0、路径非空",
                    "needs 0 ≤ start ≤ end, interval > 0 and a non-empty route",
                )
            )
            continue
        heads.append((start, end, interval, at))
        routes.append(route)
    extra = lines.rest()
    if extra:
        raise lines.error(
            "记录之后有多余内容", "unexpected content after the last record", extra[0][0]
        )
    return _check_routes(graph, heads, routes, rejected)


def _check_routes(
    graph: RoadGraph,
    heads: list[tuple[float, float, float, int]],
    routes: list[list[int]],
    rejected: list[RejectedFlow],
) -> CBEngineFlows:
    counts = np.array([len(r) for r in routes], dtype=np.int64)
    offsets = np.zeros(len(routes) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    flat = np.fromiter(
        itertools.chain.from_iterable(routes), dtype=np.int64, count=int(counts.sum())
    )
    order = np.argsort(graph.edge_ids)
    pos = np.minimum(np.searchsorted(graph.edge_ids, flat, sorter=order), max(graph.n_edges - 1, 0))
    edges = order[pos] if graph.n_edges else np.zeros(0, np.int64)
    known = graph.edge_ids[edges] == flat if graph.n_edges else np.zeros(len(flat), bool)
    # A route must chain: each road starts where the previous one ends.
    joins = np.ones(len(flat), dtype=bool)
    joins[1:] = graph.edge_to[edges[:-1]] == graph.edge_from[edges[1:]]
    joins[offsets[:-1]] = True
    ok_known = np.logical_and.reduceat(known, offsets[:-1]) if len(flat) else np.ones(0, bool)
    ok_joins = np.logical_and.reduceat(joins | ~known, offsets[:-1]) if len(flat) else ok_known
    good = ok_known & ok_joins
    for f in np.flatnonzero(~good).tolist():
        span = slice(offsets[f], offsets[f + 1])
        line = heads[f][3] + 2
        if not ok_known[f]:
            bad = ", ".join(str(x) for x in flat[span][~known[span]][:5].tolist())
            rejected.append(RejectedFlow(line, f"未知道路：{bad}", f"unknown road id(s): {bad}"))
        else:
            rejected.append(RejectedFlow(line, "路径不连续", "route roads do not connect"))
    keep = np.flatnonzero(good)
    head = np.array([heads[f][:3] for f in keep.tolist()], dtype=np.float64).reshape(-1, 3)
    keep_points = np.repeat(good, counts)
    new_offsets = np.zeros(len(keep) + 1, dtype=np.int64)
    np.cumsum(counts[keep], out=new_offsets[1:])
    return CBEngineFlows(
        start_s=head[:, 0],
        end_s=head[:, 1],
        interval_s=head[:, 2],
        route_offsets=new_offsets,
        route_edges=edges[keep_points],
        lines=np.array([heads[f][3] for f in keep.tolist()], dtype=np.int64),
        rejected=tuple(sorted(rejected, key=lambda r: r.line)),
    )


def read_cbengine_flows(path: Path, graph: RoadGraph) -> CBEngineFlows:
    """Read a CBEngine flow file, validating every route against the graph."""
    return parse_cbengine_flows(path.read_text(encoding="utf-8"), graph, source=path.name)
