"""Writes to the temporal representation of entities (spec 1.8, clauses 6.18.3.1, 6.20–6.22).

A temporal body lists, per attribute, an array of instances (one object is taken as an
array of one). Instances are parsed as attribute bodies are, so a bad instance is refused
with its attribute and reason and nothing of the body is written.

Decisions (the spec leaves the live state to the implementation):

- On an entity the broker does not hold, ``POST /temporal/entities`` creates it: its
  current state takes, per attribute and datasetId, the most recent instance (greatest
  ``observedAt``; without one, the last listed), and every instance joins the history.
- On an entity it holds, instances join the history only. The live state changes through
  the entity API, so a late upload of old readings never rolls a sensor's state back.
- Each stored instance is named ``urn:ngsi-ld:attribute-instance:<n>``; that instanceId
  addresses it for modification and deletion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opencitybrain.context.changes import EntityChange, attr_doc
from opencitybrain.context.errors import BadRequestData, ResourceNotFound
from opencitybrain.context.jsonld import CompiledContext
from opencitybrain.context.model import Attribute, Entity, to_doc
from opencitybrain.context.parsing import parse_attribute, parse_entity
from opencitybrain.context.service import ContextBroker
from opencitybrain.context.store_history import HistoryRecord, instance_seq
from opencitybrain.kernel.errors import Conflict

# Members of a temporal body that are not attributes: identity, or set by the system.
_NOT_ATTRIBUTES = {"id", "type", "scope", "@context", "createdAt", "modifiedAt", "deletedAt"}


@dataclass(frozen=True, slots=True)
class TemporalBody:
    """A parsed temporal body: the entity's id and types, and instances by attribute IRI."""

    id: str
    types: tuple[str, ...]
    instances: dict[str, list[Attribute]]


def parse_temporal(
    svc: ContextBroker,
    payload: Any,
    context: CompiledContext,
    now: datetime,
    *,
    entity_id: str | None = None,
) -> TemporalBody:
    """Parse a temporal entity body (``entity_id`` given: an attributes-only body)."""
    if not isinstance(payload, dict):
        raise BadRequestData("时序请求体必须是 JSON 对象", "a temporal body must be a JSON object")
    attrs_only = entity_id is not None
    if entity_id is None:
        head = {k: payload[k] for k in ("id", "type", "scope") if k in payload}
        shell = parse_entity(head, svc.resolver, context, now=now)
        entity_id, types = shell.id, shell.types
    else:
        types = ()
    instances: dict[str, list[Attribute]] = {}
    for name, value in payload.items():
        if name in _NOT_ATTRIBUTES:
            continue
        listed = value if isinstance(value, list) else [value]
        if not listed:
            raise BadRequestData(
                f"属性 {name} 没有任何实例", f"attribute {name} lists no instance", field=name
            )
        for item in listed:
            iri, parsed = parse_attribute(
                name, item, svc.resolver, context, allow_null=False, now=now
            )
            instances.setdefault(iri, []).extend(parsed)
    if attrs_only and not instances:
        raise BadRequestData("请求体没有属性实例", "the body holds no attribute instance")
    return TemporalBody(entity_id, types, instances)


def _held(svc: ContextBroker, tenant: str, entity_id: str) -> Entity | None:
    try:
        return svc.get(tenant, entity_id)
    except ResourceNotFound:
        return None


def _latest(instances: Mapping[str, list[Attribute]]) -> dict[str, list[Attribute]]:
    """Return, per attribute and datasetId, the most recent instance."""
    out: dict[str, list[Attribute]] = {}
    for iri, listed in instances.items():
        best: dict[str | None, tuple[int, Attribute]] = {}
        for order, attr in enumerate(listed):
            current = best.get(attr.dataset_id)
            if current is None or _later(attr, order, *current):
                best[attr.dataset_id] = (order, attr)
        out[iri] = [attr for _, attr in best.values()]
    return out


def _later(attr: Attribute, order: int, best_order: int, best: Attribute) -> bool:
    if attr.observed_at is not None and best.observed_at is not None:
        return (attr.observed_at, order) > (best.observed_at, best_order)
    if (attr.observed_at is None) != (best.observed_at is None):
        return attr.observed_at is not None  # an observed instance beats an unobserved one
    return order > best_order


