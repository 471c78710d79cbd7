from __future__ import annotations

import os
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
    Bucket,
    Metric,
    Op,
    RegionScope,
    TimeWindow,
)
from opencitybrain.blocks.service import BlockService
from opencitybrain.kernel.errors import Forbidden, InvalidInput, NotFound

from .fakes import SquareLocator

ENGINE = DuckBlockEngine(threads=2)


def _service(path: Path, **kwargs: object) -> BlockService:
    return BlockService(
        lambda rid: path if rid == "r" else None,
        ENGINE,
        points=SquareLocator(),
        **kwargs,  # type: ignore[arg-type]
    )


def _write(path: Path, rows: dict[str, list[object]]) -> None:
    pq.write_table(pa.table(rows), path)


def _table(tmp_path: Path) -> Path:
    path = tmp_path / "r.parquet"
    _write(
        path,
        {
            "lon": [115.057, 115.057, 115.157, 116.5, 121.0],
            "lat": [28.05, 28.05, 28.05, 29.5, 28.0],
            "kind": ["a", "b", "a", "a", "b"],
            "amount": [1.5, 2.0, 4.0, 8.0, 16.0],
            "at": [datetime(2026, 1, d) for d in (1, 2, 2, 3, 9)],
        },
    )
    return path


def test_count_sum_avg_distinct_and_by_category(tmp_path: Path) -> None:
    svc = _service(_table(tmp_path))
    counties = svc.aggregate(BlockQuery("r", "county"))
    assert [(b.code, b.value) for b in counties.blocks] == [("360102", 3), ("360111", 1)]
    assert (counties.rows, counties.unlocated) == (5, 1)
    total = svc.aggregate(BlockQuery("r", "county", metric=Metric(Op.SUM, "amount")))
    assert [b.value for b in total.blocks] == [7.5, 8.0]
    avg = svc.aggregate(BlockQuery("r", "street", "360102", Metric(Op.AVG, "amount")))
    assert [(b.code, b.value) for b in avg.blocks] == [("360102000", 1.75), ("360102001", 4.0)]
    distinct = svc.aggregate(BlockQuery("r", "county", metric=Metric(Op.DISTINCT, "kind")))
    assert [b.value for b in distinct.blocks] == [2, 1]
    by = svc.aggregate(BlockQuery("r", "county", by="kind"))
    assert [(b.code, b.category, b.value) for b in by.blocks] == [
        ("360102", "a", 2),
        ("360102", "b", 1),
        ("360111", "a", 1),
    ]
    city = svc.aggregate(BlockQuery("r", "city"))
    assert [(b.code, b.value) for b in city.blocks] == [("", 4)]


def test_time_window_and_buckets(tmp_path: Path) -> None:
    svc = _service(_table(tmp_path))
    window = TimeWindow("at", datetime(2026, 1, 2), datetime(2026, 1, 4), Bucket.DAY)
    result = svc.aggregate(BlockQuery("r", "county", window=window))
    assert [(b.code, b.bucket, b.value) for b in result.blocks] == [
        ("360102", datetime(2026, 1, 2), 2),
        ("360111", datetime(2026, 1, 3), 1),
    ]
    assert result.rows == 3


def test_h3_cells(tmp_path: Path) -> None:
    svc = _service(_table(tmp_path))
    result = svc.aggregate(BlockQuery("r", "h3", h3_resolution=9))
    # The point outside the city has a cell but no place in the city: it is not counted.
    assert sum(int(b.value or 0) for b in result.blocks) == 4
    assert result.unlocated == 1
    assert all(len(b.code) == 15 for b in result.blocks)


def test_results_are_cached_until_a_new_load(tmp_path: Path) -> None:
    path = _table(tmp_path)
    svc = _service(path)
    first = svc.aggregate(BlockQuery("r", "county"))
    again = svc.aggregate(BlockQuery("r", "county"))
    assert (first.cached, again.cached) == (False, True)
    _write(path, {"lon": [116.5], "lat": [28.5], "kind": ["z"], "amount": [1.0],
                  "at": [datetime(2026, 2, 1)]})  # fmt: skip
    os.utime(path, ns=(1, 1))  # even within one mtime tick the size differs
    fresh = svc.aggregate(BlockQuery("r", "county"))
    assert fresh.cached is False
    assert fresh.version != first.version
    assert [(b.code, b.value) for b in fresh.blocks] == [("360103", 1)]


def test_region_scope_from_the_department_tree(tmp_path: Path) -> None:
    tree = {"bureau": (None, None), "donghu": ("360102", "bureau"), "dh-office": (None, "donghu")}
    svc = _service(_table(tmp_path), departments=lambda: tree)
    assert svc.scope_of("dh-office") == RegionScope("360102")
    assert svc.scope_of("bureau") == RegionScope()
    scoped = svc.aggregate(BlockQuery("r", "county"), svc.scope_of("dh-office"))
    assert {b.code[:6] for b in scoped.blocks} == {"360102"}
    assert scoped.query.level == "street"
    with pytest.raises(Forbidden):
        svc.aggregate(BlockQuery("r", "street", "360111"), svc.scope_of("donghu"))


def test_bad_fields_and_missing_rows(tmp_path: Path) -> None:
    svc = _service(_table(tmp_path))
    with pytest.raises(InvalidInput):
        svc.aggregate(BlockQuery("r", "county", metric=Metric(Op.SUM, "kind")))
    with pytest.raises(InvalidInput):
        svc.aggregate(BlockQuery("r", "county", metric=Metric(Op.SUM, "nope")))
    empty = svc.aggregate(BlockQuery("other", "county"))
    assert (empty.blocks, empty.rows, empty.version) == ((), 0, "")
    with pytest.raises(NotFound):
        svc.located("other")


points = st.lists(
    st.tuples(
        st.floats(114.5, 117.5, allow_nan=False),
        st.floats(27.5, 30.5, allow_nan=False),
        st.integers(0, 100),
    ),
    min_size=1,
    max_size=60,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(points)
def test_every_level_sums_to_the_same_total(
    tmp_path: Path, rows: list[tuple[float, float, int]]
) -> None:
    path = tmp_path / "p.parquet"
    _write(path, {"lon": [r[0] for r in rows], "lat": [r[1] for r in rows],
                  "v": [r[2] for r in rows]})  # fmt: skip
    svc = BlockService(lambda _: path, ENGINE, points=SquareLocator())
    svc.invalidate("p")
    totals = []
    for level in ("county", "street", "community", "grid"):
        result = svc.aggregate(BlockQuery("p", level, metric=Metric(Op.SUM, "v")))
        totals.append((sum(int(b.value or 0) for b in result.blocks), result.unlocated))
    assert len(set(totals)) == 1
    inside = [r for r in rows if 115 <= r[0] < 117 and 28 <= r[1] < 30]
    assert totals[0] == (sum(r[2] for r in inside), len(rows) - len(inside))
    # Drilling down: each county's streets add up to the county.
    counties = svc.aggregate(BlockQuery("p", "county", metric=Metric(Op.SUM, "v")))
    for block in counties.blocks:
        streets = svc.aggregate(BlockQuery("p", "street", block.code, Metric(Op.SUM, "v")))
        assert sum(int(b.value or 0) for b in streets.blocks) == block.value
