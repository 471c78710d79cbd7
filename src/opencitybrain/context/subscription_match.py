"""Which subscriptions an entity change triggers, and the Notification each one gets.

The rules (spec 1.8, clauses 5.2.12 and 5.8.6, where the spec leaves room, as noted):

* a subscription selects an entity when one of its entity selectors does (any of the
  selector's types, then its ``id``, else its ``idPattern`` searched in the id), or,
  without selectors (``watchedAttributes`` only), every entity;
* a change brings trigger reasons: ``entityCreated`` (and ``attributeCreated`` for each
  attribute of the new entity), ``entityDeleted``, or ``entityUpdated`` plus, per changed
  attribute, ``attributeCreated`` (its createdAt is its modifiedAt: it is new),
  ``attributeUpdated``, or ``attributeDeleted`` (the entity no longer has it);
* ``watchedAttributes`` narrows every reason but ``entityCreated`` and ``entityDeleted``
  to changes of a watched attribute;
* ``q`` and ``geoQ`` test the entity as it is after the change. A deleted entity has
  nothing left to test, so subscriptions with ``q`` or ``geoQ`` hear of no deletions.

The triggerReason sent is the first reason the subscription asked for, entity reasons
before attribute reasons.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opencitybrain.context.geoquery import compile_geoquery
from opencitybrain.context.geoquery_input import parse_geoq
from opencitybrain.context.jsonld import CORE_CONTEXT_URL, CompiledContext, ContextResolver
from opencitybrain.context.model import Attribute, Entity, format_datetime, parse_datetime
from opencitybrain.context.query_eval import compile_query
from opencitybrain.context.query_parser import parse_query
from opencitybrain.context.representation import (
    add_previous,
    context_value,
    render_entity,
    render_geojson,
)
from opencitybrain.context.scope_query import scope_filter
from opencitybrain.kernel.ids import new_id

Reason = tuple[str, str | None]  # (trigger, attribute IRI or None)
Doc = dict[str, Any]

NOTIFICATION_PREFIX = "urn:ngsi-ld:Notification:"
_UNWATCHED = frozenset({"entityCreated", "entityDeleted"})
# Members of a normalized attribute that are not sub-attributes (for the concise form).
_MEMBERS = frozenset(
    {"type", "value", "object", "languageMap", "vocab", "json", "valueList", "objectList"}
    | {"observedAt", "unitCode", "datasetId", "objectType", "createdAt", "modifiedAt", "lang"}
)
_ENTITY_MEMBERS = frozenset({"id", "type", "scope", "createdAt", "modifiedAt", "@context"})


@dataclass(frozen=True, slots=True)
class Selector:
    """One entity selector: type IRIs (any of them), then id or idPattern."""

    types: frozenset[str]
    id: str | None = None
    pattern: re.Pattern[str] | None = None

    def selects(self, entity_id: str, types: Sequence[str]) -> bool:
        """Tell whether this selector picks the entity."""
        if self.types.isdisjoint(types):
            return False
        if self.id is not None:
            return entity_id == self.id
        return self.pattern is None or self.pattern.search(entity_id) is not None


@dataclass(frozen=True, slots=True)
class Watch:
    """A subscription compiled for matching: predicates built, names expanded."""

    tenant: str
    id: str
    selectors: tuple[Selector, ...]
    watched: frozenset[str] | None
    triggers: frozenset[str]
    q: Callable[[Entity], bool] | None
    geo: Callable[[Entity], bool] | None
    active: bool
    expires: datetime | None
    throttling: float
    last_notification: datetime | None
    context: CompiledContext
    notification: Doc
    lang: str | None = None
    interval: float | None = None  # timeInterval: periodic notifications, no change ones
    # When the subscription was last written (created, activated, changed): changes
    # made before then are not its to notify, however late they are matched.
    since: datetime | None = None

    def live(self, now: datetime) -> bool:
        """Tell whether the subscription is active and unexpired at ``now``."""
        return self.active and (self.expires is None or now < self.expires)

    def covers(self, changed_at: datetime | None) -> bool:
        """Tell whether a change made at ``changed_at`` falls in this version's watch."""
        return changed_at is None or self.since is None or changed_at >= self.since

    def selects(self, entity_id: str, types: Sequence[str]) -> bool:
        """Tell whether the subscription is about this entity at all."""
        return not self.selectors or any(s.selects(entity_id, types) for s in self.selectors)

    def matches(self, entity: Entity) -> bool:
        """Tell whether an entity is selected and passes ``q`` and ``geoQ``."""
        return (
            self.selects(entity.id, entity.types)
            and (self.q is None or self.q(entity))
            and (self.geo is None or self.geo(entity))
        )

    def trigger(self, reasons: Sequence[Reason], entity: Entity | None) -> str | None:
        """Return the reason to notify of a change, or None (``entity`` None: deleted)."""
        for kind, attr in reasons:
            if kind not in self.triggers:
                continue
            if self.watched is not None and kind not in _UNWATCHED and attr not in self.watched:
                continue
            break
        else:
            return None
        if entity is None:
            return None if self.q is not None or self.geo is not None else kind
        if self.q is not None and not self.q(entity):
            return None
        if self.geo is not None and not self.geo(entity):
            return None
        return kind


def _filters(doc: Doc, ctx: CompiledContext) -> Callable[[Entity], bool] | None:
    """Return the subscription's ``q`` and ``scopeQ`` as one test (None: neither)."""
    q = compile_query(parse_query(doc["q"]), ctx.expand) if "q" in doc else None
    scoped = scope_filter(doc.get("scopeQ"))
    if q is None or scoped is None:
        return q or scoped
    return lambda entity: scoped(entity) and q(entity)


