"""NGSI-LD discovery routes: /types and /attributes (spec 1.8, 5.7.5–5.7.10, 6.25–6.28).

Names are compacted with the request's @context; ``id`` members are the fully qualified
names (IRIs), as the spec's EntityType and Attribute data types have them, and a list
gets a fresh ``urn:ngsi-ld:EntityTypeList:…`` / ``urn:ngsi-ld:AttributeList:…`` id. The
store answers the type counts and attribute-to-type map from its indexes; only the
details of one type or one attribute (attribute kinds, instance counts) read documents.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from opencitybrain.apikit.auth import ContextReader
from opencitybrain.context.api_support import NGSI_RESPONSES, Call, broker, call_of, respond
from opencitybrain.context.errors import BadRequestData, NotAcceptable, ResourceNotFound
from opencitybrain.context.headers import negotiate
from opencitybrain.context.representation import context_value
from opencitybrain.context.service import ContextBroker
from opencitybrain.context.store import Doc, EntityStore
from opencitybrain.kernel.ids import new_id

router = APIRouter(prefix="/ngsi-ld/v1", tags=["NGSI-LD 实时城市状态"], responses=NGSI_RESPONSES)
Broker = Annotated[ContextBroker, Depends(broker)]

_PAGE = 1000


def _call(request: Request, svc: ContextBroker) -> Call:
    # Types and attributes have no GeoJSON form, so geo+json alone is not acceptable.
    if negotiate(request.headers.get("accept"), geo_allowed=False) is None:
        raise NotAcceptable(
            "无法提供所要求的表示（可用 application/json、application/ld+json）",
            "cannot answer in any accepted media type (application/json, application/ld+json)",
        )
    return call_of(request, svc)


def details_flag(request: Request) -> bool:
    """Return the ``details`` query parameter, refusing values other than true/false."""
    raw = request.query_params.get("details")
    if raw not in (None, "true", "false"):
        raise BadRequestData(
            "details 只能是 true 或 false", "details must be true or false", field="details"
        )
    return raw == "true"


def _ld(call: Call, body: dict[str, Any]) -> dict[str, Any]:
    if call.representation == "ld+json":
        body["@context"] = context_value(call.context)
    return body


def _docs(store: EntityStore, tenant: str, types: Sequence[str]) -> Iterator[Doc]:
    """Yield every document of entities with any of ``types``, page by page."""
    after: str | None = None
    while True:
        docs = store.scan(tenant, types=types, after_id=after, limit=_PAGE)
        yield from docs
        if len(docs) < _PAGE:
            return
        after = docs[-1]["id"]


def _type_list(svc: ContextBroker, call: Call, details: bool) -> Any:
    counts = svc.store.types(call.tenant)
    compact = call.context.compact
    if not details:
        names = sorted(compact(t) for t in counts)
        return _ld(
            call,
            {
                "id": f"urn:ngsi-ld:EntityTypeList:{new_id()}",
                "type": "EntityTypeList",
                "typeList": names,
            },
        )
    attrs_of: dict[str, set[str]] = {}
    for attr, types in svc.store.attribute_names(call.tenant).items():
        for type_iri in types:
            attrs_of.setdefault(type_iri, set()).add(attr)
    return [
        _ld(
            call,
            {
                "id": t,
                "type": "EntityType",
                "typeName": compact(t),
                "attributeNames": sorted(compact(a) for a in attrs_of.get(t, ())),
            },
        )
        for t in sorted(counts, key=compact)
    ]


def _type_info(svc: ContextBroker, call: Call, name: str) -> dict[str, Any]:
    iri = call.context.expand(name)
    count = svc.store.types(call.tenant).get(iri)
    if count is None:
        raise ResourceNotFound(
            f"没有该类型的实体：{name}", f"no entity of type {name}", field="type"
        )
    kinds: dict[str, set[str]] = {}
    for doc in _docs(svc.store, call.tenant, [iri]):
        for attr, instances in doc.get("attrs", {}).items():
            kinds.setdefault(attr, set()).update(i["type"] for i in instances)
    compact = call.context.compact
    details = [
        {
            "id": a,
            "type": "Attribute",
            "attributeName": compact(a),
            "attributeTypes": sorted(kinds[a]),
        }
        for a in sorted(kinds, key=compact)
    ]
    return _ld(
        call,
        {
            "id": iri,
            "type": "EntityTypeInfo",
            "typeName": compact(iri),
            "entityCount": count,
            "attributeDetails": details,
        },
    )


def _attribute_list(svc: ContextBroker, call: Call, details: bool) -> Any:
    names = svc.store.attribute_names(call.tenant)
    compact = call.context.compact
    ordered = sorted(names, key=compact)
    if not details:
        return _ld(
            call,
            {
                "id": f"urn:ngsi-ld:AttributeList:{new_id()}",
                "type": "AttributeList",
                "attributeList": [compact(a) for a in ordered],
            },
        )
    return [
        _ld(
            call,
            {
                "id": a,
                "type": "Attribute",
                "attributeName": compact(a),
                "typeNames": sorted(compact(t) for t in names[a]),
            },
        )
        for a in ordered
    ]


def _attribute_info(svc: ContextBroker, call: Call, name: str) -> dict[str, Any]:
    iri = call.context.expand(name)
    types = svc.store.attribute_names(call.tenant).get(iri)
    if not types:
        raise ResourceNotFound(f"没有实体含该属性：{name}", f"no entity has attribute {name}")
    kinds: set[str] = set()
    instances = 0
    for doc in _docs(svc.store, call.tenant, sorted(types)):
        found = doc.get("attrs", {}).get(iri, ())
        instances += len(found)
        kinds.update(i["type"] for i in found)
    compact = call.context.compact
    return _ld(
        call,
        {
            "id": iri,
            "type": "Attribute",
            "attributeName": compact(iri),
            "attributeCount": instances,
            "attributeTypes": sorted(kinds),
            "typeNames": sorted(compact(t) for t in types),
        },
    )


@router.get("/types")
async def list_types(request: Request, ctx: ContextReader, svc: Broker) -> Response:
    """List the entity types in use (``details=true``: with their attribute names)."""
    call = _call(request, svc)
    body = await run_in_threadpool(_type_list, svc, call, details_flag(request))
    return respond(call, body)


@router.get("/types/{type_name:path}")
async def retrieve_type(
    type_name: str, request: Request, ctx: ContextReader, svc: Broker
) -> Response:
    """Describe one entity type: how many entities, which attributes of which kinds."""
    call = _call(request, svc)
    return respond(call, await run_in_threadpool(_type_info, svc, call, type_name))


@router.get("/attributes")
async def list_attributes(request: Request, ctx: ContextReader, svc: Broker) -> Response:
    """List the attribute names in use (``details=true``: with the types having them)."""
    call = _call(request, svc)
    body = await run_in_threadpool(_attribute_list, svc, call, details_flag(request))
    return respond(call, body)


@router.get("/attributes/{attr_name:path}")
async def retrieve_attribute(
    attr_name: str, request: Request, ctx: ContextReader, svc: Broker
) -> Response:
    """Describe one attribute: instance count, kinds and the types that have it."""
    call = _call(request, svc)
    return respond(call, await run_in_threadpool(_attribute_info, svc, call, attr_name))
