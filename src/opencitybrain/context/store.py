"""The context broker's store: its port and the SQL implementation (SQLite, PostgreSQL).

An entity is kept as its storage document (``model.to_doc``): ``id``, expanded ``type``
IRIs, ``createdAt``, ``modifiedAt`` and ``attrs``; the store reads only those keys. The
store is the truth: a cache or in-memory index in front of it may be rebuilt from it.
Engines come from ``adapters.sql.make_engine``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa

from opencitybrain.context.store_entities import SqlEntityWrites, VersionedPut
from opencitybrain.context.store_history import (
    HistoryRecord,
    SqlHistory,
    StoredContext,
    TimeProperty,
    TimeRel,
)
from opencitybrain.context.store_reads import SqlEntityReads
from opencitybrain.context.store_scan import SqlEntityScans
from opencitybrain.context.store_sql import Doc
from opencitybrain.context.store_tenants import SqlTenants

__all__ = [
    "Doc",
    "EntityStore",
    "HistoryRecord",
    "SqlEntityStore",
    "StoredContext",
    "TimeProperty",
    "TimeRel",
    "VersionedPut",
]


class EntityStore(Protocol):
    """Persist NGSI-LD entities per tenant, their attribute history and @contexts."""

    def create(self, tenant: str, doc: Doc) -> None:
        """Insert a new entity; raise Conflict (``ngsi.already_exists``) if its id exists."""
        ...

    def create_many(self, tenant: str, docs: Sequence[Doc]) -> set[str]:
        """Insert the entities whose ids are new; return the ids that existed already."""
        ...

    def upsert_many(
        self, tenant: str, docs: Sequence[Doc], history: Sequence[HistoryRecord] = ()
    ) -> list[tuple[str, bool]]:
        """Insert or replace entities and record ``history`` in one transaction.

        Return (id, created) per doc.
        """
        ...

    def put(self, tenant: str, doc: Doc, expected_version: int | None = None) -> int:
        """Replace an entity's document; return its new version."""
        ...

    def commit_updates(self, updates: Sequence[VersionedPut]) -> list[int | None]:
        """Replace entities and record their history in one transaction (group commit).

        Return each update's new version, or None for one whose ``expected_version`` was
        stale or whose entity is gone (nothing of it is written; the others are).
        """
        ...

    def get(self, tenant: str, entity_id: str) -> Doc | None:
        """Return an entity's document, or None."""
        ...

    def get_versioned(self, tenant: str, entity_id: str) -> tuple[Doc, int] | None:
        """Return an entity's document and version (for ``put``), or None."""
        ...

    def get_many(self, tenant: str, ids: Iterable[str]) -> dict[str, Doc]:
        """Return the documents of those of ``ids`` that exist, by id."""
        ...

    def existing_ids(self, tenant: str, ids: Iterable[str]) -> set[str]:
        """Return those of ``ids`` that name an entity."""
        ...

    def delete(self, tenant: str, entity_id: str) -> bool:
        """Delete an entity; return False if there was none."""
        ...

    def delete_many(self, tenant: str, ids: Iterable[str]) -> set[str]:
        """Delete entities in one transaction; return the ids that existed."""
        ...

    def scan(
        self,
        tenant: str,
        *,
        types: Sequence[str] | None = None,
        ids: Sequence[str] | None = None,
        id_pattern: str | None = None,
        after_id: str | None = None,
        limit: int = 100,
    ) -> list[Doc]:
        """Return up to ``limit`` documents in id order, after ``after_id`` if given."""
        ...

    def count(
        self,
        tenant: str,
        *,
        types: Sequence[str] | None = None,
        ids: Sequence[str] | None = None,
        id_pattern: str | None = None,
    ) -> int:
        """Return how many entities ``scan`` would list with no limit."""
        ...

    def types(self, tenant: str) -> dict[str, int]:
        """Return each entity type IRI with how many entities have it."""
        ...

    def attribute_names(self, tenant: str) -> dict[str, set[str]]:
        """Return each attribute IRI with the types of the entities that have it."""
        ...

    def append_history(self, tenant: str, records: Iterable[HistoryRecord]) -> int:
        """Store attribute instances in one transaction; return how many."""
        ...

    def history(
        self,
        tenant: str,
        entity_id: str,
        *,
        attrs: Sequence[str] | None = None,
        timerel: TimeRel | None = None,
        time_at: datetime | None = None,
        end_time_at: datetime | None = None,
        last_n: int | None = None,
        time_property: TimeProperty = "observedAt",
    ) -> dict[str, list[Doc]]:
        """Return an entity's attribute instances by attribute IRI, oldest first."""
        ...

    def delete_history(
        self,
        tenant: str,
        entity_id: str,
        attrs: Sequence[str] | None = None,
        dataset_id: str | None = None,
    ) -> int:
        """Delete an entity's history (of some attributes, one dataset); return rows deleted."""
        ...

    def replace_instance(self, tenant: str, record: HistoryRecord, seq: int) -> bool:
        """Replace one stored instance of the record's attribute; False if there is none."""
        ...

    def delete_instance(self, tenant: str, entity_id: str, attr: str, seq: int) -> bool:
        """Delete one stored instance of an attribute; False if there is none."""
        ...

    def prune_history(self, tenant: str | None, older_than: datetime) -> int:
        """Delete instances recorded before ``older_than`` (all tenants if None)."""
        ...

    def add_tenant(self, tenant: str, at: datetime) -> None:
        """Record that a tenant exists (idempotent)."""
        ...

    def tenant_exists(self, tenant: str) -> bool:
        """Tell whether a tenant exists."""
        ...

    def put_context(self, url: str, document: Any, at: datetime, kind: str = "Hosted") -> None:
        """Store or replace the @context document served at ``url``."""
        ...

    def get_context(self, url: str) -> Any | None:
        """Return the stored @context document at ``url``, or None."""
        ...

    def list_contexts(self) -> list[StoredContext]:
        """Return every stored @context, by url."""
        ...

    def delete_context(self, url: str) -> bool:
        """Delete the @context at ``url``; return False if there was none."""
        ...


class SqlEntityStore(SqlEntityWrites, SqlEntityReads, SqlEntityScans, SqlHistory, SqlTenants):
    """Keep the context broker's state in the platform's SQL database."""

    def __init__(self, engine: sa.Engine) -> None:
        super().__init__(engine)


def _conforms(engine: sa.Engine) -> EntityStore:
    # Type-checks that the SQL store satisfies the port.
    return SqlEntityStore(engine)
