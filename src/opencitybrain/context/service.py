"""The context broker's use cases on single entities: create, read, update, delete.

Create, read and delete are synchronous (the store is) and return the changes they made.
Updates of an existing entity are queued to the writer thread (group commit) and return a
future of (changes, entity changes): ``.result()`` waits in a thread, and the API awaits
it without blocking the event loop. The caller publishes the entity changes with
:meth:`ContextBroker.publish` on the platform bus. Queries live in
``query.py`` and batch operations in ``batch.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from opencitybrain.context.changes import EntityChange, history_of_entity
from opencitybrain.context.errors import AlreadyExists, BadRequestData, ResourceNotFound
from opencitybrain.context.index import EntityIndex
from opencitybrain.context.jsonld import CompiledContext, ContextResolver, ContextValue
from opencitybrain.context.model import Entity, from_doc, to_doc
from opencitybrain.context.parsing import (
    parse_attribute,
    parse_attributes,
    parse_entity,
    parse_fragment,
)
from opencitybrain.context.query import EntityQuery, QueryResult, run_indexed_query
from opencitybrain.context.store import EntityStore
from opencitybrain.context.tenants import Tenants
from opencitybrain.context.updates import (
    append_attrs,
    delete_attr,
    merge_entity,
    patch_attr,
    replace_attr,
    replace_entity,
    update_attrs,
)
from opencitybrain.context.validation import EntityValidator
from opencitybrain.context.writer import Apply, EntityWriter, Pending
from opencitybrain.kernel.bus import Bus, Subscription
from opencitybrain.kernel.clock import Clock
from opencitybrain.kernel.errors import Conflict
from opencitybrain.kernel.events import CloudEvent, Context
from opencitybrain.kernel.ids import new_id

log = logging.getLogger(__name__)


def not_found(entity_id: str) -> ResourceNotFound:
    """Return the error for a missing entity."""
    return ResourceNotFound(f"实体不存在：{entity_id}", f"no entity {entity_id}", field="id")


class ContextBroker:
    """Keep the city's live state as NGSI-LD entities, with history and change events."""

    def __init__(
        self, store: EntityStore, resolver: ContextResolver, clock: Clock, bus: Bus | None = None
    ) -> None:
        self.store = store
        self.resolver = resolver
        self.clock = clock
        self.bus = bus
        self.index = EntityIndex(store)
        self.writer = EntityWriter(store, self.index, clock, not_found, self.checked)
        self.tenants = Tenants(store)
        self.origin = new_id()  # tells this process's own change events from others'
        self._subscription: Subscription | None = None
        self.validator: EntityValidator | None = None  # per-type schema checks (settings)

    # --- events -------------------------------------------------------------------------

    async def start(self) -> None:
        """Follow other processes' changes on the bus, to keep the index current."""
        if self.bus is not None and self._subscription is None:
            self._subscription = await self.bus.subscribe("city.context.entity.*", self._heard)

    async def stop(self) -> None:
        """Stop following the bus."""
        if self._subscription is not None:
            await self._subscription.unsubscribe()
            self._subscription = None

    async def _heard(self, event: CloudEvent) -> None:
        data = event.data if isinstance(event.data, dict) else {}
        if data.get("origin") == self.origin or "id" not in data:
            return
        self.index.refresh(str(data.get("tenant", "")), str(data["id"]))

    async def publish(self, changes: Sequence[EntityChange], ctx: Context | None) -> None:
        """Apply changes to the index, then announce them on the platform bus (if any)."""
        for change in changes:
            if change.what == "created":
                self.tenants.ensure(change.tenant, self.clock.now())  # clause 4.14
        self.index.apply(changes)
        if self.bus is None:
            return
        now = self.clock.now()
        if len(changes) == 1:
            await self.bus.publish(changes[0].event(now, ctx, self.origin))
        elif changes:  # a batch: pipelined on a networked bus, one round trip for the lot
            await self.bus.publish_many([c.event(now, ctx, self.origin) for c in changes])

    def query(self, tenant: str, query: EntityQuery) -> QueryResult:
        """Answer an entity query from the in-memory index."""
        return run_indexed_query(self.index, tenant, query)

    # --- single entities ----------------------------------------------------------------

    def checked(self, entity: Entity) -> Entity:
        """Return an entity as written once its type's schema (if checked) accepts it."""
        return entity if self.validator is None else self.validator.check(entity)

    def create(
        self, tenant: str, payload: Any, context: ContextValue | CompiledContext
    ) -> tuple[Entity, list[EntityChange]]:
        """Create an entity from its normalized (or concise) JSON."""
        now = self.clock.now()
        entity = self.checked(parse_entity(payload, self.resolver, context, now=now))
        try:
            self.store.create(tenant, to_doc(entity))
        except Conflict:
            raise AlreadyExists(
                f"实体已存在：{entity.id}", f"entity {entity.id} exists already", field="id"
            ) from None
        self.store.append_history(tenant, history_of_entity(entity, now))
        return entity, [EntityChange(tenant, "created", entity, tuple(entity.attrs))]

    def get(self, tenant: str, entity_id: str) -> Entity:
        """Return one entity or raise ResourceNotFound."""
        found = self.index.candidates(tenant, types=None, ids=[_uri(entity_id)], id_pattern=None)
        if not found:
            raise not_found(entity_id)
        return found[0]

    def delete(self, tenant: str, entity_id: str) -> list[EntityChange]:
        """Delete an entity."""
        doc = self.store.get(tenant, _uri(entity_id))
        if doc is None or not self.store.delete(tenant, entity_id):
            raise not_found(entity_id)
        return [EntityChange(tenant, "deleted", from_doc(doc))]

    def append(
        self,
        tenant: str,
        entity_id: str,
        payload: Any,
        context: ContextValue | CompiledContext,
        *,
        overwrite: bool = True,
    ) -> Pending:
        """Add attributes (POST …/attrs); keep existing ones when ``overwrite`` is False."""
        attrs = parse_attributes(payload, self.resolver, context, allow_null=False)
        return self._change(
            tenant, entity_id, lambda e, now: append_attrs(e, attrs, now, overwrite=overwrite)
        )

    def update(
        self, tenant: str, entity_id: str, payload: Any, context: ContextValue | CompiledContext
    ) -> Pending:
        """Update existing attributes only (PATCH …/attrs); report those not updated."""
        attrs = parse_attributes(payload, self.resolver, context)
        return self._change(tenant, entity_id, lambda e, now: update_attrs(e, attrs, now))

    def patch_attribute(
        self,
        tenant: str,
        entity_id: str,
        name: str,
        payload: Any,
        context: ContextValue | CompiledContext,
    ) -> Pending:
        """Partially update one attribute (PATCH …/attrs/{attrId})."""
        iri, instances = parse_attribute(name, payload, self.resolver, context)
        return self._change(tenant, entity_id, lambda e, now: patch_attr(e, iri, instances, now))

    def replace_attribute(
        self,
        tenant: str,
        entity_id: str,
        name: str,
        payload: Any,
        context: ContextValue | CompiledContext,
    ) -> Pending:
        """Replace one attribute (PUT …/attrs/{attrId})."""
        iri, instances = parse_attribute(name, payload, self.resolver, context, allow_null=False)
        return self._change(tenant, entity_id, lambda e, now: replace_attr(e, iri, instances, now))

    def delete_attribute(
        self,
        tenant: str,
        entity_id: str,
        name: str,
        context: ContextValue | CompiledContext,
        *,
        dataset_id: str | None = None,
        delete_all: bool = False,
    ) -> Pending:
        """Delete one attribute's default instance, one datasetId, or all instances."""
        iri = self.resolver.expand(name, context)
        return self._change(
            tenant,
            entity_id,
            lambda e, now: delete_attr(e, iri, now, dataset_id=dataset_id, delete_all=delete_all),
        )

    def replace(
        self, tenant: str, entity_id: str, payload: Any, context: ContextValue | CompiledContext
    ) -> Pending:
        """Replace a whole entity (PUT /entities/{id}), keeping its id and createdAt."""
        body = dict(payload) if isinstance(payload, dict) else payload
        if isinstance(body, dict):
            if "id" in body and body["id"] != entity_id:
                raise BadRequestData(
                    "请求体的 id 与路径不符", "body id differs from path", field="id"
                )
            body["id"] = entity_id
        new = self.checked(parse_entity(body, self.resolver, context, now=self.clock.now()))
        return self._change(tenant, entity_id, lambda e, now: replace_entity(e, new, now))

    def merge(
        self, tenant: str, entity_id: str, payload: Any, context: ContextValue | CompiledContext
    ) -> Pending:
        """Merge a fragment into an entity (PATCH /entities/{id}); NGSI-LD Null deletes."""
        fragment = parse_fragment(payload, self.resolver, context)
        if fragment.id is not None and fragment.id != entity_id:
            raise BadRequestData("请求体的 id 与路径不符", "body id differs from path", field="id")
        return self._change(tenant, entity_id, lambda e, now: merge_entity(e, fragment, now))

    def _change(self, tenant: str, entity_id: str, apply: Apply) -> Pending:
        return self.writer.submit(tenant, _uri(entity_id), apply)

    def close(self) -> None:
        """Finish queued writes and stop the writer thread."""
        self.writer.close()


def _uri(entity_id: str) -> str:
    if ":" not in entity_id:
        raise BadRequestData(
            f"实体 id 不是 URI：{entity_id}", f"entity id is not a URI: {entity_id}", field="id"
        )
    return entity_id
