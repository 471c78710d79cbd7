"""What the SQL entity store needs on both engines: JSON in and out, bulk writes, chunks.

JSON goes through msgspec rather than SQLAlchemy's ``json`` round trip: documents are
encoded once here and decoded from the database's text form, which measured about 1.6x
faster on reads of 100k entities and about 4x faster on encoding.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from itertools import islice
from typing import Any, NamedTuple, TypeVar, cast

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from opencitybrain.kernel.errors import InvalidInput

T = TypeVar("T")
S = TypeVar("S")
Doc = dict[str, Any]

# Rows per statement: big enough that per-statement costs vanish, small enough that one
# statement's parameters stay a few MB. Batches of any size are cut into these.
WRITE_CHUNK = 1000
# Bound parameters per IN (...) list: under the 999 that SQLite before 3.32 allows.
IN_CHUNK = 500
# Below this many documents a pause of the garbage collector is not worth it.
_GC_PAUSE_MIN = 64

_decoder = msgspec.json.Decoder()
encode = msgspec.json.encode


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Yield consecutive slices of ``items`` of at most ``size`` elements."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def keys_param(keys: Iterable[str]) -> str:
    """Return keys as the JSON array text that :meth:`SqlBase._in_keys_param` binds."""
    return encode(keys if isinstance(keys, list) else list(keys)).decode()


def decode(text: str | bytes) -> Any:
    """Decode one JSON value."""
    return _decoder.decode(text)


def decode_all(texts: Iterable[str | bytes]) -> list[Any]:
    """Decode many JSON documents, pausing the cyclic garbage collector meanwhile."""
    items = texts if isinstance(texts, list) else list(texts)
    if len(items) < _GC_PAUSE_MIN:
        return [_decoder.decode(t) for t in items]
    # Decoding allocates many containers, and each batch of allocations triggers a
    # collection pass over every live object: with the collector paused, decoding 100k
    # documents measured twice as fast. JSON values hold no reference cycles.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return [_decoder.decode(t) for t in items]
    finally:
        if was_enabled:
            gc.enable()


def parse_instant(text: object, what: str) -> datetime:
    """Parse an ISO-8601 timestamp from a document; naive values count as UTC."""
    try:
        moment = datetime.fromisoformat(text)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            "ngsi.bad_document",
            f"实体文档的 {what} 不是 ISO-8601 时间: {text!r}",
            f"the entity document's {what} is not an ISO-8601 timestamp: {text!r}",
        ) from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def doc_types(doc: Mapping[str, Any]) -> list[str]:
    """Return a document's type IRIs as a list, refusing a document without any."""
    types = doc.get("type")
    if isinstance(types, str):
        return [types]
    if isinstance(types, list) and types and all(isinstance(t, str) for t in types):
        return types
    raise InvalidInput(
        "ngsi.bad_document",
        f"实体文档缺少类型: {doc.get('id')!r}",
        f"the entity document has no type: {doc.get('id')!r}",
    )


def doc_id(doc: Mapping[str, Any]) -> str:
    """Return a document's id, refusing a document without one."""
    entity_id = doc.get("id")
    if not isinstance(entity_id, str) or not entity_id:
        raise InvalidInput("ngsi.bad_document", "实体文档缺少 id", "the entity document has no id")
    return entity_id


