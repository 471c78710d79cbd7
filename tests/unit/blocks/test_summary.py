"""The summary path (blocks cut from per-version groupings) answers as the row scan does."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opencitybrain.adapters.duckdb_blocks import DuckBlockEngine
from opencitybrain.blocks.model import (
    BlockQuery,
    BlockResult,
    Bucket,
    Level,
    Metric,
    Op,
    RegionScope,
    TimeWindow,
)
from opencitybrain.blocks.service import BlockService
from opencitybrain.blocks.store import CHAIN, Grouped, GroupPlan
from opencitybrain.blocks.summary import cut as cut_summary
from opencitybrain.kernel.errors import Forbidden, InvalidInput

from .fakes import SquareLocator


class CountingEngine(DuckBlockEngine):
    """The DuckDB engine, counting the row scans it is asked for."""

    def __init__(self) -> None:
        super().__init__(threads=2)
        self.scans = 0

    def group(self, table: pa.Table, plan: GroupPlan) -> Grouped:
        """Group the rows (a scan), counted."""
        self.scans += 1
        return super().group(table, plan)


ENGINE = CountingEngine()
SCAN_ENGINE = CountingEngine()


def _services(path: Path) -> tuple[BlockService, BlockService]:
    def snapshots(rid: str) -> Path | None:
        return path if rid == "r" else None

    fast = BlockService(snapshots, ENGINE, points=SquareLocator())
    scan = BlockService(snapshots, SCAN_ENGINE, points=SquareLocator(), summaries=False)
    return fast, scan


def _same(a: BlockResult, b: BlockResult) -> None:
    assert (a.rows, a.unlocated, a.version) == (b.rows, b.unlocated, b.version)
    assert [(x.code, x.category, x.bucket) for x in a.blocks] == [
        (x.code, x.category, x.bucket) for x in b.blocks
    ]
    for x, y in zip(a.blocks, b.blocks, strict=True):
        # Averages are a sum over a count, divided in another order: to the last bits.
        assert x.value == (y.value if y.value is None else pytest.approx(y.value, rel=1e-12))
        if a.query.metric.op is not Op.AVG:
            assert (type(x.value), x.value) == (type(y.value), y.value)


def _compare(fast: BlockService, scan: BlockService, query: BlockQuery) -> None:
    """Check both services answer alike, or refuse alike (a field of no numbers)."""
    try:
        expected = scan.aggregate(query)
    except InvalidInput as refused:
        with pytest.raises(InvalidInput, match=refused.code):
            fast.aggregate(query)
        return
    _same(fast.aggregate(query), expected)


QUESTIONS = (
    (Metric(), None),
    (Metric(), "kind"),
    (Metric(), "flag"),
    (Metric(Op.SUM, "v"), None),
    (Metric(Op.SUM, "v"), "kind"),
    (Metric(Op.AVG, "v"), None),
    (Metric(Op.MIN, "v"), "flag"),
    (Metric(Op.MAX, "w"), None),
    (Metric(Op.SUM, "w"), "kind"),
    (Metric(Op.AVG, "w"), "flag"),
    (Metric(Op.DISTINCT, "kind"), None),
    (Metric(Op.DISTINCT, "v"), None),
)


def _queries(result: BlockResult) -> list[BlockQuery]:
    """Return every level's blocks of the city and of each county, per question."""
    out: list[BlockQuery] = []
    levels: tuple[Level, ...] = ("city", "county", "street", "community", "grid")
    for metric, by in QUESTIONS:
        out += [BlockQuery("r", level, "", metric, by) for level in levels]
        for block in result.blocks:
            out.append(BlockQuery("r", "street", block.code, metric, by))
            out.append(BlockQuery("r", "grid", block.code, metric, by))
    return out


