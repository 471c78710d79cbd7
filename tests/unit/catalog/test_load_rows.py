"""The DuckDB row store: upsert by key, the Parquet read path, filters and pages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opencitybrain.adapters.duckdb_rows import DuckRows
from opencitybrain.catalog.load_ports import Landed, arrow_type
from opencitybrain.catalog.model import DataType, FieldSpec
from opencitybrain.catalog.rows import Condition, Op
from opencitybrain.kernel.errors import Conflict, InvalidInput

FIELDS = (
    FieldSpec("code", "编号", DataType.STRING, is_identifier=True),
    FieldSpec("n", "数量", DataType.INTEGER),
    FieldSpec("at", "时间", DataType.DATETIME),
    FieldSpec("day", "日期", DataType.DATE),
)
KEY = ("code",)


def table(rows: Sequence[tuple[object, ...]]) -> pa.Table:
    return pa.table(
        {
            f.name: pa.array([r[i] for r in rows], type=arrow_type(f.data_type))
            for i, f in enumerate(FIELDS)
        }
    )


@pytest.fixture
def store(tmp_path: Path) -> DuckRows:
    return DuckRows(tmp_path / "analytics")


def test_nothing_loaded_reads_empty(store: DuckRows) -> None:
    assert store.read("R1", columns=["code"]).rows == []
    assert store.count("R1") == 0
    assert store.parquet("R1") is None
    assert store.key_of("R1") is None


def test_upsert_inserts_then_reload_changes_nothing_then_updates(store: DuckRows) -> None:
    at = datetime(2026, 1, 1, 8, tzinfo=UTC)
    rows: list[tuple[object, ...]] = [("b", 2, at, date(2026, 1, 2)), ("a", 1, None, None)]
    assert store.upsert("R1", FIELDS, KEY, table(rows)) == Landed(2, 0, 0)
    snapshot = store.parquet("R1")
    assert snapshot is not None
    stamp = snapshot.stat().st_mtime_ns
    assert store.upsert("R1", FIELDS, KEY, table(rows)) == Landed(0, 0, 2)
    assert snapshot.stat().st_mtime_ns == stamp  # nothing changed: no rewrite
    rows[1] = ("a", 5, None, None)
    rows.append(("c", None, None, None))
    assert store.upsert("R1", FIELDS, KEY, table(rows)) == Landed(1, 1, 1)
    page = store.read("R1", columns=["code", "n", "at", "day"])
    assert page.total == 3
    assert page.rows == [
        {"code": "a", "n": 5, "at": None, "day": None},
        {"code": "b", "n": 2, "at": at, "day": date(2026, 1, 2)},
        {"code": "c", "n": None, "at": None, "day": None},
    ]
    assert pq.read_table(snapshot).num_rows == 3
    assert store.key_of("R1") == KEY


def test_filters_pages_and_projection(store: DuckRows) -> None:
    store.upsert("R1", FIELDS, KEY, table([(f"k{i:03d}", i, None, None) for i in range(50)]))
    page = store.read("R1", columns=["code"], where=[Condition("n", Op.GE, 10)], offset=5, limit=3)
    assert page.total == 40
    assert page.rows == [{"code": "k015"}, {"code": "k016"}, {"code": "k017"}]
    assert store.count("R1", [Condition("code", Op.PREFIX, "k00")]) == 10
    assert store.count("R1", [Condition("n", Op.IN, (1, 2, 99))]) == 2
    assert store.count("R1", [Condition("n", Op.IN, ())]) == 0
    assert store.count("R1", [Condition("n", Op.NE, 3), Condition("n", Op.LT, 5)]) == 4


def test_unknown_column_and_bad_filter_are_refused(store: DuckRows) -> None:
    store.upsert("R1", FIELDS, KEY, table([("a", 1, None, None)]))
    with pytest.raises(InvalidInput) as unknown:
        store.read("R1", columns=["code", "secret"])
    assert unknown.value.errors[0].field == "secret"
    with pytest.raises(InvalidInput):
        store.count("R1", [Condition("nope", Op.EQ, 1)])
    with pytest.raises(InvalidInput):
        store.read("R1", columns=["code"], where=[Condition("n", Op.EQ, "not a number")])
    with pytest.raises(InvalidInput):
        store.read("../etc", columns=["code"])


def test_the_key_cannot_move(store: DuckRows) -> None:
    store.upsert("R1", FIELDS, KEY, table([("a", 1, None, None)]))
    with pytest.raises(Conflict):
        store.upsert("R1", FIELDS, ("n",), table([("a", 1, None, None)]))


def test_a_revision_adds_columns(store: DuckRows) -> None:
    store.upsert("R1", FIELDS[:2], KEY, table([("a", 1, None, None)]).select(["code", "n"]))
    store.upsert("R1", FIELDS, KEY, table([("a", 1, None, date(2026, 3, 1))]))
    assert store.read("R1", columns=["day"]).rows == [{"day": date(2026, 3, 1)}]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    first=st.dictionaries(st.text("abc", min_size=1, max_size=3), st.integers(-5, 5), max_size=20),
    second=st.dictionaries(st.text("abc", min_size=1, max_size=3), st.integers(-5, 5), max_size=20),
)
def test_upsert_counts_reconcile(
    tmp_path: Path, first: dict[str, int], second: dict[str, int]
) -> None:
    store = DuckRows(tmp_path / f"a{abs(hash((tuple(first), tuple(second))))}")
    fields, key = FIELDS[:2], KEY

    def t(d: dict[str, int]) -> pa.Table:
        return pa.table(
            {"code": pa.array(list(d), pa.string()), "n": pa.array(list(d.values()), pa.int64())}
        )

    store.upsert("R", fields, key, t(first))
    landed = store.upsert("R", fields, key, t(second))
    assert landed.total == len(second)
    assert landed.inserted == len(second.keys() - first.keys())
    assert landed.updated == sum(1 for k in second.keys() & first.keys() if first[k] != second[k])
    merged = {**first, **second}
    assert store.count("R") == len(merged)
    got = store.read("R", columns=["code", "n"], limit=100).rows
    assert got == [{"code": k, "n": merged[k]} for k in sorted(merged)]
