"""Entity writes: create, replace, upsert and delete, one at a time or in batches.

An entity is one row of ``ngsi_entities`` holding its document, plus one row per type in
``ngsi_entity_types``; every write keeps the two in step in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

import sqlalchemy as sa

from opencitybrain.context.store_history import HistoryRecord, history_columns
from opencitybrain.context.store_puts import put_group
from opencitybrain.context.store_sql import (
    IN_CHUNK,
    WRITE_CHUNK,
    Doc,
    SqlBase,
    chunks,
    decode,
    doc_id,
    doc_types,
    driver_scalar,
    driver_statement,
    encode,
    keys_param,
    parse_instant,
)
from opencitybrain.context.tables import attribute_history, entities, entity_types
from opencitybrain.kernel.errors import Conflict, NotFound

_E = entities.c
_SQLITE_LOCK = "DELETE FROM ngsi_entity_types WHERE 0"  # writes nothing, takes the lock
_T = entity_types.c
# Entities created by one batch call after which PostgreSQL's statistics are refreshed.
ANALYZE_AFTER = 10_000
_CREATE_ATTEMPTS = 3


# Bind parameters of the put statement that need converting on SQLite (the others are
# text or integers already): modifiedAt as the column stores it.
_PUT_PROCS = {"k_modified": _E.modified_at}


class VersionedPut(NamedTuple):
    """One entity replacement expecting a version, with the history it leaves."""

    tenant: str
    doc: Doc
    expected_version: int | None
    history: Sequence[HistoryRecord]


class _Stored(NamedTuple):
    types: list[str]
    created: str | None


def _entity_row(tenant: str, doc: Mapping[str, Any], types: list[str]) -> dict[str, Any]:
    return {
        "tenant": tenant,
        "id": doc_id(doc),
        "types": encode(types),
        "doc": encode(doc),
        "created_at": parse_instant(doc.get("createdAt"), "createdAt"),
        "modified_at": parse_instant(doc.get("modifiedAt"), "modifiedAt"),
        "version": 1,
    }


def _entity_columns(
    tenant: str, docs: Sequence[Mapping[str, Any]], types: Sequence[list[str]]
) -> dict[str, list[Any]]:
    return {
        "tenant": [tenant] * len(docs),
        "id": [d["id"] for d in docs],
        "types": [encode(t) for t in types],
        "doc": [encode(d) for d in docs],
        "created_at": [parse_instant(d.get("createdAt"), "createdAt") for d in docs],
        "modified_at": [parse_instant(d.get("modifiedAt"), "modifiedAt") for d in docs],
        "version": [1] * len(docs),
    }


def _type_rows(tenant: str, entity_id: str, types: Iterable[str]) -> list[dict[str, Any]]:
    return [{"tenant": tenant, "entity_id": entity_id, "type": t} for t in dict.fromkeys(types)]


class SqlEntityWrites(SqlBase):
    """Create, replace, upsert and delete entities in SQL."""

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        with self._engine.begin() as conn:
            if not self._pg:
                # SQLite fails a transaction at once, busy timeout or not, when it read
                # first and another connection wrote before it upgrades to writing. A
                # no-op write takes the write lock up front, so such writers queue.
                # On the driver: SQLAlchemy's execution path cost more than the statement.
                conn.exec_driver_sql(_SQLITE_LOCK)
            yield conn

    def _after_bulk_load(self, created: int) -> None:
        # PostgreSQL plans from statistics that autovacuum refreshes only a minute or so
        # after a load; until then a table filled by one big batch is planned as nearly
        # empty (an ordered page of ids measured 110 ms instead of 3 ms at 100k).
        if self._pg and created >= ANALYZE_AFTER:
            with self._engine.begin() as conn:
                conn.execute(sa.text("ANALYZE ngsi_entities, ngsi_entity_types"))

    def _upsert_entities(self, conn: sa.Connection, columns: Mapping[str, Sequence[Any]]) -> None:
        self._insert_columns(
            conn,
            entities,
            columns,
            conflict=("tenant", "id"),
            update=lambda new: {
                "types": new.types,
                "doc": new.doc,
                "modified_at": new.modified_at,
                "version": _E.version + 1,
            },
        )

    def _stored(self, conn: sa.Connection, tenant: str, ids: Sequence[str]) -> dict[str, _Stored]:
        """Return the types and createdAt text of those of ``ids`` that exist, locked."""
        stmt = self._cached(
            "stored",
            lambda: (
                sa.select(_E.id, self._json_text(_E.types), _E.doc["createdAt"].as_string())
                .where(self._tenant_is_param(_E.tenant), self._in_keys_param(_E.id))
                # Rows are locked in the order they are read: in id order, concurrent
                # batches cannot deadlock whatever plan PostgreSQL picks (a generic plan
                # of this prepared statement did, measured in the contract test).
                .order_by(_E.id)
                .with_for_update()
            ),
        )
        rows = conn.execute(stmt, {"k_tenant": tenant, "k_ids": keys_param(ids)}).all()
        return {r[0]: _Stored(decode(r[1]), r[2]) for r in rows}

    def create(self, tenant: str, doc: Doc) -> None:
        """Insert a new entity; raise Conflict (``ngsi.already_exists``) if its id exists."""
        types = doc_types(doc)
        row = _entity_row(tenant, doc, types)
        try:
            with self._engine.begin() as conn:
                self._bulk_insert(conn, entities, [row])
                self._bulk_insert(conn, entity_types, _type_rows(tenant, row["id"], types))
        except sa.exc.IntegrityError as exc:
            raise Conflict(
                "ngsi.already_exists",
                f"实体已存在: {row['id']}",
                f"the entity exists already: {row['id']}",
            ) from exc

    def create_many(self, tenant: str, docs: Sequence[Doc]) -> set[str]:
        """Insert the entities whose ids are new; return the ids that existed already.

        A repeated id is written once, from its first document.
        """
        fresh: dict[str, Doc] = {}
        for doc in docs:
            fresh.setdefault(doc_id(doc), doc)
        for attempt in range(_CREATE_ATTEMPTS):
            try:
                existed = self._create_absent(tenant, fresh)
                break
            except sa.exc.IntegrityError:
                # On PostgreSQL another writer may create one of these ids after this
                # one looked; looking again finds it.
                if attempt == _CREATE_ATTEMPTS - 1:
                    raise
        self._after_bulk_load(len(fresh) - len(existed))
        return existed

    def _create_absent(self, tenant: str, fresh: Mapping[str, Doc]) -> set[str]:
        existed: set[str] = set()
        with self._write() as conn:
            for part in chunks(sorted(fresh), WRITE_CHUNK):
                old = self._stored(conn, tenant, part)
                existed.update(old)
                rows, type_rows = [], []
                for entity_id in part:
                    if entity_id not in old:
                        types = doc_types(fresh[entity_id])
                        rows.append(_entity_row(tenant, fresh[entity_id], types))
                        type_rows += _type_rows(tenant, entity_id, types)
                self._bulk_insert(conn, entities, rows)
                self._bulk_insert(conn, entity_types, type_rows)
        return existed

    def upsert_many(
        self, tenant: str, docs: Sequence[Doc], history: Sequence[HistoryRecord] = ()
    ) -> list[tuple[str, bool]]:
        """Insert or replace entities and record ``history``, all in one transaction.

        Return (id, created) per doc. An entity that existed keeps its createdAt (the
        stored text replaces the document's). When an id repeats, its last document wins
        and only its first occurrence can count as created.
        """
        ids = [doc_id(d) for d in docs]
        latest = dict(zip(ids, docs, strict=True))
        existed: set[str] = set()
        with self._write() as conn:
            # Sorted ids lock rows in one order, so concurrent batches cannot deadlock.
            for part in chunks(sorted(latest), WRITE_CHUNK):
                old = self._stored(conn, tenant, part)
                existed.update(old)
                kept: list[Doc] = []
                kept_types: list[list[str]] = []
                type_rows, retyped = [], []
                for entity_id in part:
                    doc, prev = latest[entity_id], old.get(entity_id)
                    types = doc_types(doc)
                    if prev is not None and prev.created and doc.get("createdAt") != prev.created:
                        doc = {**doc, "createdAt": prev.created}
                    if prev is None or set(prev.types) != set(types):
                        type_rows += _type_rows(tenant, entity_id, types)
                        if prev is not None:
                            retyped.append(entity_id)
                    kept.append(doc)
                    kept_types.append(types)
                self._upsert_entities(conn, _entity_columns(tenant, kept, kept_types))
                if retyped:
                    conn.execute(
                        sa.delete(entity_types).where(
                            self._is_tenant(_T.tenant, tenant), self._in_keys(_T.entity_id, retyped)
                        )
                    )
                self._bulk_insert(
                    conn, entity_types, type_rows, conflict=("tenant", "entity_id", "type")
                )
            if history:
                self._insert_columns(conn, attribute_history, history_columns(tenant, history))
        self._after_bulk_load(len(latest) - len(existed))
        seen: set[str] = set()
        out = []
        for entity_id in ids:
            out.append((entity_id, entity_id not in existed and entity_id not in seen))
            seen.add(entity_id)
        return out

    def _put_statement(self, same_types: bool, check_version: bool) -> sa.Update:
        stmt = (
            sa.update(entities)
            .where(_E.tenant == sa.bindparam("k_tenant"), _E.id == sa.bindparam("k_id"))
            .values(
                types=self._json_param("types"),
                doc=self._json_param("doc"),
                modified_at=sa.bindparam("k_modified", type_=_E.modified_at.type),
                version=_E.version + 1,
            )
            .returning(_E.version)
        )
        if same_types:
            stmt = stmt.where(_E.types == self._json_param("types"))
        if check_version:
            stmt = stmt.where(_E.version == sa.bindparam("k_version"))
        return stmt

    def put(self, tenant: str, doc: Doc, expected_version: int | None = None) -> int:
        """Replace an entity's document; return its new version.

        Raise NotFound (``ngsi.not_found``) if it does not exist and Conflict
        (``ngsi.version_conflict``) if ``expected_version`` is given and stale. The caller
        read the entity, so the document's createdAt is kept as given.
        """
        with self._engine.begin() as conn:
            # The usual replace keeps the types: one statement, and the type rows stand.
            version = self._put_same_types(conn, tenant, doc, expected_version)
        if version is not None:
            return version
        with self._write() as conn:
            version = self._put_locked(conn, tenant, doc, expected_version, missing_ok=False)
        if version is None:
            raise _version_conflict(doc_id(doc))
        return version

    def commit_updates(self, updates: Sequence[VersionedPut]) -> list[int | None]:
        """Replace entities and record their history in one transaction (group commit).

        Return each update's new version, or None for one whose ``expected_version`` was
        stale or whose entity is gone (nothing of it is written; the others are).
        """
        out: list[int | None] = []
        columns: dict[str, list[Any]] = {}
        with self._write() as conn:
            group = put_group(conn, updates) if self._pg and len(updates) > 1 else None
            for i, u in enumerate(updates):
                if group is not None:
                    version = group.get(i)
                else:
                    version = self._put_same_types(conn, u.tenant, u.doc, u.expected_version)
                if version is None:
                    version = self._put_locked(
                        conn, u.tenant, u.doc, u.expected_version, missing_ok=True
                    )
                out.append(version)
                if version is not None and u.history:
                    more = history_columns(u.tenant, list(u.history))
                    for name, values in more.items():
                        columns.setdefault(name, []).extend(values)
            if columns:
                self._insert_columns(conn, attribute_history, columns)
        return out

    def _put_params(self, tenant: str, doc: Doc, expected: int | None) -> dict[str, Any]:
        return {
            "k_tenant": tenant,
            "k_id": doc_id(doc),
            "k_version": expected,
            "k_modified": parse_instant(doc.get("modifiedAt"), "modifiedAt"),
            "doc": encode(doc).decode(),
            "types": encode(doc_types(doc)).decode(),
        }

    def _put_same_types(
        self, conn: sa.Connection, tenant: str, doc: Doc, expected: int | None
    ) -> int | None:
        """Replace the document if its types are unchanged (and its version is ``expected``)."""
        checked = expected is not None
        stmt = self._cached(("put", True, checked), lambda: self._put_statement(True, checked))
        params = self._put_params(tenant, doc, expected)
        if self._pg:
            version = conn.execute(stmt, params).scalar_one_or_none()
            return None if version is None else int(version)
        # SQLite: the statement compiled once, run on the driver's cursor inside this
        # transaction. SQLAlchemy's execution path took 88 us of a 16 us update (measured);
        # every PATCH makes one, on the writer thread.
        plan = self._cached(("put-plan", checked), lambda: driver_statement(stmt, conn, _PUT_PROCS))
        return driver_scalar(conn, plan, params)

    def _put_locked(
        self, conn: sa.Connection, tenant: str, doc: Doc, expected: int | None, *, missing_ok: bool
    ) -> int | None:
        """Replace the document and its type rows; None if ``expected`` is stale.

        A missing entity raises NotFound, or gives None when ``missing_ok``.
        """
        entity_id = doc_id(doc)
        found = conn.execute(
            sa.select(_E.version).where(_E.tenant == tenant, _E.id == entity_id).with_for_update()
        ).scalar_one_or_none()
        if found is None:
            if missing_ok:
                return None
            raise _not_found(entity_id)
        if expected is not None and found != expected:
            return None
        stmt = self._put_statement(False, False)
        version = conn.execute(stmt, self._put_params(tenant, doc, None)).scalar_one()
        conn.execute(sa.delete(entity_types).where(_T.tenant == tenant, _T.entity_id == entity_id))
        self._bulk_insert(conn, entity_types, _type_rows(tenant, entity_id, doc_types(doc)))
        return int(version)

    def delete(self, tenant: str, entity_id: str) -> bool:
        """Delete an entity; return False if there was none."""
        return bool(self.delete_many(tenant, [entity_id]))

    def delete_many(self, tenant: str, ids: Iterable[str]) -> set[str]:
        """Delete entities in one transaction; return the ids that existed."""
        deleted: set[str] = set()
        with self._engine.begin() as conn:
            for part in chunks(list(dict.fromkeys(ids)), IN_CHUNK):
                gone = conn.execute(
                    sa.delete(entities)
                    .where(self._is_tenant(_E.tenant, tenant), self._in_keys(_E.id, part))
                    .returning(_E.id)
                )
                deleted.update(gone.scalars())
                conn.execute(
                    sa.delete(entity_types).where(
                        self._is_tenant(_T.tenant, tenant), self._in_keys(_T.entity_id, part)
                    )
                )
        return deleted


def _version_conflict(entity_id: str) -> Conflict:
    return Conflict(
        "ngsi.version_conflict",
        f"实体已被他人修改: {entity_id}",
        f"the entity changed meanwhile: {entity_id}",
    )


def _not_found(entity_id: str) -> NotFound:
    return NotFound("ngsi.not_found", f"实体不存在: {entity_id}", f"no such entity: {entity_id}")