def compile_watch(tenant: str, doc: Doc, resolver: ContextResolver) -> Watch:
    """Compile a stored subscription for matching."""
    query_ctx = resolver.compile(doc.get("@context"))
    render_ctx = resolver.compile(doc["jsonldContext"]) if "jsonldContext" in doc else query_ctx
    selectors = tuple(
        Selector(
            frozenset(s["type"]),
            s.get("id"),
            re.compile(s["idPattern"]) if "idPattern" in s and "id" not in s else None,
        )
        for s in doc.get("entities", ())
    )
    notification = doc["notification"]
    last = notification.get("lastNotification")
    return Watch(
        tenant=tenant,
        id=doc["id"],
        selectors=selectors,
        watched=frozenset(doc["watchedAttributes"]) if "watchedAttributes" in doc else None,
        triggers=frozenset(doc.get("notificationTrigger", ())),
        q=_filters(doc, query_ctx),
        geo=compile_geoquery(parse_geoq(doc["geoQ"]), query_ctx.expand) if "geoQ" in doc else None,
        active=bool(doc.get("isActive", True)),
        expires=parse_datetime(doc["expiresAt"]) if "expiresAt" in doc else None,
        throttling=float(doc.get("throttling", 0)),
        last_notification=parse_datetime(last) if last else None,
        context=render_ctx,
        notification=notification,
        lang=doc.get("lang"),
        interval=float(doc["timeInterval"]) if "timeInterval" in doc else None,
        since=parse_datetime(doc["modifiedAt"]) if doc.get("modifiedAt") else None,
    )


def change_reasons(what: str, attrs: Sequence[str], entity: Entity | None) -> list[Reason]:
    """Return the trigger reasons of one change, entity reasons first."""
    if what == "created":
        return [("entityCreated", None), *(("attributeCreated", a) for a in attrs)]
    if what == "deleted" or entity is None:
        return [("entityDeleted", None)]
    reasons: list[Reason] = [("entityUpdated", a) for a in attrs] or [("entityUpdated", None)]
    for name in attrs:
        instances = entity.attrs.get(name)
        if not instances:
            reasons.append(("attributeDeleted", name))
        elif any(a.created_at is not None and a.created_at == a.modified_at for a in instances):
            reasons.append(("attributeCreated", name))
        else:
            reasons.append(("attributeUpdated", name))
    return reasons


def payload(
    watch: Watch,
    entity: Entity,
    reason: str,
    now: datetime,
    resolver: ContextResolver,
    *,
    deleted: bool = False,
    previous: Mapping[str, list[Attribute]] | None = None,
) -> tuple[str, Doc, dict[str, str]]:
    """Return the endpoint, body and headers of one Notification (clause 5.3.1).

    With ``showChanges`` a normalized (or concise) notification also gives each changed
    attribute's value before the change (``previousValue``, ``previousObject``, …).
    """
    n = watch.notification
    endpoint = n["endpoint"]
    accept = endpoint.get("accept", "application/json")
    ctx = watch.context
    data: Any
    if deleted:
        types = [ctx.compact(t) for t in entity.types]
        data = [{"id": entity.id, "type": types[0] if len(types) == 1 else types,
                 "deletedAt": format_datetime(now)}]  # fmt: skip
    else:
        opts: dict[str, Any] = {
            "key_values": n.get("format") in ("keyValues", "simplified"),
            "sys_attrs": bool(n.get("sysAttrs", False)),
            "attrs": n.get("attributes") or None,
            "lang": watch.lang,
        }
        if accept == "application/geo+json":
            data = render_geojson([entity], resolver, ctx, **opts)
        else:
            item = render_entity(entity, resolver, ctx, **opts)
            if previous and n.get("showChanges") and not opts["key_values"]:
                add_previous(item, previous, ctx, resolver)
            data = [concise(item) if n.get("format") == "concise" else item]
    body: Doc = {
        "id": NOTIFICATION_PREFIX + new_id(),
        "type": "Notification",
        "subscriptionId": watch.id,
        "notifiedAt": format_datetime(now),
        "data": data,
        "triggerReason": reason,
    }
    headers = {"Content-Type": accept}
    if accept == "application/ld+json":
        body["@context"] = context_value(ctx)
    elif (url := _link_url(ctx.value, resolver)) is not None:
        headers["Link"] = (
            f'<{url}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
        )
    if watch.tenant:
        headers["NGSILD-Tenant"] = watch.tenant
    for pair in endpoint.get("receiverInfo", ()):
        headers[pair["key"]] = pair["value"]
    return endpoint["uri"], body, headers


def _link_url(value: Any, resolver: ContextResolver) -> str | None:
    """Return the one URL a Link header can name for an @context, if there is one."""
    if value is None or isinstance(value, str):
        return value or CORE_CONTEXT_URL
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        # The core context applies anyway, so [core, X] is said by linking X alone.
        urls = [v for v in value if not resolver.is_core(v)]
        if len(urls) <= 1:
            return urls[0] if urls else CORE_CONTEXT_URL
    return None


def concise(entity: Doc) -> Doc:
    """Return a normalized entity in the concise form: inferable types and wrappers dropped."""
    return {k: (v if k in _ENTITY_MEMBERS else _concise_attr(v)) for k, v in entity.items()}


def _concise_attr(value: Any) -> Any:
    if isinstance(value, list):
        return [_concise_attr(v) for v in value]
    if not isinstance(value, dict) or "type" not in value:
        return value
    out = {k: (v if k in _MEMBERS else _concise_attr(v)) for k, v in value.items() if k != "type"}
    if set(out) == {"value"} and not isinstance(out["value"], list | dict):
        return out["value"]  # a bare value is a Property
    if value["type"] == "GeoProperty" and set(out) == {"value"}:
        return out["value"]  # a bare GeoJSON geometry is a GeoProperty
    return out
