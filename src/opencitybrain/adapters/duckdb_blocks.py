"""DuckDB behind block data's engine port: Parquet reads and GROUP BY over Arrow rows.

DuckDB scans the Arrow table in place (no copy) and groups on all cores. Field names
reach SQL only after ``blocks.model.check_field`` (plain identifiers) and are quoted
anyway; values are bound parameters. Each query runs on a cursor of its own
(a DuckDB connection is not safe across threads; its cursors are).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from opencitybrain.blocks.model import FIELD_RE, Op, check_field
from opencitybrain.blocks.store import (
    CATEGORY,
    CHAIN,
    PARTS,
    ROWS,
    Grouped,
    GroupPlan,
    Summary,
)
from opencitybrain.kernel.errors import InvalidInput

MAX_NATIVE = 8
# A categorical field is summarised when its groups (places × categories, estimated)
# stay under this many rows, and at most this many fields are (each costs one pass).
MAX_SUMMARY_ROWS = 500_000
MAX_CATEGORICAL = 16
_AGG = {
    Op.SUM: "sum({f})",
    Op.AVG: "avg({f})",
    Op.MIN: "min({f})",
    Op.MAX: "max({f})",
    Op.DISTINCT: "count(DISTINCT {f})",
}


def _next(prefix: str) -> str:
    """Return the smallest text above every text that starts with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _q(name: str) -> str:
    return '"' + check_field(name) + '"'


def _part(part: str, name: str) -> str:
    """Return the quoted summary column of a field's metric part (``"sum:amount"``)."""
    return f'"{part}:{check_field(name)}"'


def _is_numeric(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
    )


def _is_categorical(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    # A column of nulls only (a snapshot's type for "no values yet") has one category.
    return bool(
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)
        or pa.types.is_boolean(kind) or pa.types.is_integer(kind)
    )  # fmt: skip


