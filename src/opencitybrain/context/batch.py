"""Batch entity operations (spec 5.6.7–5.6.10, 5.6.20; API 6.14–6.18, 6.31).

Every operation takes the whole array, lets each bad entity fail alone with its own
ProblemDetails, and writes the good ones in one store call (``create_many``,
``upsert_many``, ``delete_many``: one transaction each), so a batch of any size costs a
few statements rather than one round trip per entity. History records and one
:class:`EntityChange` per entity follow, as for single operations.

Batch update is Append Entity Attributes on each entity (``noOverwrite`` keeps existing
attributes; an entity where some attribute was kept is reported as an error listing
them). Upsert creates missing entities and replaces existing ones, or with
``options=update`` appends to them. A fragment's new types are added to the entity's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from opencitybrain.context.batch_session import (
    BatchResult,
    BatchSession,
    check_items,
    parse_items,
    records_of_doc,
    with_types,
)
from opencitybrain.context.changes import EntityChange
from opencitybrain.context.errors import AlreadyExists, BadRequestData
from opencitybrain.context.jsonld import CompiledContext
from opencitybrain.context.member_rules import is_uri
from opencitybrain.context.model import Entity, from_doc, to_doc
from opencitybrain.context.parsing import EntityParser, Fragment
from opencitybrain.context.service import ContextBroker, not_found
from opencitybrain.context.store_history import HistoryRecord
from opencitybrain.context.updates import Changes, append_attrs, merge_entity
from opencitybrain.kernel.errors import CityBrainError


def batch_create(
    svc: ContextBroker, tenant: str, raw: Sequence[Any], context: CompiledContext, *, ld: bool
) -> BatchResult:
    """Create the entities that do not exist yet; the others fail with AlreadyExists."""
    result = BatchResult()
    now = svc.clock.now()
    fresh: dict[str, Entity] = {}
    parse = _entity_parser(svc, context, now)
    for label, entity in parse_items(result, check_items(result, raw, ld=ld), parse):
        if entity.id in fresh:
            result.fail(label, _exists(entity.id))
        else:
            fresh[entity.id] = entity
    docs = {entity_id: to_doc(entity) for entity_id, entity in fresh.items()}
    existed = svc.store.create_many(tenant, list(docs.values())) if docs else set()
    history: list[HistoryRecord] = []
    for entity_id, entity in fresh.items():
        if entity_id in existed:
            result.fail(entity_id, _exists(entity_id))
            continue
        result.succeed(entity_id)
        result.created.append(entity_id)
        history += records_of_doc(docs[entity_id], now)
        change = EntityChange(tenant, "created", entity, tuple(entity.attrs), doc=docs[entity_id])
        result.changes.append(change)
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
    items = check_items(result, raw, ld=ld)
    session = BatchSession(svc, tenant, [i.label for i in items])
    parse = _entity_parser(svc, context, session.now, check=replace_existing)
    for label, new in parse_items(result, items, parse):
        old = None if replace_existing else session.get(new.id)
        if old is None:
            # Replacing rewrites every attribute as new (Replace Entity, clause 5.6.18).
            session.put(new)
        else:
            entity, changes = with_types(
                *append_attrs(old, new.attrs, session.now), new.types, session.now
            )
            try:
                session.change(svc.checked(entity), changes)
            except CityBrainError as exc:  # the updated entity breaks its schema
                result.fail(label, exc)
                continue
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
        return with_types(entity, changes, fragment.types, now)

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
    items = check_items(result, raw, ld=ld)
    session = BatchSession(svc, tenant, [i.label for i in items])

    parser = EntityParser(svc.resolver, context, now=session.now, allow_null=True)
    for label, fragment in parse_items(result, items, parser.fragment):
        old = session.get(label)
        if old is None:
            result.fail(label, not_found(label))
            continue
        entity, changes = apply(old, fragment, session.now)
        try:
            session.change(svc.checked(entity) if changes.changed else entity, changes)
        except CityBrainError as exc:  # the updated entity breaks its schema
            result.fail(label, exc)
            continue
        if report_skipped and changes.not_updated:
            result.fail(label, _not_updated(changes, context))
        else:
            result.succeed(label)
    session.commit(result)
    return result


def batch_delete(svc: ContextBroker, tenant: str, raw: Sequence[Any]) -> BatchResult:
    """Delete entities by id; a missing one fails with ResourceNotFound."""
    result = BatchResult()
    wanted: dict[str, None] = {}  # ordered, each id once
    for index, entity_id in enumerate(raw):
        if not is_uri(entity_id):
            label = entity_id if isinstance(entity_id, str) and entity_id else f"#{index}"
            result.fail(label, BadRequestData("实体 id 必须是 URI", "an entity id must be a URI"))
        else:
            wanted[entity_id] = None
    ids = list(wanted)
    docs = svc.store.get_many(tenant, ids) if ids else {}
    gone = svc.store.delete_many(tenant, ids) if ids else set()
    for entity_id in ids:
        if entity_id not in gone:
            result.fail(entity_id, not_found(entity_id))
            continue
        result.succeed(entity_id)
        # Created by someone else between the read and the delete: only its id is known.
        doc = docs.get(entity_id)
        entity = from_doc(doc) if doc is not None else Entity(entity_id, ())
        result.changes.append(EntityChange(tenant, "deleted", entity))
    return result


def _entity_parser(
    svc: ContextBroker, context: CompiledContext, now: datetime, *, check: bool = True
) -> Callable[[dict[str, Any]], Entity]:
    # Whole entities meet their type's schema (where one is checked); an upsert with
    # options=update carries fragments of existing entities, which are not checked.
    parser = EntityParser(svc.resolver, context, now=now)
    if not check or svc.validator is None:
        return parser.entity

    def parse(payload: dict[str, Any]) -> Entity:
        return svc.checked(parser.entity(payload))

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
