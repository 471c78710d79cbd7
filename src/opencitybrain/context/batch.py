"""Batch entity operations (spec 5.6.7–5.6.10, 5.6.20; API 6.14–6.18, 6.31), and POST query.

Every operation takes the whole array, lets each bad entity fail alone with its own
ProblemDetails, and writes the good ones in one store call (``create_many``,
``upsert_many``, ``delete_many``: one transaction each), so a batch of any size costs a
few statements rather than one round trip per entity. Entities are read once up front
and changed in memory in the order given, so an id that repeats applies on top of its
earlier occurrence. History records and one :class:`EntityChange` per entity follow, as
for single operations.

Batch update is Append Entity Attributes on each entity (``noOverwrite`` keeps existing
attributes; an entity where some attribute was kept is reported as an error listing
them). Upsert creates missing entities and replaces existing ones, or with
``options=update`` appends to them. A fragment's new types are added to the entity's.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
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
from opencitybrain.context.errors import AlreadyExists, BadRequestData, NgsiLdError
from opencitybrain.context.jsonld import CompiledContext
from opencitybrain.context.member_rules import is_uri
from opencitybrain.context.model import Entity, from_doc, parse_datetime, to_doc
from opencitybrain.context.parsing import Fragment, parse_entity, parse_fragment
from opencitybrain.context.service import ContextBroker, not_found
from opencitybrain.context.store_history import HistoryRecord
from opencitybrain.context.updates import Changes, append_attrs, merge_entity
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
class _Item:
    label: str
    payload: dict[str, Any]


def _items(result: BatchResult, raw: Sequence[Any], *, ld: bool) -> list[_Item]:
    """Return the elements fit to parse; fail those without an object shape or an id."""
    out: list[_Item] = []
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
            out.append(_Item(label, payload))
    return out


def _parse(
    result: BatchResult, items: Iterable[_Item], parse: Callable[[dict[str, Any]], T]
) -> list[tuple[str, T]]:
    parsed: list[tuple[str, T]] = []
    for item in items:
        try:
            parsed.append((item.label, parse(item.payload)))
        except CityBrainError as exc:
            result.fail(item.label, exc)
    return parsed


def _with_types(
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


class _Session:
    """The entities a batch reads once, changes in memory and writes in one call.

    History is taken from the documents written, which are encoded anyway; only an
    entity written twice in one batch has its earlier write recorded separately.
    """

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
            entity = replace(entity, created_at=old.created_at)
            names = [*old.attrs, *entity.attrs]
        elif entity.id in self.stored:
            doc = self.stored[entity.id]
            entity = replace(entity, created_at=parse_datetime(doc["createdAt"]))
            names = [*doc.get("attrs", {}), *entity.attrs]
        self._write(entity, names, None)

    def change(self, entity: Entity, changes: Changes) -> None:
        """Take an entity's new state, if the change changed anything."""
        if changes.changed:
            self._write(entity, changes.updated, changes)

    def _records(self, doc: dict[str, Any]) -> list[HistoryRecord]:
        entity_id, attrs, changes = doc["id"], doc["attrs"], self.last[doc["id"]]
        if changes is None:
            return [
                HistoryRecord.of(entity_id, n, i, self.now) for n, a in attrs.items() for i in a
            ]
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
        docs = [to_doc(self.state[i]) for i in self.attrs]
        for doc in docs:
            self.history += self._records(doc)
        store = self.svc.store
        written = store.upsert_many(self.tenant, docs)
        if self.history:
            store.append_history(self.tenant, self.history)
        for entity_id, created in written:
            if created:
                result.created.append(entity_id)
            what: What = "created" if created else "updated"
            attrs = tuple(self.attrs[entity_id])
            result.changes.append(EntityChange(self.tenant, what, self.state[entity_id], attrs))


def batch_create(
    svc: ContextBroker, tenant: str, raw: Sequence[Any], context: CompiledContext, *, ld: bool
) -> BatchResult:
    """Create the entities that do not exist yet; the others fail with AlreadyExists."""
    result = BatchResult()
    now = svc.clock.now()
    fresh: dict[str, Entity] = {}
    parse = _entity_parser(svc, context, now)
    for label, entity in _parse(result, _items(result, raw, ld=ld), parse):
        if entity.id in fresh:
            result.fail(label, _exists(entity.id))
        else:
            fresh[entity.id] = entity
    existed = svc.store.create_many(tenant, [to_doc(e) for e in fresh.values()]) if fresh else set()
    history: list[HistoryRecord] = []
    for entity_id, entity in fresh.items():
        if entity_id in existed:
            result.fail(entity_id, _exists(entity_id))
            continue
        result.succeed(entity_id)
        result.created.append(entity_id)
        history += history_of_entity(entity, now)
        result.changes.append(EntityChange(tenant, "created", entity, tuple(entity.attrs)))
    if history:
        svc.store.append_history(tenant, history)
    return result


