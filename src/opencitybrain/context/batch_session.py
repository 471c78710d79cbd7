"""What every batch operation shares: its result, element checks and in-memory session.

A :class:`BatchSession` reads the entities a batch names once, lets the operation change
them in memory in the order given (an id that repeats applies on top of its earlier
occurrence), then writes them and their history with one ``upsert_many`` (one
transaction). History is taken from the documents written, which are encoded anyway; only
an entity written twice in one batch has its earlier write recorded separately.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from opencitybrain.context.changes import (
    EntityChange,
    What,
    history_of_changes,
    history_of_entity,
)
from opencitybrain.context.errors import BadRequestData, NgsiLdError
from opencitybrain.context.member_rules import is_uri
from opencitybrain.context.model import Entity, from_doc, parse_datetime, to_doc
from opencitybrain.context.service import ContextBroker
from opencitybrain.context.store_history import HistoryRecord
from opencitybrain.context.updates import Changes
from opencitybrain.kernel.errors import CityBrainError

T = TypeVar("T")


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch builds its many objects."""
    # Every few hundred allocations the collector runs, and its older generations walk
    # every live object; a batch keeps tens of thousands alive, so with the collector
    # paused a 10,000-entity upsert measured 2-2.5x faster. Batch data has no cycles.
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


@dataclass
class BatchResult:
    """What a batch did: ids that succeeded, per-entity errors, ids created, changes."""

    success: list[str] = field(default_factory=list)
    errors: list[tuple[str, NgsiLdError]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    changes: list[EntityChange] = field(default_factory=list)
    _succeeded: set[str] = field(default_factory=set)

    def succeed(self, entity_id: str) -> None:
        """Record that one entity succeeded (once, however often it repeats)."""
        if entity_id not in self._succeeded:
            self._succeeded.add(entity_id)
            self.success.append(entity_id)

    def fail(self, entity_id: str, error: CityBrainError) -> None:
        """Record that one entity failed."""
        if not isinstance(error, NgsiLdError):
            error = BadRequestData(error.message_zh, error.message_en)
        self.errors.append((entity_id, error))

    def body(self) -> dict[str, Any]:
        """Return the BatchOperationResult (spec 5.2.16)."""
        return {
            "success": self.success,
            "errors": [{"entityId": i, "error": e.problem()} for i, e in self.errors],
        }


@dataclass(frozen=True, slots=True)
class Item:
    """One array element fit to parse, named by its id (or its position)."""

    label: str
    payload: dict[str, Any]


def check_items(result: BatchResult, raw: Sequence[Any], *, ld: bool) -> list[Item]:
    """Return the elements fit to parse; fail those without an object shape or an id."""
    out: list[Item] = []
    for index, payload in enumerate(raw):
        entity_id = payload.get("id", payload.get("@id")) if isinstance(payload, dict) else None
        # An element without a usable id is named by its position in the array.
        label = entity_id if isinstance(entity_id, str) and entity_id else f"#{index}"
        if not isinstance(payload, dict):
            result.fail(label, BadRequestData("数组元素必须是实体对象", "an element is no object"))
        elif not is_uri(entity_id):
            result.fail(label, BadRequestData("实体 id 缺失或不是 URI", "id missing or no URI"))
        elif ld and "@context" not in payload:
            # Each entity of an application/ld+json batch carries its own @context.
            result.fail(
                label,
                BadRequestData(
                    "application/ld+json 批量请求中的每个实体都必须含 @context",
                    "each entity of an application/ld+json batch must carry its @context",
                    field="@context",
                ),
            )
        elif not ld and "@context" in payload:
            result.fail(
                label,
                BadRequestData(
                    "application/json 请求中的实体不能含 @context（请用 Link 头）",
                    "an entity of an application/json request must not carry @context",
                    field="@context",
                ),
            )
        else:
            out.append(Item(label, payload))
    return out


def parse_items(
    result: BatchResult, items: Iterable[Item], parse: Callable[[dict[str, Any]], T]
) -> list[tuple[str, T]]:
    """Return each item's label and parsed form; fail the items that do not parse."""
    parsed: list[tuple[str, T]] = []
    for item in items:
        try:
            parsed.append((item.label, parse(item.payload)))
        except CityBrainError as exc:
            result.fail(item.label, exc)
    return parsed


def with_types(
    entity: Entity, changes: Changes, types: Sequence[str], now: datetime
) -> tuple[Entity, Changes]:
    """Add a fragment's new types to an entity (multi-typing, clause 4.16)."""
    added = tuple(t for t in types if t not in entity.types)
    if not added:
        return entity, changes
    return (
        replace(entity, types=entity.types + added, modified_at=now),
        replace(changes, types_changed=True),
    )


class BatchSession:
    """The entities a batch reads once, changes in memory and writes in one call."""

    def __init__(self, svc: ContextBroker, tenant: str, ids: Iterable[str]) -> None:
        self.svc = svc
        self.tenant = tenant
        self.now = svc.clock.now()
        self.stored = svc.store.get_many(tenant, ids)
        self.state: dict[str, Entity] = {}
        self.attrs: dict[str, dict[str, None]] = {}  # changed attribute IRIs, per dirty id
        self.last: dict[str, Changes | None] = {}  # each dirty id's last change; None: whole
        self.history: list[HistoryRecord] = []

    def get(self, entity_id: str) -> Entity | None:
        """Return an entity as this batch has it so far, or None if there is none."""
        entity = self.state.get(entity_id)
        if entity is None and entity_id in self.stored:
            entity = self.state[entity_id] = from_doc(self.stored[entity_id])
        return entity

    def _write(self, entity: Entity, names: Iterable[str], changes: Changes | None) -> None:
        if entity.id in self.last:
            # Written before in this batch: record that earlier write now.
            old, earlier = self.state[entity.id], self.last[entity.id]
            self.history += (
                history_of_entity(old, self.now)
                if earlier is None
                else history_of_changes(old, earlier, self.now)
            )
        self.state[entity.id] = entity
        self.last[entity.id] = changes
        self.attrs.setdefault(entity.id, {}).update(dict.fromkeys(names))

    def put(self, entity: Entity) -> None:
        """Take a new or replacing entity; a replaced one keeps its createdAt."""
        names: Iterable[str] = entity.attrs
        old = self.state.get(entity.id)
        if old is not None:
            entity = _created(entity, old.created_at)
            names = [*old.attrs, *entity.attrs]
        elif entity.id in self.stored:
            doc = self.stored[entity.id]
            entity = _created(entity, parse_datetime(doc["createdAt"]))
            names = [*doc.get("attrs", {}), *entity.attrs]
        self._write(entity, names, None)

    def change(self, entity: Entity, changes: Changes) -> None:
        """Take an entity's new state, if the change changed anything."""
        if changes.changed:
            self._write(entity, changes.updated, changes)

    def _records(self, doc: dict[str, Any]) -> list[HistoryRecord]:
        entity_id, attrs, changes = doc["id"], doc["attrs"], self.last[doc["id"]]
        if changes is None:
            return records_of_doc(doc, self.now)
        return [
            HistoryRecord.of(entity_id, c.name, i, self.now)
            for c in changes.attrs
            if c.after is not None
            for i in attrs[c.name]
            if i.get("datasetId") == c.dataset_id
        ]

    def commit(self, result: BatchResult) -> None:
        """Write every changed entity in one transaction, then history; record changes."""
        if not self.attrs:
            return
        docs = {i: to_doc(self.state[i]) for i in self.attrs}
        for doc in docs.values():
            self.history += self._records(doc)
        written = self.svc.store.upsert_many(self.tenant, list(docs.values()), self.history)
        for entity_id, created in written:
            if created:
                result.created.append(entity_id)
            what: What = "created" if created else "updated"
            attrs = tuple(self.attrs[entity_id])
            before = self.stored.get(entity_id, {}).get("attrs", {})
            previous = {n: before[n] for n in attrs if before.get(n)} if not created else None
            entity, doc = self.state[entity_id], docs[entity_id]
            change = EntityChange(self.tenant, what, entity, attrs, None, previous, doc)
            result.changes.append(change)


def _created(entity: Entity, created_at: datetime | None) -> Entity:
    # dataclasses.replace looks up the fields on every call: a third of put's time.
    e = entity
    return Entity(e.id, e.types, e.attrs, e.scope, created_at, e.modified_at)


def records_of_doc(doc: Mapping[str, Any], at: datetime) -> list[HistoryRecord]:
    """Return history records for every attribute instance of an entity document."""
    entity_id = doc["id"]
    # Most instances have neither observedAt nor datasetId: built directly, as ``of`` would.
    return [
        HistoryRecord.of(entity_id, name, instance, at)
        if "observedAt" in instance or "datasetId" in instance
        else HistoryRecord(entity_id, name, instance, at)
        for name, instances in doc["attrs"].items()
        for instance in instances
    ]
