"""NGSI-LD API routes at /ngsi-ld/v1: entities and their attributes (spec 1.8, clause 6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from opencitybrain.apikit.auth import ContextReader, ContextWriter
from opencitybrain.apikit.lean_route import LeanRoute
from opencitybrain.context.api_support import (
    JSON_BODY,
    NGSI_RESPONSES,
    broker,
    call_of,
    csv_param,
    json_body,
    options_of,
    respond,
)
from opencitybrain.context.errors import BadRequestData
from opencitybrain.context.geoquery_input import parse_geoquery
from opencitybrain.context.query import DEFAULT_LIMIT, EntityQuery
from opencitybrain.context.representation import render_entity, render_geojson
from opencitybrain.context.service import ContextBroker
from opencitybrain.context.updates import Changes
from opencitybrain.context.writer import Pending, settled
from opencitybrain.kernel.events import Context

# The entity routes carry every device's writes: they resolve their dependencies directly.
router = APIRouter(
    prefix="/ngsi-ld/v1",
    tags=["NGSI-LD 实时城市状态"],
    responses=NGSI_RESPONSES,
    route_class=LeanRoute,
)
Broker = Annotated[ContextBroker, Depends(broker)]


def _int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadRequestData(
            f"{name} 必须是整数", f"{name} must be an integer", field=name
        ) from None


def _render_opts(request: Request) -> dict[str, Any]:
    flags = options_of(request)
    return {
        "key_values": bool(flags & {"keyValues", "simplified"}),
        "sys_attrs": "sysAttrs" in flags,
        "attrs": csv_param(request, "attrs") or None,
        "pick": csv_param(request, "pick") or None,
        "omit": csv_param(request, "omit") or None,
        "lang": request.query_params.get("lang"),
    }


def _changes_response(changes: Changes, svc: ContextBroker, call: Any) -> Response:
    if not changes.not_updated:
        return Response(status_code=204)
    body = {
        "updated": [svc.resolver.compact(n, call.context) for n in changes.updated],
        "notUpdated": [
            {"attributeName": svc.resolver.compact(n.name, call.context), "reason": n.reason}
            for n in changes.not_updated
        ],
    }
    return respond(call, body, status=207)


async def _write_body(
    request: Request,
    ctx: Context,
    svc: ContextBroker,
    op: Callable[..., Pending],
    *args: Any,
) -> Response:
    """Run a body-carrying write (args, then body and @context), publish it, answer 204."""
    body = await json_body(request)
    call = call_of(request, svc, body)
    _, changes = await settled(op(call.tenant, *args, body, call.context))
    await svc.publish(changes, ctx)
    return Response(status_code=204)


@router.post("/entities", status_code=201, openapi_extra=JSON_BODY)
async def create_entity(request: Request, ctx: ContextWriter, svc: Broker) -> Response:
    """Create an entity."""
    body = await json_body(request)
    call = call_of(request, svc, body, creates=True)
    entity, changes = await run_in_threadpool(svc.create, call.tenant, body, call.context)
    await svc.publish(changes, ctx)
    headers = {"Location": f"/ngsi-ld/v1/entities/{quote(entity.id, safe=':')}"}
    if call.tenant:
        headers["NGSILD-Tenant"] = call.tenant
    return Response(status_code=201, headers=headers)


@router.get("/entities")
async def query_entities(request: Request, ctx: ContextReader, svc: Broker) -> Response:
    """Query entities by type, id, idPattern, attrs, q and geo-query, with paging."""
    call = call_of(request, svc)
    p = request.query_params
    opts = _render_opts(request)
    query = EntityQuery(
        context=call.context,
        types=csv_param(request, "type"),
        ids=csv_param(request, "id"),
        id_pattern=p.get("idPattern"),
        attrs=opts["attrs"] or (),
        q=p.get("q"),
        scope_q=p.get("scopeQ"),
        geo=parse_geoquery(
            p.get("georel"), p.get("geometry"), p.get("coordinates"), p.get("geoproperty")
        ),
        limit=_int(request, "limit", DEFAULT_LIMIT),
        offset=_int(request, "offset", 0),
        count=p.get("count") == "true",
    )
    result = await run_in_threadpool(svc.query, call.tenant, query)
    headers = {"NGSILD-Results-Count": str(result.total)} if result.total is not None else {}
    with_ctx = call.representation != "json"
    if call.representation == "geo+json":
        body: Any = render_geojson(
            result.entities,
            svc.resolver,
            call.context,
            geoproperty=p.get("geometryProperty", "location"),
            with_context=with_ctx,
            **opts,
        )
    else:
        body = [
            render_entity(e, svc.resolver, call.context, with_context=with_ctx, **opts)
            for e in result.entities
        ]
    return respond(call, body, headers=headers)


@router.get("/entities/{entity_id}")
async def retrieve_entity(
    entity_id: str, request: Request, ctx: ContextReader, svc: Broker
) -> Response:
    """Return one entity."""
    call = call_of(request, svc)
    entity = await run_in_threadpool(svc.get, call.tenant, entity_id)
    opts = _render_opts(request)
    with_ctx = call.representation != "json"
    if call.representation == "geo+json":
        body = render_geojson(
            [entity],
            svc.resolver,
            call.context,
            with_context=with_ctx,
            geoproperty=request.query_params.get("geometryProperty", "location"),
            **opts,
        )["features"][0]
    else:
        body = render_entity(entity, svc.resolver, call.context, with_context=with_ctx, **opts)
    return respond(call, body)


@router.delete("/entities/{entity_id}", status_code=204)
async def delete_entity(
    entity_id: str, request: Request, ctx: ContextWriter, svc: Broker
) -> Response:
    """Delete an entity."""
    call = call_of(request, svc)
    changes = await run_in_threadpool(svc.delete, call.tenant, entity_id)
    await svc.publish(changes, ctx)
    return Response(status_code=204)


@router.put("/entities/{entity_id}", status_code=204, openapi_extra=JSON_BODY)
async def replace_entity(
    entity_id: str, request: Request, ctx: ContextWriter, svc: Broker
) -> Response:
    """Replace an entity wholesale."""
    return await _write_body(request, ctx, svc, svc.replace, entity_id)


@router.patch("/entities/{entity_id}", status_code=204, openapi_extra=JSON_BODY)
async def merge_entity(
    entity_id: str, request: Request, ctx: ContextWriter, svc: Broker
) -> Response:
    """Merge a fragment into an entity (NGSI-LD Null deletes)."""
    return await _write_body(request, ctx, svc, svc.merge, entity_id)


@router.post(
    "/entities/{entity_id}/attrs",
    status_code=204,
    openapi_extra=JSON_BODY,
    responses={207: {"description": "部分属性未更新 / some attributes not updated"}},
)
async def append_attrs(
    entity_id: str, request: Request, ctx: ContextWriter, svc: Broker
) -> Response:
    """Append attributes (``options=noOverwrite`` keeps existing ones)."""
    body = await json_body(request)
    call = call_of(request, svc, body)
    overwrite = "noOverwrite" not in options_of(request)
    result, changes = await settled(
        svc.append(call.tenant, entity_id, body, call.context, overwrite=overwrite)
    )
    await svc.publish(changes, ctx)
    return _changes_response(result, svc, call)


@router.patch(
    "/entities/{entity_id}/attrs",
    status_code=204,
    openapi_extra=JSON_BODY,
    responses={207: {"description": "部分属性未更新 / some attributes not updated"}},
)
async def update_attrs(
    entity_id: str, request: Request, ctx: ContextWriter, svc: Broker
) -> Response:
    """Update existing attributes; 207 lists those not updated."""
    body = await json_body(request)
    call = call_of(request, svc, body)
    result, changes = await settled(svc.update(call.tenant, entity_id, body, call.context))
    await svc.publish(changes, ctx)
    return _changes_response(result, svc, call)


@router.patch("/entities/{entity_id}/attrs/{attr_id}", status_code=204, openapi_extra=JSON_BODY)
async def patch_attr(
    entity_id: str, attr_id: str, request: Request, ctx: ContextWriter, svc: Broker
) -> Response:
    """Partially update one attribute."""
    return await _write_body(request, ctx, svc, svc.patch_attribute, entity_id, attr_id)


@router.put("/entities/{entity_id}/attrs/{attr_id}", status_code=204, openapi_extra=JSON_BODY)
async def replace_attr(
    entity_id: str, attr_id: str, request: Request, ctx: ContextWriter, svc: Broker
) -> Response:
    """Replace one attribute."""
    return await _write_body(request, ctx, svc, svc.replace_attribute, entity_id, attr_id)


@router.delete("/entities/{entity_id}/attrs/{attr_id}", status_code=204)
async def delete_attr(
    entity_id: str, attr_id: str, request: Request, ctx: ContextWriter, svc: Broker
) -> Response:
    """Delete one attribute (``datasetId``, ``deleteAll=true``)."""
    call = call_of(request, svc)
    p = request.query_params
    _, changes = await settled(
        svc.delete_attribute(
            call.tenant,
            entity_id,
            attr_id,
            call.context,
            dataset_id=p.get("datasetId"),
            delete_all=p.get("deleteAll") == "true",
        )
    )
    await svc.publish(changes, ctx)
    return Response(status_code=204)