def _records(body: TemporalBody, types: tuple[str, ...], now: datetime) -> list[HistoryRecord]:
    return [
        HistoryRecord.of(body.id, iri, attr_doc(body.id, types, iri, attr), now)
        for iri, listed in body.instances.items()
        for attr in listed
    ]


def upsert_temporal(
    svc: ContextBroker, tenant: str, payload: Any, context: CompiledContext
) -> tuple[bool, list[EntityChange]]:
    """Create or extend an entity's temporal representation; return (created, changes)."""
    now = svc.clock.now()
    body = parse_temporal(svc, payload, context, now)
    held = _held(svc, tenant, body.id)
    changes: list[EntityChange] = []
    if held is None:
        entity = svc.checked(
            Entity(body.id, body.types, _latest(body.instances), created_at=now, modified_at=now)
        )
        try:
            svc.store.create(tenant, to_doc(entity))
        except Conflict:  # created meanwhile by another writer: the history is added
            pass
        else:
            changes.append(EntityChange(tenant, "created", entity, tuple(entity.attrs)))
    types = held.types if held is not None else body.types
    svc.store.append_history(tenant, _records(body, types, now))
    return bool(changes), changes


def add_temporal_attrs(
    svc: ContextBroker, tenant: str, entity_id: str, payload: Any, context: CompiledContext
) -> int:
    """Add attribute instances to an entity's history; return how many."""
    now = svc.clock.now()
    held = svc.get(tenant, entity_id)  # ResourceNotFound for an entity not held
    body = parse_temporal(svc, payload, context, now, entity_id=held.id)
    return svc.store.append_history(tenant, _records(body, held.types, now))


def delete_temporal_attr(
    svc: ContextBroker,
    tenant: str,
    entity_id: str,
    attr: str,
    *,
    dataset_id: str | None,
    delete_all: bool,
) -> None:
    """Delete an attribute's history: the default instances, one datasetId, or all."""
    held = svc.get(tenant, entity_id)
    dataset = None if delete_all else (dataset_id or "")
    if not svc.store.delete_history(tenant, held.id, [attr], dataset_id=dataset):
        raise ResourceNotFound(
            f"属性没有时序实例：{attr}", f"attribute {attr} has no temporal instance"
        )


def _seq(instance_id: str) -> int:
    seq = instance_seq(instance_id)
    if seq is None:
        raise ResourceNotFound(
            f"没有这个属性实例：{instance_id}", f"no attribute instance {instance_id}"
        )
    return seq


def modify_instance(
    svc: ContextBroker,
    tenant: str,
    entity_id: str,
    attr_name: str,
    instance_id: str,
    payload: Any,
    context: CompiledContext,
) -> None:
    """Replace one attribute instance of an entity's history (clause 6.22.3.1)."""
    held = svc.get(tenant, entity_id)
    now = svc.clock.now()
    iri, parsed = parse_attribute(
        attr_name, payload, svc.resolver, context, allow_null=False, now=now
    )
    if len(parsed) != 1:
        raise BadRequestData(
            "一次只能修改一个属性实例", "one attribute instance is modified at a time"
        )
    record = HistoryRecord.of(held.id, iri, attr_doc(held.id, held.types, iri, parsed[0]), now)
    if not svc.store.replace_instance(tenant, record, _seq(instance_id)):
        raise ResourceNotFound(
            f"没有这个属性实例：{instance_id}", f"no attribute instance {instance_id}"
        )


def delete_instance(
    svc: ContextBroker, tenant: str, entity_id: str, attr: str, instance_id: str
) -> None:
    """Delete one attribute instance of an entity's history (clause 6.22.3.2)."""
    held = svc.get(tenant, entity_id)
    if not svc.store.delete_instance(tenant, held.id, attr, _seq(instance_id)):
        raise ResourceNotFound(
            f"没有这个属性实例：{instance_id}", f"no attribute instance {instance_id}"
        )