class SqlBase:
    """Hold the engine and the few statements that differ between SQLite and PostgreSQL."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._pg = engine.dialect.name == "postgresql"
        self._statements: dict[Hashable, object] = {}

    def _json_text(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
        """Select a JSON column as its text, for msgspec to decode."""
        if self._pg:
            return sa.cast(column, sa.Text)
        # SQLite keeps JSON as text already; only SQLAlchemy's decoding is skipped.
        return sa.type_coerce(column, sa.Text)

    def _json_param(self, name: str) -> sa.ColumnElement[Any]:
        """Bind pre-encoded JSON text for a JSON column."""
        param = sa.bindparam(name, type_=sa.Text)
        return sa.cast(param, postgresql.JSONB) if self._pg else param

    def _is_tenant(self, column: sa.ColumnElement[str], tenant: str) -> sa.ColumnElement[bool]:
        """Return ``column = tenant`` in a form PostgreSQL plans without the tenant's value.

        The planner reads a constant tenant against the table's statistics; a tenant that
        was empty at the last ANALYZE (a batch just filling it) is estimated at one row,
        and each key lookup then walked every row of the tenant: 170 entities/s for 60,000
        upserted into a second tenant, quadratic in the batch. Behind a scalar subquery the
        value is unknown at planning time, so the estimate is an average tenant's size
        and keys are looked up by the primary key.
        """
        if not self._pg:
            return column == tenant
        hidden = sa.select(sa.cast(sa.bindparam(None, tenant, type_=sa.Text), sa.Text))
        return column == hidden.scalar_subquery()

    def _in_keys(
        self, column: sa.ColumnElement[str], keys: Sequence[str]
    ) -> sa.ColumnElement[bool]:
        """Return ``column IN keys`` in the form each engine plans as index lookups."""
        if not self._pg:
            return column.in_(keys)
        # PostgreSQL weighs a long IN list against table statistics; on a table filled in
        # the same transaction (none yet) it chose to read every row of the tenant, 10x
        # slower at 100k entities and quadratic over a big batch. A set-returning
        # function is assumed small, so each key becomes one primary-key probe.
        listed = sa.bindparam(None, encode(list(keys)).decode(), type_=sa.Text)
        values = sa.func.json_array_elements_text(sa.cast(listed, sa.JSON)).table_valued("value")
        return column.in_(sa.select(values.c.value))

    def _tenant_is_param(self, column: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
        """Return ``column = :k_tenant``, hidden from PostgreSQL's planner as in _is_tenant."""
        param = sa.bindparam("k_tenant", type_=sa.Text)
        if not self._pg:
            return column == param
        return column == sa.select(sa.cast(param, sa.Text)).scalar_subquery()

    def _in_keys_param(self, column: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
        """Return ``column IN`` the JSON array of keys bound as ``k_ids`` (see keys_param).

        One parameter for any number of keys, so the statement is built and compiled
        once: with an expanding IN list SQLAlchemy rendered 500 parameters on every call
        (a third of a 1,000-id read on SQLite, measured). Both engines probe the primary
        key once per key (SQLite: ``json_each``; PostgreSQL: as in :meth:`_in_keys`).
        """
        param = sa.bindparam("k_ids", type_=sa.Text)
        if self._pg:
            listed = sa.func.json_array_elements_text(sa.cast(param, sa.JSON))
        else:
            listed = sa.func.json_each(param)
        values = listed.table_valued("value")
        return column.in_(sa.select(values.c.value))

    def _cached(self, key: Hashable, build: Callable[[], S]) -> S:
        """Return the statement built once for ``key`` on this store."""
        # Building a statement costs SQLAlchemy more than executing it (measured: half
        # of a single-entity replace on SQLite); a race only builds it twice.
        found = self._statements.get(key)
        if found is None:
            found = self._statements[key] = build()
        return cast(S, found)

    def _bulk_insert(
        self,
        conn: sa.Connection,
        table: sa.Table,
        rows: Sequence[Mapping[str, Any]],
        *,
        conflict: Sequence[str] = (),
        update: Callable[[Any], Mapping[str, Any]] | None = None,
    ) -> None:
        """Insert ``rows`` (JSON columns as encoded bytes); on conflict skip or update.

        With ``conflict`` and no ``update`` a clashing row is skipped; with ``update``
        the clashing row gets ``update(excluded)`` (one function per table and conflict).
        """
        if not rows:
            return
        names = tuple(rows[0])
        json_cols = frozenset(n for n in names if isinstance(table.c[n].type, sa.JSON))
        key = ("insert", table.name, names, tuple(conflict), update is not None)
        stmt = self._cached(
            key, lambda: self._insert_statement(table, names, json_cols, conflict, update)
        )
        if self._pg:
            for part in chunks(rows, WRITE_CHUNK):
                batch = encode([_raw_json(r, json_cols) for r in part]).decode()
                conn.execute(stmt, {"rows": batch})
            return
        plan = self._cached(
            ("plan", *key), lambda: _driver_plan(stmt, table, names, json_cols, conn)
        )
        for part in chunks(rows, WRITE_CHUNK):
            conn.exec_driver_sql(plan.sql, [plan.row(r) for r in part])

    def _insert_columns(
        self,
        conn: sa.Connection,
        table: sa.Table,
        columns: Mapping[str, Sequence[Any]],
        *,
        conflict: Sequence[str] = (),
        update: Callable[[Any], Mapping[str, Any]] | None = None,
    ) -> None:
        """Insert rows given column by column, as :meth:`_bulk_insert` inserts rows.

        Every column holds one value per row (JSON columns as encoded bytes). On SQLite
        each column is converted once with its bind processor and the rows are zipped
        into one ``executemany`` on the driver: no per-row dictionary or per-value call
        through SQLAlchemy (a batch upsert spent a tenth of its time building them).
        """
        names = tuple(columns)
        size = len(columns[names[0]]) if names else 0
        if not size:
            return
        json_cols = frozenset(n for n in names if isinstance(table.c[n].type, sa.JSON))
        key = ("insert", table.name, names, tuple(conflict), update is not None)
        stmt = self._cached(
            key, lambda: self._insert_statement(table, names, json_cols, conflict, update)
        )
        if self._pg:
            # One JSON array of row objects per chunk, as _bulk_insert sends it; encoded
            # JSON is spliced in verbatim.
            wrapped = [
                [msgspec.Raw(v) for v in values] if name in json_cols else values
                for name, values in columns.items()
            ]
            rows = [dict(zip(names, values, strict=True)) for values in zip(*wrapped, strict=True)]
            for chunk in chunks(rows, WRITE_CHUNK):
                conn.execute(stmt, {"rows": encode(chunk).decode()})
            return
        plan = self._cached(
            ("plan", *key), lambda: _driver_plan(stmt, table, names, json_cols, conn)
        )
        converted: list[Iterable[Any]] = []
        for name, default, proc in plan.params:
            values = columns.get(name)
            if values is None:
                converted.append([default] * size)
            else:
                converted.append(map(proc, values) if proc is not None else values)
        zipped = zip(*converted, strict=True)
        while part := list(islice(zipped, WRITE_CHUNK * 10)):  # a bounded list at a time
            conn.exec_driver_sql(plan.sql, part)

    def _insert_statement(
        self,
        table: sa.Table,
        names: tuple[str, ...],
        json_cols: frozenset[str],
        conflict: Sequence[str],
        update: Callable[[Any], Mapping[str, Any]] | None,
    ) -> postgresql.Insert | sqlite.Insert:
        stmt: postgresql.Insert | sqlite.Insert
        if self._pg:
            # psycopg sends executemany rows one by one and dumps arrays in Python, so
            # both measured about 12k rows/s; one JSON parameter per chunk, unpacked by
            # the server with jsonb_to_recordset, about 3x that. Parsing the chunk as
            # jsonb once costs the server 40% less than json_to_recordset, which parses
            # each document twice.
            columns = [
                sa.column(n, postgresql.JSONB() if n in json_cols else table.c[n].type)
                for n in names
            ]
            source = (
                sa.func.jsonb_to_recordset(
                    sa.cast(sa.bindparam("rows", type_=sa.Text), postgresql.JSONB)
                )
                .table_valued(*columns)
                .render_derived(name="r", with_types=True)
            )
            stmt = postgresql.insert(table).from_select(names, sa.select(*source.c))
        else:
            stmt = sqlite.insert(table).values(
                {n: sa.bindparam(n, type_=sa.Text) for n in json_cols}
            )
        if conflict and update is not None:
            return stmt.on_conflict_do_update(index_elements=conflict, set_=update(stmt.excluded))
        if conflict:
            return stmt.on_conflict_do_nothing(index_elements=conflict)
        return stmt


class _DriverPlan(NamedTuple):
    """An INSERT as driver SQL, and how to turn a row into its positional parameters."""

    sql: str
    params: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...]

    def row(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        """Return the parameters of one row, converted as SQLAlchemy would convert them."""
        return tuple(
            default if name not in row else proc(row[name]) if proc else row[name]
            for name, default, proc in self.params
        )


def _driver_plan(
    stmt: sa.Insert,
    table: sa.Table,
    names: Sequence[str],
    json_cols: frozenset[str],
    conn: sa.Connection,
) -> _DriverPlan:
    # SQLAlchemy's per-row parameter handling took more time than SQLite's executemany
    # itself (measured 8 us of 30 us a row). The statement is compiled once here and
    # each row converted with the same bind processors (aware datetimes to UTC text).
    dialect = conn.dialect
    compiled = stmt.compile(dialect=dialect, column_keys=list(names))
    params = []
    for name in compiled.positiontup or ():
        column = table.c.get(name)
        proc: Callable[[Any], Any] | None = None
        if name in json_cols:
            proc = bytes.decode  # encoded JSON, kept as text (SQLite's JSON functions need it)
        elif column is not None:
            proc = column.type.dialect_impl(dialect).bind_processor(dialect)
            # A batch mostly repeats a few timestamps (written at one moment), and
            # formatting one took a quarter of a row's time; the processors are pure.
            proc = lru_cache(maxsize=4096)(proc) if proc is not None else None
        params.append((name, compiled.params.get(name), proc))
    return _DriverPlan(compiled.string, tuple(params))


def driver_statement(
    stmt: sa.Update, conn: sa.Connection, converted: Mapping[str, sa.ColumnElement[Any]]
) -> _DriverPlan:
    """Compile a statement once for the driver; ``converted`` params bind like those columns."""
    dialect = conn.dialect
    compiled = stmt.compile(dialect=dialect)
    params = []
    for name in compiled.positiontup or ():
        proc: Callable[[Any], Any] | None = None
        column = converted.get(name)
        if column is not None:
            proc = column.type.dialect_impl(dialect).bind_processor(dialect)
        params.append((name, compiled.params.get(name), proc))
    return _DriverPlan(compiled.string, tuple(params))


def driver_scalar(conn: sa.Connection, plan: _DriverPlan, params: Mapping[str, Any]) -> int | None:
    """Run a compiled statement on the driver's cursor; return its first column as int."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(plan.sql, plan.row(params))
        found = cursor.fetchone()
    finally:
        cursor.close()  # resets the statement, so the transaction can commit
    return None if found is None or found[0] is None else int(found[0])


def _raw_json(row: Mapping[str, Any], json_cols: frozenset[str]) -> dict[str, Any]:
    # Already-encoded JSON is spliced into the batch verbatim, not encoded as a string.
    return {k: (msgspec.Raw(v) if k in json_cols else v) for k, v in row.items()}
