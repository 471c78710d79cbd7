"""NGSI-LD batch routes at /ngsi-ld/v1/entityOperations (spec 1.8, 6.14–6.18, 6.23, 6.31).

Write bodies are arrays of entities (of ids for delete); a body that is not an array is
refused whole, a bad entity fails alone. Answers: 201 with the created ids (create, and
upsert when it created some), 204 when all went well, 207 with a BatchOperationResult
when some failed. ``POST …/query`` takes a Query object and answers as GET /entities.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from opencitybrain.apikit.auth import ContextReader, ContextWriter
from opencitybrain.context.api_support import (
    JSON_BODY,
    NGSI_RESPONSES,
    TENANT_HEADER,
    Call,
    UnsupportedMediaType,
    broker,
    call_of,
    csv_param,
    json_body,
    options_of,
    respond,
)
from opencitybrain.context.batch import (
    batch_create,
    batch_delete,
    batch_merge,
    batch_update,
    batch_upsert,
)
from opencitybrain.context.batch_query import parse_query_body, run_union
from opencitybrain.context.batch_session import BatchResult, gc_paused
from opencitybrain.context.errors import BadRequestData, InvalidRequest
from opencitybrain.context.headers import content_kind, link_context
from opencitybrain.context.query import DEFAULT_LIMIT
from opencitybrain.context.representation import render_entity, render_geojson
from opencitybrain.context.service import ContextBroker
from opencitybrain.kernel.events import Context

router = APIRouter(
    prefix="/ngsi-ld/v1/entityOperations",
    tags=["NGSI-LD 实时城市状态"],
    responses=NGSI_RESPONSES,
)
Broker = Annotated[ContextBroker, Depends(broker)]
_MULTI: dict[int | str, dict[str, Any]] = {
    207: {"description": "部分实体失败 / some entities failed (BatchOperationResult)"}
}

# Bytes, not entities: a batch has no entity ceiling, but a body is held in memory whole.
MAX_BATCH_BODY = 512 * 2**20
_decoder = msgspec.json.Decoder()


async def _batch(
    request: Request, svc: ContextBroker, *, creates: bool = False
) -> tuple[Call, bytes, bool]:
    """Return the call, the raw body and whether entities carry their own @context."""
    kind = content_kind(request.headers.get("content-type"))
    if kind is None:
        raise UnsupportedMediaType(request.headers.get("content-type"))
    raw = await request.body()
    if len(raw) > MAX_BATCH_BODY:
        raise InvalidRequest("请求体过大", f"body larger than {MAX_BATCH_BODY} bytes")
    ld = kind == "ld+json"
    if ld and link_context(request.headers.get("link")) is not None:
        raise BadRequestData(
            "application/ld+json 请求不能同时带 Link @context",
            "an application/ld+json request must not also send a Link @context",
        )
    return call_of(request, svc, creates=creates), raw, ld


def _run(raw: bytes, operation: Callable[[list[Any]], BatchResult]) -> BatchResult:
    """Decode the body array and run a batch operation on it (in a worker thread)."""
    with gc_paused():
        try:
            body = _decoder.decode(raw)
        except msgspec.DecodeError as exc:
            raise InvalidRequest(
                f"请求体不是合法 JSON：{exc}", f"body is not valid JSON: {exc}"
            ) from exc
        if not isinstance(body, list) or not body:
            raise BadRequestData(
                "批量操作的请求体必须是非空 JSON 数组",
                "a batch body must be a non-empty JSON array",
            )
        return operation(body)


async def _publish(svc: ContextBroker, result: BatchResult, ctx: Context) -> None:
    # One event per changed entity: the collector, paused as for the batch itself, would
    # otherwise run several times over the thousands of events and documents a batch makes.
    with gc_paused():
        await svc.publish(result.changes, ctx)


def _answer(call: Call, result: BatchResult, *, created_ids: bool) -> Response:
    if result.errors:
        return respond(call, result.body(), status=207)
    headers = {TENANT_HEADER: call.tenant} if call.tenant else {}
    if created_ids and result.created:
        return JSONResponse(result.created, status_code=201, headers=headers)
    return Response(status_code=204, headers=headers)


@router.post("/create", status_code=201, openapi_extra=JSON_BODY, responses=_MULTI)
async def create_batch(request: Request, ctx: ContextWriter, svc: Broker) -> Response:
    """Create a batch of entities; those that exist already fail alone."""
    call, raw, ld = await _batch(request, svc, creates=True)
    result = await run_in_threadpool(
        _run, raw, lambda body: batch_create(svc, call.tenant, body, call.context, ld=ld)
    )
    await _publish(svc, result, ctx)
    return _answer(call, result, created_ids=True)


@router.post("/upsert", status_code=201, openapi_extra=JSON_BODY, responses=_MULTI)
async def upsert_batch(request: Request, ctx: ContextWriter, svc: Broker) -> Response:
    """Create or replace entities (``options=update`` appends to existing ones)."""
    flags = options_of(request)
    if {"update", "replace"} <= flags:
        raise BadRequestData("options 不能同时含 update 与 replace", "update and replace clash")
    call, raw, ld = await _batch(request, svc, creates=True)
    replace = "update" not in flags
    result = await run_in_threadpool(
        _run,
        raw,
        lambda body: batch_upsert(
            svc, call.tenant, body, call.context, ld=ld, replace_existing=replace
        ),
    )
    await _publish(svc, result, ctx)
    return _answer(call, result, created_ids=True)


@router.post("/update", status_code=204, openapi_extra=JSON_BODY, responses=_MULTI)
async def update_batch(request: Request, ctx: ContextWriter, svc: Broker) -> Response:
    """Append attributes to existing entities (``options=noOverwrite`` keeps existing ones)."""
    overwrite = "noOverwrite" not in options_of(request)
    call, raw, ld = await _batch(request, svc)
    result = await run_in_threadpool(
        _run,
        raw,
        lambda body: batch_update(svc, call.tenant, body, call.context, ld=ld, overwrite=overwrite),
    )
    await _publish(svc, result, ctx)
    return _answer(call, result, created_ids=False)


@router.post("/merge", status_code=204, openapi_extra=JSON_BODY, responses=_MULTI)
async def merge_batch(request: Request, ctx: ContextWriter, svc: Broker) -> Response:
    """Merge fragments into existing entities (NGSI-LD Null deletes)."""
    call, raw, ld = await _batch(request, svc)
    result = await run_in_threadpool(
        _run, raw, lambda body: batch_merge(svc, call.tenant, body, call.context, ld=ld)
    )
    await _publish(svc, result, ctx)
    return _answer(call, result, created_ids=False)


@router.post("/delete", status_code=204, openapi_extra=JSON_BODY, responses=_MULTI)
async def delete_batch(request: Request, ctx: ContextWriter, svc: Broker) -> Response:
    """Delete entities by id; missing ones fail alone."""
    call, raw, _ = await _batch(request, svc)
    result = await run_in_threadpool(_run, raw, lambda body: batch_delete(svc, call.tenant, body))
    await _publish(svc, result, ctx)
    return _answer(call, result, created_ids=False)


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


@router.post("/query", openapi_extra=JSON_BODY)
async def query_batch(request: Request, ctx: ContextReader, svc: Broker) -> Response:
    """Query entities with a Query object in the body; answers as GET /entities."""
    body = await json_body(request)
    call = call_of(request, svc, body)
    flags = options_of(request)
    query = parse_query_body(body, call.context)
    opts: dict[str, Any] = {
        "key_values": bool(flags & {"keyValues", "simplified"}),
        "sys_attrs": "sysAttrs" in flags,
        "attrs": list(query.attrs) or None,
        "pick": csv_param(request, "pick") or None,
        "omit": csv_param(request, "omit") or None,
        "lang": request.query_params.get("lang") or query.lang,
    }
    result = await run_in_threadpool(
        run_union,
        svc.query,
        call.tenant,
        query,
        _int(request, "limit", DEFAULT_LIMIT),
        _int(request, "offset", 0),
        request.query_params.get("count") == "true",
    )
    headers = {"NGSILD-Results-Count": str(result.total)} if result.total is not None else {}
    with_ctx = call.representation != "json"
    if call.representation == "geo+json":
        geoproperty = request.query_params.get("geometryProperty", "location")
        out: Any = render_geojson(
            result.entities,
            svc.resolver,
            call.context,
            geoproperty=geoproperty,
            with_context=with_ctx,
            **opts,
        )
    else:
        out = [
            render_entity(e, svc.resolver, call.context, with_context=with_ctx, **opts)
            for e in result.entities
        ]
    return respond(call, out, headers=headers)