points = st.lists(
    st.tuples(
        st.floats(114.8, 117.2, allow_nan=False),
        st.floats(27.8, 30.2, allow_nan=False),
        st.sampled_from(["a", "b", "c", None]),
        st.one_of(st.none(), st.integers(-(2**40), 2**40)),
        st.one_of(st.none(), st.integers(-400, 400).map(lambda i: i / 4)),
        st.booleans(),
    ),
    min_size=1,
    max_size=50,
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(points)
def test_summary_answers_as_the_scan_on_random_rows(
    tmp_path: Path, rows: list[tuple[float, float, str | None, int | None, float | None, bool]]
) -> None:
    path = tmp_path / "r.parquet"
    columns = ("lon", "lat", "kind", "v", "w", "flag")
    pq.write_table(pa.table({c: [r[i] for r in rows] for i, c in enumerate(columns)}), path)
    fast, scan = _services(path)
    counties = scan.aggregate(BlockQuery("r", "county"))
    streets = [
        b.code
        for c in counties.blocks
        for b in scan.aggregate(BlockQuery("r", "street", c.code)).blocks
    ]
    queries = _queries(counties)
    queries += [
        BlockQuery("r", "grid", s, m)
        for s in streets[:3]
        for m in (Metric(), Metric(Op.SUM, "v"), Metric(Op.AVG, "w"))
    ]
    before = ENGINE.scans
    for query in queries:
        _compare(fast, scan, query)
    if any(r[3] is not None for r in rows) and any(r[4] is not None for r in rows):
        # Every question was cut from the summary (a column of nulls only has no
        # numbers: those questions go to the scan, which refuses them).
        assert ENGINE.scans == before


def _located(
    rows: list[tuple[str | None, str | None, str | None, str | None, str, int]],
) -> pa.Table:
    return pa.table(
        {
            "_county": [r[0] for r in rows],
            "_street": [r[1] for r in rows],
            "_community": [r[2] for r in rows],
            "_grid": [r[3] for r in rows],
            "kind": [r[4] for r in rows],
            "v": [r[5] for r in rows],
        }
    )


codes = st.sampled_from(["", None, "1", "2"])
located_rows = st.lists(
    st.tuples(
        st.sampled_from(["", None, "360102", "360103"]),
        st.sampled_from(["", None, "360102001", "360102002", "360103001"]),
        # Communities and grids that need not lie in their street (a locator's edge).
        st.sampled_from(["", None, "360102001001", "360103001001", "360102002001"]),
        st.sampled_from(["", None, "360102001001001", "360103001001002", "360102002001001"]),
        st.sampled_from(["x", "y", "z"]),
        st.integers(0, 9),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=15, deadline=None)
@given(located_rows)
def test_cut_equals_group_even_where_places_do_not_nest(
    rows: list[tuple[str | None, str | None, str | None, str | None, str, int]],
) -> None:
    table = _located(rows)
    engine = DuckBlockEngine(threads=1)
    summary = engine.summarise(table)
    for key in CHAIN:
        for column, prefix in (
            (None, ""),
            ("_county", "360102"),
            ("_street", "360102001"),
            ("_community", "360102001001"),
        ):
            for metric in (Metric(), Metric(Op.SUM, "v"), Metric(Op.DISTINCT, "kind")):
                for by in (None, "kind"):
                    plan = GroupPlan(key, metric, prefix_column=column, prefix=prefix, by=by)
                    cut = summary.table_for(plan)
                    if column is not None and CHAIN.index(column) > CHAIN.index(key):
                        assert cut is None  # a region below the level: no such question
                        continue
                    if metric.op is Op.DISTINCT and by is not None:
                        assert cut is None
                        continue
                    assert cut is not None
                    assert cut_summary(summary, cut, plan) == engine.group(table, plan)


def test_what_the_summary_leaves_to_the_scan(tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    pq.write_table(
        pa.table(
            {
                "lon": [115.05, 115.15, 116.5],
                "lat": [28.05, 28.05, 29.5],
                "kind": ["a", "b", "a"],
                "v": [1, 2, 3],
                "at": [datetime(2026, 1, d) for d in (1, 2, 3)],
            }
        ),
        path,
    )
    fast, scan = _services(path)
    window = TimeWindow("at", datetime(2026, 1, 2), None, Bucket.DAY)
    for query in (
        BlockQuery("r", "county", window=window),
        BlockQuery("r", "h3", h3_resolution=7),
        BlockQuery("r", "county", metric=Metric(Op.DISTINCT, "kind"), by="kind"),
    ):
        before = ENGINE.scans
        _same(fast.aggregate(query), scan.aggregate(query))
        assert ENGINE.scans - before == 1  # the summary could not answer it
    # The scan's checks still answer what the summary does not hold.
    for bad in (Metric(Op.SUM, "kind"), Metric(Op.AVG, "nope")):
        with pytest.raises(InvalidInput):
            fast.aggregate(BlockQuery("r", "county", metric=bad))
    with pytest.raises(InvalidInput):
        fast.aggregate(BlockQuery("r", "county", by="nope"))


def test_scopes_and_new_loads_on_the_summary_path(tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    lon, lat = [115.05, 115.15, 116.5, 116.6], [28.05, 28.05, 29.5, 28.5]
    pq.write_table(pa.table({"lon": lon, "lat": lat, "v": [1, 2, 3, 4]}), path)
    fast, scan = _services(path)
    donghu = RegionScope("360102")
    scoped = fast.aggregate(BlockQuery("r", "county", metric=Metric(Op.SUM, "v")), donghu)
    assert scoped.query.level == "street"
    assert [(b.code, b.value) for b in scoped.blocks] == [("360102000", 1), ("360102001", 2)]
    _same(scoped, scan.aggregate(BlockQuery("r", "county", metric=Metric(Op.SUM, "v")), donghu))
    with pytest.raises(Forbidden):
        fast.aggregate(BlockQuery("r", "street", "360111"), donghu)
    before = ENGINE.scans
    pq.write_table(pa.table({"lon": lon[:1], "lat": lat[:1], "v": [10]}), path)
    fresh = fast.aggregate(BlockQuery("r", "county", metric=Metric(Op.SUM, "v")))
    assert (fresh.cached, fresh.rows) == (False, 1)
    assert [(b.code, b.value) for b in fresh.blocks] == [("360102", 10)]
    assert ENGINE.scans == before  # the new version's summary answered it


def test_fields_of_too_many_values_are_left_to_the_scan() -> None:
    n = 800  # 800 grids × 800 names would be 640,000 summary rows: over the limit
    grids = [f"360102001001{i:03d}" for i in range(n)]
    table = pa.table(
        {
            "_county": ["360102"] * n,
            "_street": ["360102001"] * n,
            "_community": ["360102001001"] * n,
            "_grid": grids,
            "name": [f"n{i}" for i in range(n)],
            "kind": ["a", "b"] * (n // 2),
            "amount": [1.5] * n,
        }
    )
    engine = DuckBlockEngine(threads=1)
    summary = engine.summarise(table)
    assert summary.categories == {"kind"}
    assert summary.numeric == {"amount"}
    assert summary.table_for(GroupPlan("_grid", Metric(), by="name")) is None
    plan = GroupPlan("_street", Metric(Op.SUM, "amount"), by="kind")
    cut = summary.table_for(plan)
    assert cut is not None
    assert cut_summary(summary, cut, plan) == engine.group(table, plan)
    assert cut_summary(summary, cut, plan).rows == [
        ("360102001", "a", None, 600.0),
        ("360102001", "b", None, 600.0),
    ]