class DuckBlockEngine:
    """Group located rows with an in-memory DuckDB."""

    def __init__(self, threads: int | None = None) -> None:
        self._con = duckdb.connect(":memory:")
        if threads is not None:
            self._con.execute(f"SET threads = {int(threads)}")
        self._lock = threading.Lock()
        self._native: dict[str, str] = {}
        self._native_columns: dict[str, set[str]] = {}
        self._made = 0

    def _prepared(self, table: pa.Table, plan: GroupPlan) -> str:
        """Return the table to query: the rows as a sorted native table, or the Arrow view.

        Native tables are made once per rows version (a load) and sorted by county, street,
        community and grid, so a drill-down reads only its region's row groups. Columns
        added after preparing (H3 cells, the city's block) are read from Arrow.
        """
        if plan.rows_key is None:
            return "blocks_rows"
        with self._lock:
            name = self._native.get(plan.rows_key)
            if name is None:
                name = self._make(plan.rows_key, table)
            native = self._native_columns[plan.rows_key]
        needed = (plan.key, plan.prefix_column, plan.by, plan.time_field, plan.metric.field)
        return name if all(c is None or c in native for c in needed) else "blocks_rows"

    def _make(self, rows_key: str, table: pa.Table) -> str:
        """Copy rows into a native table sorted by region (dropping older versions)."""
        resource = rows_key.split("@", 1)[0]
        stale = [k for k in self._native if k.split("@", 1)[0] == resource]
        while len(self._native) - len(stale) >= MAX_NATIVE:
            stale.append(next(k for k in self._native if k not in stale))
        for old in stale:
            self._con.execute(f"DROP TABLE IF EXISTS {self._native.pop(old)}")
            self._native_columns.pop(old, None)
        self._made += 1
        name = f"rows_{self._made}"
        order = ", ".join(_q(c) for c in ("_county", "_street", "_community", "_grid"))
        cursor = self._con.cursor()
        try:
            cursor.register("incoming", table)
            # The name is ours (rows_<n>) and the columns are fixed: nothing comes from input.
            cursor.execute(f"CREATE TABLE {name} AS SELECT * FROM incoming ORDER BY {order}")  # noqa: S608
        finally:
            cursor.close()
        self._native[rows_key] = name
        self._native_columns[rows_key] = set(table.column_names)
        return name

    def read(self, path: Path, columns: Sequence[str] | None = None) -> pa.Table:
        """Return a Parquet snapshot's rows (pyarrow reads it in parallel)."""
        return pq.read_table(path, columns=list(columns) if columns is not None else None)

    def fields(self, path: Path) -> list[str]:
        """Return a Parquet snapshot's column names (from its footer only)."""
        return list(pq.read_schema(path).names)

    def group(self, table: pa.Table, plan: GroupPlan) -> Grouped:
        """Return the plan's groups; numeric metrics on a non-numeric field are refused."""
        names = set(table.column_names)
        used = [plan.key, plan.prefix_column, plan.by, plan.time_field, plan.metric.field]
        for name in used:
            if name is not None and name not in names:
                raise InvalidInput(
                    "blocks.unknown_field",
                    f"资源没有字段 {name}",
                    f"the resource has no field {name}",
                )
        field = plan.metric.field
        if plan.metric.op in (Op.SUM, Op.AVG) and field is not None:
            kind = table.schema.field(field).type
            if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)
                    or pa.types.is_decimal(kind)):  # fmt: skip
                raise InvalidInput(
                    "blocks.not_numeric",
                    f"字段 {field} 不是数值，不能求和或平均",
                    f"field {field} is not numeric: no sum or average",
                )
        where: list[str] = []
        params: list[Any] = []
        if plan.prefix_column is not None and plan.prefix:
            # Codes are digits: the codes under a prefix are one range, which a table
            # sorted by region skips to (row groups' min/max) instead of scanning.
            column = _q(plan.prefix_column)
            where.append(f"{column} >= ? AND {column} < ?")
            params.extend([plan.prefix, _next(plan.prefix)])
        if plan.time_field is not None and plan.start is not None:
            where.append(f"{_q(plan.time_field)} >= ?")
            params.append(plan.start)
        if plan.time_field is not None and plan.end is not None:
            where.append(f"{_q(plan.time_field)} < ?")
            params.append(plan.end)
        value = (
            "count(*)"
            if plan.metric.op is Op.COUNT
            else _AGG[plan.metric.op].format(f=_q(field or ""))
        )
        category = f"CAST({_q(plan.by)} AS VARCHAR)" if plan.by else "NULL::VARCHAR"
        bucket = (
            f"date_trunc('{plan.bucket.value}', {_q(plan.time_field)})"
            if plan.bucket is not None and plan.time_field is not None
            else "NULL::TIMESTAMP"
        )
        key = _q(plan.key)
        filters = " AND ".join(where) or "TRUE"
        source = self._prepared(table, plan)
        sql = f"""
            WITH scoped AS (SELECT * FROM {source} WHERE {filters})
            SELECT k, c, b, v, (SELECT count(*) FROM scoped) AS n,
                   (SELECT count(*) FROM scoped WHERE {key} IS NULL OR {key} = '') AS u
            FROM (
                SELECT {key} AS k, {category} AS c, {bucket} AS b, {value} AS v
                FROM scoped WHERE {key} <> ''
                GROUP BY ALL
            )
            ORDER BY k, c, b
        """  # noqa: S608 - identifiers checked and quoted, values bound
        # A cursor of its own per query: its registered view and results are its own,
        # so concurrent requests never see each other's rows or half-read results.
        with self._lock:
            cursor = self._con.cursor()
        try:
            if source == "blocks_rows":
                cursor.register("blocks_rows", table)
            rows = cursor.execute(sql, params).fetchall()
            if not rows:
                count_sql = f"""SELECT count(*),
                    count(*) FILTER (WHERE {key} IS NULL OR {key} = '')
                    FROM {source} WHERE {filters}"""  # noqa: S608
                n, u = cursor.execute(count_sql, params).fetchone() or (0, 0)
                return Grouped([], int(n), int(u))
        finally:
            cursor.close()
        out = [(str(r[0]), r[1], r[2], r[3]) for r in rows]
        return Grouped(out, int(rows[0][4]), int(rows[0][5]))

    def summarise(self, table: pa.Table) -> Summary:
        """Group the rows once per level by its chain of places (and per categorical field).

        Integer and text fields whose categories times the places stay small are
        categorical; numeric fields get sum, count, min and max per group, so averages and
        every region's blocks follow from sums of the parts. The finest grouping (to the
        grid) reads the rows; the coarser levels roll it up.
        """
        chain = [c for c in CHAIN if c in table.column_names]
        fields = [f for f in table.schema if f.name not in CHAIN and FIELD_RE.match(f.name)]
        numeric = [f.name for f in fields if _is_numeric(f.type)]
        integer = [f.name for f in fields if pa.types.is_integer(f.type)]
        candidates = [f.name for f in fields if _is_categorical(f.type)]
        tables: dict[tuple[str | None, str], pa.Table] = {}
        with self._lock:
            cursor = self._con.cursor()
        try:
            cursor.register("summary_rows", table)
            fine = self._summary(cursor, chain, None, numeric)
            tables.update(self._roll_up(cursor, fine, chain, None, numeric))
            if candidates:
                counts = ", ".join(f"approx_count_distinct({_q(c)})" for c in candidates)
                found = cursor.execute(f"SELECT {counts} FROM summary_rows").fetchall()[0]  # noqa: S608
                places = max(fine.num_rows, 1)
                # An estimate (HyperLogLog, a few percent): it only sizes the tables.
                fitting = [
                    name
                    for name, distinct in zip(candidates, found, strict=True)
                    if places * max(int(distinct or 0), 1) <= MAX_SUMMARY_ROWS
                ]
                for name in fitting[:MAX_CATEGORICAL]:
                    finest = self._summary(cursor, chain, name, numeric)
                    tables.update(self._roll_up(cursor, finest, chain, name, numeric))
        finally:
            cursor.close()
        return Summary(
            frozenset(numeric), frozenset(integer), frozenset(k for k, _ in tables if k), tables
        )

    def _summary(
        self, cursor: duckdb.DuckDBPyConnection, chain: list[str], by: str | None,
        numeric: list[str],
    ) -> pa.Table:  # fmt: skip
        # Codes as text even where a column holds nulls only (Arrow's null type).
        keys = [f"CAST({_q(c)} AS VARCHAR) AS {_q(c)}" for c in chain]
        if by is not None:
            keys.append(f"CAST({_q(by)} AS VARCHAR) AS {CATEGORY}")
        parts = [f"count(*) AS {ROWS}"]
        for name in numeric:
            f = _q(name)
            parts += [f"{p}({f}) AS {_part(p, name)}" for p in PARTS]
        sql = f"SELECT {', '.join(keys + parts)} FROM summary_rows GROUP BY ALL"  # noqa: S608
        return cursor.sql(sql).to_arrow_table()

    def _roll_up(
        self, cursor: duckdb.DuckDBPyConnection, fine: pa.Table, chain: list[str],
        by: str | None, numeric: list[str],
    ) -> dict[tuple[str | None, str], pa.Table]:  # fmt: skip
        """Return each level's table: the finest groups summed up to the level's chain."""
        out = {(by, chain[-1]): fine} if chain else {}
        cursor.register("summary_fine", fine)
        # Counts stay BIGINT (a sum of them would be a HUGEINT, read back as a decimal).
        parts = [f"CAST(sum({ROWS}) AS BIGINT) AS {ROWS}"]
        for name in numeric:
            parts += [
                f"sum({_part('sum', name)}) AS {_part('sum', name)}",
                f"CAST(sum({_part('count', name)}) AS BIGINT) AS {_part('count', name)}",
                f"min({_part('min', name)}) AS {_part('min', name)}",
                f"max({_part('max', name)}) AS {_part('max', name)}",
            ]
        for depth in range(1, len(chain)):
            keys = [_q(c) for c in chain[:depth]] + ([CATEGORY] if by is not None else [])
            sql = f"SELECT {', '.join(keys + parts)} FROM summary_fine GROUP BY ALL"  # noqa: S608
            out[(by, chain[depth - 1])] = cursor.sql(sql).to_arrow_table()
        cursor.unregister("summary_fine")
        return out
