"""Resource rows in DuckDB, read from Parquet snapshots (``ResourceRows`` + ``RowWriter``).

Layout under ``<data_dir>/analytics``::

    rows.duckdb            one table per resource, ``r_<resource id>``, typed per field
    rows.lock              serialises writers across processes (``flock``)
    parquet/<id>.parquet   the resource's current rows in key order (the read path)
    parquet/<id>.key       the key the resource was first loaded with, one name a line
    staging/<id>-<n>/      a load's chunks (Parquet) until it merges them (then removed)

Multi-worker decision: DuckDB lets one process at a time open a database file for
writing, and a read-only open fails while a writer holds it. So nothing keeps the file
open: a load opens it, upserts, writes the snapshot to a temporary file, renames it over
the old one and closes it, under an exclusive ``flock`` (other processes' loads wait their
turn instead of failing) and a thread lock. Every read, in any worker, runs on an
in-memory DuckDB over the snapshot: readers never block a load nor see half of one, and a
read after a load returns sees that load.
"""

# Identifiers are field names (checked by the catalogue, and quoted) and values are bound.
# ruff: noqa: S608

from __future__ import annotations

import fcntl
import os
import re
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from opencitybrain.adapters.duckdb_masks import MaskedColumns, Stamp, mask_sql
from opencitybrain.adapters.duckdb_sql import bad as _bad
from opencitybrain.adapters.duckdb_sql import literal as _lit
from opencitybrain.adapters.duckdb_sql import quote as _q
from opencitybrain.adapters.duckdb_sql import where_clause as _where
from opencitybrain.adapters.duckdb_staging import ParquetStaging, Register, merge_incoming
from opencitybrain.catalog.load_ports import Landed
from opencitybrain.catalog.model import DataType, FieldSpec
from opencitybrain.catalog.rows import Condition, MaskRule, Row, RowPage
from opencitybrain.kernel.errors import Conflict, FieldError, InvalidInput

_SQL_TYPES = {
    DataType.INTEGER: "BIGINT",
    DataType.DECIMAL: "DOUBLE",
    DataType.BOOLEAN: "BOOLEAN",
    DataType.DATE: "DATE",
    DataType.DATETIME: "TIMESTAMPTZ",
}
_SAFE_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
MAX_LIMIT = 100_000
WRITE_MEMORY = "256MB"  # DuckDB spills past this while merging a load


@dataclass(frozen=True, slots=True)
class _Snap:
    """What a read needs to know of a snapshot file."""

    stamp: Stamp
    source: str
    types: dict[str, str]
    rows: int


