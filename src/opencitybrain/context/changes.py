"""What a change to the city's state leaves behind: CloudEvents and history records.

Every entity change is published on the platform bus as a CloudEvent
(``city.context.entity.created|updated|deleted``), so apps react without HTTP, and every
new attribute instance is kept for the temporal API.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from opencitybrain.context.model import Attribute, Entity, quick_init, to_doc
from opencitybrain.context.store_history import HistoryRecord
from opencitybrain.context.updates import Changes
from opencitybrain.kernel.events import CloudEvent, Context

SOURCE = "/ngsi-ld/v1"
What = Literal["created", "updated", "deleted"]
_EVENT_TYPE = {w: f"city.context.entity.{w}" for w in ("created", "updated", "deleted")}


@quick_init
@dataclass(frozen=True, slots=True)
class EntityChange:
    """One entity created, updated or deleted, with the attributes that changed."""

    tenant: str
    what: What
    entity: Entity
    attrs: tuple[str, ...] = ()
    version: int | None = None  # the store version it produced, when known
    # The changed attributes' instances before the change (storage form), for
    # subscriptions with showChanges; only those that existed before.
    previous: dict[str, list[dict[str, Any]]] | None = None
    # The entity's storage document, when the writer encoded it already (batches do).
    doc: dict[str, Any] | None = None

    def event(self, at: datetime, ctx: Context | None, origin: str = "") -> CloudEvent:
        """Return the CloudEvent announcing the change (``origin``: the writing process)."""
        data: dict[str, Any] = {
            "id": self.entity.id,
            "type": list(self.entity.types),
            "tenant": self.tenant,
            "attrs": list(self.attrs),
            "origin": origin,
        }
        if self.what != "deleted":
            # The state as changed travels with the event, so consumers (notifications in
            # any worker) see each change, not whatever the entity became since.
            data["entity"] = self.doc if self.doc is not None else to_doc(self.entity)
            if self.previous:
                data["previous"] = self.previous
        return CloudEvent(
            type=_EVENT_TYPE[self.what],
            source=SOURCE,
            time=at,
            subject=self.entity.id,
            data=data,
            context=ctx,
        )


def previous_of(old: Entity, names: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Return the storage form of the named attributes as they were in ``old``."""
    kept = {n: old.attrs[n] for n in names if old.attrs.get(n)}
    if not kept:
        return {}
    attrs: dict[str, list[dict[str, Any]]] = to_doc(Entity(old.id, old.types, kept))["attrs"]
    return attrs


def attr_doc(entity_id: str, types: tuple[str, ...], name: str, attr: Attribute) -> dict[str, Any]:
    """Return the storage form of one attribute instance."""
    doc = to_doc(Entity(entity_id, types, {name: [attr]}))
    instance: dict[str, Any] = doc["attrs"][name][0]
    return instance


def history_of_entity(entity: Entity, at: datetime) -> list[HistoryRecord]:
    """Return history records for every attribute instance of a new entity."""
    return [
        HistoryRecord.of(entity.id, name, attr_doc(entity.id, entity.types, name, a), at)
        for name, instances in entity.attrs.items()
        for a in instances
    ]


def history_of_changes(entity: Entity, changes: Changes, at: datetime) -> list[HistoryRecord]:
    """Return history records for the instances an update wrote (deletions are not kept)."""
    return [
        HistoryRecord.of(entity.id, c.name, attr_doc(entity.id, entity.types, c.name, c.after), at)
        for c in changes.attrs
        if c.after is not None
    ]