def batch_upsert(
    svc: ContextBroker,
    tenant: str,
    raw: Sequence[Any],
    context: CompiledContext,
    *,
    ld: bool,
    replace_existing: bool = True,
) -> BatchResult:
    """Create missing entities; replace existing ones (or append to them with update)."""
    result = BatchResult()
    items = _items(result, raw, ld=ld)
    session = _Session(svc, tenant, [i.label for i in items])
    for label, new in _parse(result, items, _entity_parser(svc, context, session.now)):
        old = None if replace_existing else session.get(new.id)
        if old is None:
            # Replacing rewrites every attribute as new (Replace Entity, clause 5.6.18).
            session.put(new)
        else:
            entity, changes = append_attrs(old, new.attrs, session.now)
            session.change(*_with_types(entity, changes, new.types, session.now))
        result.succeed(label)
    session.commit(result)
    return result


def batch_update(
    svc: ContextBroker,
    tenant: str,
    raw: Sequence[Any],
    context: CompiledContext,
    *,
    ld: bool,
    overwrite: bool = True,
) -> BatchResult:
    """Append attributes to existing entities (``overwrite=False``: noOverwrite)."""

    def apply(old: Entity, fragment: Fragment, now: datetime) -> tuple[Entity, Changes]:
        entity, changes = append_attrs(old, fragment.attrs, now, overwrite=overwrite)
        return _with_types(entity, changes, fragment.types, now)

    return _fragments(svc, tenant, raw, context, ld, apply, report_skipped=True)


def batch_merge(
    svc: ContextBroker, tenant: str, raw: Sequence[Any], context: CompiledContext, *, ld: bool
) -> BatchResult:
    """Merge each fragment into its existing entity (NGSI-LD Null deletes)."""
    return _fragments(svc, tenant, raw, context, ld, merge_entity, report_skipped=False)


def _fragments(
    svc: ContextBroker,
    tenant: str,
    raw: Sequence[Any],
    context: CompiledContext,
    ld: bool,
    apply: Callable[[Entity, Fragment, datetime], tuple[Entity, Changes]],
    *,
    report_skipped: bool,
) -> BatchResult:
    result = BatchResult()
    items = _items(result, raw, ld=ld)
    session = _Session(svc, tenant, [i.label for i in items])

    def parse(payload: dict[str, Any]) -> Fragment:
        return parse_fragment(payload, svc.resolver, context, now=session.now)

    for label, fragment in _parse(result, items, parse):
        old = session.get(label)
        if old is None:
            result.fail(label, not_found(label))
            continue
        entity, changes = apply(old, fragment, session.now)
        session.change(entity, changes)
        if report_skipped and changes.not_updated:
            result.fail(label, _not_updated(changes, context))
        else:
            result.succeed(label)
    session.commit(result)
    return result


def batch_delete(svc: ContextBroker, tenant: str, raw: Sequence[Any]) -> BatchResult:
    """Delete entities by id; a missing one fails with ResourceNotFound."""
    result = BatchResult()
    ids: list[str] = []
    for index, entity_id in enumerate(raw):
        if not is_uri(entity_id):
            label = entity_id if isinstance(entity_id, str) and entity_id else f"#{index}"
            result.fail(label, BadRequestData("实体 id 必须是 URI", "an entity id must be a URI"))
        elif entity_id not in ids:
            ids.append(entity_id)
    docs = svc.store.get_many(tenant, ids) if ids else {}
    gone = svc.store.delete_many(tenant, ids) if ids else set()
    for entity_id in ids:
        if entity_id not in gone:
            result.fail(entity_id, not_found(entity_id))
            continue
        result.succeed(entity_id)
        # Deleted between the read and the delete by someone else: the id alone is known.
        doc = docs.get(entity_id)
        entity = from_doc(doc) if doc is not None else Entity(entity_id, ())
        result.changes.append(EntityChange(tenant, "deleted", entity))
    return result


def _entity_parser(
    svc: ContextBroker, context: CompiledContext, now: datetime
) -> Callable[[dict[str, Any]], Entity]:
    def parse(payload: dict[str, Any]) -> Entity:
        return parse_entity(payload, svc.resolver, context, now=now)

    return parse


def _exists(entity_id: str) -> AlreadyExists:
    return AlreadyExists(
        f"实体已存在：{entity_id}", f"entity {entity_id} exists already", field="id"
    )


def _not_updated(changes: Changes, context: CompiledContext) -> BadRequestData:
    names = ", ".join(dict.fromkeys(context.compact(n.name) for n in changes.not_updated))
    reason = changes.not_updated[0].reason
    return BadRequestData(
        f"部分属性未更新：{names}（{reason}）", f"attributes not updated: {names}", field="attrs"
    )