class DuckRows:
    """Keep every resource's rows: DuckDB tables for writes, Parquet snapshots for reads."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.db_path = root / "rows.duckdb"
        self.snapshots = root / "parquet"
        self._thread_lock = threading.Lock()
        self._mem = duckdb.connect(":memory:")
        self._mem.execute("SET TimeZone = 'UTC'")
        self._snaps: dict[Stamp, _Snap] = {}
        self._masked = MaskedColumns()

    # --- paths ------------------------------------------------------------------------

    def _id(self, resource_id: str) -> str:
        if not _SAFE_ID.match(resource_id):
            raise _bad(
                "catalog.bad_resource_id",
                "资源标识格式错误",
                "malformed resource id",
                "resource_id",
            )
        return resource_id

    def _snapshot(self, resource_id: str) -> Path:
        return self.snapshots / f"{self._id(resource_id)}.parquet"

    def _key_file(self, resource_id: str) -> Path:
        return self.snapshots / f"{self._id(resource_id)}.key"

    # --- ResourceRows -----------------------------------------------------------------

    def parquet(self, resource_id: str) -> Path | None:
        """Return the resource's Parquet snapshot, or None before its first load."""
        path = self._snapshot(resource_id)
        return path if path.is_file() else None

    def key_of(self, resource_id: str) -> tuple[str, ...] | None:
        """Return the key the resource was first loaded with, or None."""
        path = self._key_file(resource_id)
        if not path.is_file():
            return None
        return tuple(line for line in path.read_text().splitlines() if line)

    def read(
        self,
        resource_id: str,
        *,
        columns: Sequence[str],
        where: Sequence[Condition] = (),
        offset: int = 0,
        limit: int = 100,
        masks: Mapping[str, MaskRule] | None = None,
    ) -> RowPage:
        """Return a page of rows in key order (the snapshot's order) and the match count.

        Columns in ``masks`` come back masked: a small snapshot's masked columns are made
        once and kept (see ``duckdb_masks.MaskedColumns``), and a page takes its rows from
        them; a large one's text columns are masked by DuckDB in the page's query, other
        types here on their Python text form.
        """
        if offset < 0 or not 0 <= limit <= MAX_LIMIT:
            raise _bad(
                "catalog.bad_page",
                f"分页参数错误（limit 0–{MAX_LIMIT}，offset ≥ 0）",
                f"bad page (limit 0–{MAX_LIMIT}, offset ≥ 0)",
                "limit",
            )
        path = self.parquet(resource_id)
        if path is None:
            return RowPage([], 0)
        cols = list(dict.fromkeys(columns))
        snap = self._snap(path)
        self._check_columns([*cols, *(c.field for c in where)], snap.types)
        clause, params = _where(where)
        total = self._count(snap.source, clause, params)
        if not cols or limit == 0:
            return RowPage([{} for _ in range(min(limit, max(total - offset, 0)))], total)
        masked = {c: masks[c] for c in cols if masks and c in masks}
        page = f" LIMIT {int(limit)} OFFSET {int(offset)}"
        if not masked or not self._masked.fits(snap.rows):
            terms = [self._term(snap, c, masked.get(c)) for c in cols]
            sql = f"SELECT {', '.join(terms)} FROM {snap.source}{clause}{page}"
            rows: list[Row] = self._query(sql, params).to_pylist()
            for name, rule in masked.items():
                if snap.types[name] != "VARCHAR":  # masked here, on Python's text form
                    for row in rows:
                        value = row[name]
                        row[name] = None if value is None else rule.apply(str(value))
            return RowPage(rows, total)
        # A small snapshot: gather the page's rows from its whole masked columns (kept).
        clear = [_q(c) for c in cols if c not in masked]
        numbered = f"read_parquet({_lit(str(path))}, file_row_number = true)"
        sql = f"SELECT {', '.join([*clear, 'file_row_number'])} FROM {numbered}{clause}{page}"
        table = self._query(sql, params)
        at = table.column("file_row_number")
        out = {}
        for c in cols:
            if c in masked:
                whole = self._masked_column(snap, c, masked[c])
                out[c] = whole.take(at)
            else:
                out[c] = table.column(c)
        rows = pa.table(out).to_pylist()
        return RowPage(rows, total)

    def count(self, resource_id: str, where: Sequence[Condition] = ()) -> int:
        """Return how many rows match the filter (0 before the first load)."""
        path = self.parquet(resource_id)
        if path is None:
            return 0
        snap = self._snap(path)
        self._check_columns([c.field for c in where], snap.types)
        clause, params = _where(where)
        return self._count(snap.source, clause, params)

    def _count(self, source: str, clause: str, params: list[Any]) -> int:
        table = self._query(f"SELECT count(*) AS n FROM {source}{clause}", params)
        return int(table.column(0)[0].as_py())

    def _snap(self, path: Path) -> _Snap:
        """Return the FROM term for a snapshot, its columns' DuckDB types and its row count.

        Kept per snapshot file (path, inode, mtime, size): a load replaces the file by a
        rename, which changes the inode, so a new snapshot is read afresh.
        """
        st = path.stat()
        stamp = (str(path), st.st_ino, st.st_mtime_ns, st.st_size)
        snap = self._snaps.get(stamp)
        if snap is None:
            source = f"read_parquet({_lit(str(path))})"
            cursor = self._mem.cursor()
            try:
                rel = cursor.sql(f"SELECT * FROM {source} LIMIT 0")
                types = {n: str(t) for n, t in zip(rel.columns, rel.types, strict=True)}
                count = cursor.execute(f"SELECT count(*) FROM {source}").fetchone()
            finally:
                cursor.close()
            snap = _Snap(stamp, source, types, int(count[0]) if count else 0)
            if len(self._snaps) > 1024:  # many resources: start over rather than grow
                self._snaps.clear()
            self._snaps[stamp] = snap
        return snap

    @staticmethod
    def _term(snap: _Snap, column: str, rule: MaskRule | None) -> str:
        """Return a column's select term: masked by SQL when it is masked text."""
        if rule is None or snap.types[column] != "VARCHAR":
            return _q(column)
        return f"{mask_sql(_q(column), rule)} AS {_q(column)}"

    def _masked_column(self, snap: _Snap, column: str, rule: MaskRule) -> pa.ChunkedArray:
        cursor = self._mem.cursor()
        try:
            text = snap.types[column] == "VARCHAR"
            return self._masked.column(cursor, snap.stamp, snap.source, column, rule, text=text)
        finally:
            cursor.close()

    def _query(self, sql: str, params: list[Any]) -> Any:
        cursor = self._mem.cursor()
        try:
            return cursor.sql(sql, params=params or None).to_arrow_table()
        except duckdb.Error as exc:
            raise _bad(
                "catalog.bad_filter",
                "行过滤条件与字段类型不符",
                f"the row filter does not fit the field types ({type(exc).__name__})",
                "where",
            ) from None
        finally:
            cursor.close()

    @staticmethod
    def _check_columns(names: Sequence[str], known: Mapping[str, str]) -> None:
        unknown = [n for n in names if n not in known]
        if unknown:
            raise InvalidInput(
                "catalog.unknown_field",
                f"资源没有字段 {', '.join(unknown[:5])}",
                f"the resource has no field {', '.join(unknown[:5])}",
                tuple(FieldError(n, "unknown field / 未知字段") for n in unknown[:20]),
            )

    # --- RowWriter --------------------------------------------------------------------

    def upsert(
        self, resource_id: str, fields: Sequence[FieldSpec], key: Sequence[str], rows: Any
    ) -> Landed:
        """Upsert the rows by key in one transaction; rewrite the snapshot if they changed."""
        names = [f.name for f in fields]

        def register(conn: duckdb.DuckDBPyConnection) -> None:
            conn.register("incoming", rows.select(names))

        return self._land(resource_id, fields, key, register)

    def stage(
        self, resource_id: str, fields: Sequence[FieldSpec], key: Sequence[str]
    ) -> ParquetStaging:
        """Return a staging folder for a load's chunks, merged by ``key`` at the end."""
        folder = self.root / "staging" / f"{self._id(resource_id)}-{uuid.uuid4().hex}"

        def land(register: Register) -> Landed:
            return self._land(resource_id, fields, key, register)

        return ParquetStaging(folder, [f.name for f in fields], land)

    def _land(
        self,
        resource_id: str,
        fields: Sequence[FieldSpec],
        key: Sequence[str],
        register: Register,
    ) -> Landed:
        """Merge the relation ``register`` names ``incoming`` into the resource's table."""
        table = _q(f"r_{self._id(resource_id)}")
        names = [f.name for f in fields]
        if not key or any(k not in names for k in key):
            raise _bad("catalog.bad_key", "装载键须为资源字段", "the key must be fields", "key")
        with self._write() as conn:
            known = self.key_of(resource_id)
            if known is not None and tuple(key) != known:
                raise Conflict(
                    "catalog.key_changed",
                    f"该资源按 {', '.join(known)} 装载，不能改用其他键",
                    f"the resource is loaded by key ({', '.join(known)}); it cannot change",
                )
            self._ensure_table(conn, table, fields, key)
            register(conn)
            try:
                landed = merge_incoming(conn, table, names, key)
            finally:
                conn.execute("DROP VIEW IF EXISTS incoming")  # a registered table is a view
            if landed.inserted or landed.updated or self.parquet(resource_id) is None:
                self._write_snapshot(conn, table, resource_id, key)
            if known is None:
                _atomic_write(self._key_file(resource_id), "".join(f"{k}\n" for k in key))
        return landed

    @contextmanager
    def _write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Hold the writer's locks and an open connection to the database file."""
        self.snapshots.mkdir(parents=True, exist_ok=True)
        with self._thread_lock, open(self.root / "rows.lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                conn = duckdb.connect(str(self.db_path))
                try:
                    conn.execute("SET TimeZone = 'UTC'")
                    # A load's merge and snapshot sort spill to disk past this, so a
                    # million-row load does not hold its rows in memory a second time.
                    conn.execute(f"SET memory_limit = '{WRITE_MEMORY}'")
                    conn.execute("SET preserve_insertion_order = false")
                    yield conn
                finally:
                    conn.close()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @staticmethod
    def _ensure_table(
        conn: duckdb.DuckDBPyConnection, table: str, fields: Sequence[FieldSpec], key: Sequence[str]
    ) -> None:
        """Create the resource's table, or add the fields a revision introduced."""
        decl = [f"{_q(f.name)} {_SQL_TYPES.get(f.data_type, 'VARCHAR')}" for f in fields]
        conn.execute(f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(decl)})")
        have = {r[0] for r in conn.execute(f"DESCRIBE {table}").fetchall()}
        for f, d in zip(fields, decl, strict=True):
            if f.name not in have:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {d}")

    def _write_snapshot(
        self, conn: duckdb.DuckDBPyConnection, table: str, resource_id: str, key: Sequence[str]
    ) -> None:
        """Write the table in key order to a temporary file and rename it into place."""
        final = self._snapshot(resource_id)
        temp = final.with_suffix(f".{os.getpid()}.tmp")
        order = ", ".join(_q(k) for k in key)
        conn.execute(
            f"COPY (SELECT * FROM {table} ORDER BY {order}) TO {_lit(str(temp))} "
            "(FORMAT parquet, COMPRESSION zstd)"
        )
        os.replace(temp, final)


def _atomic_write(path: Path, text: str) -> None:
    temp = path.with_suffix(f".{os.getpid()}.tmp")
    temp.write_text(text)
    os.replace(temp, path)
