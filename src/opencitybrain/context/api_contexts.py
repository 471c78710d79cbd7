"""NGSI-LD @context routes at /ngsi-ld/v1/jsonldContexts (spec 1.8, 5.13, 6.29–6.30).

POST hosts a document and answers 201 with its path in Location (the absolute URL, to
use in Link headers, is the request's base plus that path, and is what GET lists). The
``{contextId}`` of GET and DELETE is a local id or a whole context URL (percent-encoded).
Contexts are shared by all tenants, as the spec has them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from opencitybrain.apikit.auth import ContextReader, ContextWriter
from opencitybrain.context.api_support import JSON_BODY, NGSI_RESPONSES, broker, json_body
from opencitybrain.context.api_types import details_flag
from opencitybrain.context.contexts_service import CONTEXTS_PATH, KINDS, JsonLdContexts
from opencitybrain.context.errors import BadRequestData, NotAcceptable
from opencitybrain.context.headers import JSON, JSONLD, negotiate
from opencitybrain.context.service import ContextBroker

router = APIRouter(
    prefix="/ngsi-ld/v1/jsonldContexts",
    tags=["NGSI-LD 实时城市状态"],
    responses=NGSI_RESPONSES,
)


async def contexts(request: Request) -> JsonLdContexts:
    """Return the @context service over the wired broker's store, resolver and clock."""
    svc: ContextBroker = await broker(request)
    return JsonLdContexts(svc.store, svc.resolver, svc.clock)


Contexts = Annotated[JsonLdContexts, Depends(contexts)]


def _media(request: Request) -> str:
    rep = negotiate(request.headers.get("accept"), geo_allowed=False)
    if rep is None:
        raise NotAcceptable(
            "无法提供所要求的表示（可用 application/json、application/ld+json）",
            "cannot answer in any accepted media type (application/json, application/ld+json)",
        )
    return JSONLD if rep == "ld+json" else JSON


@router.post("", status_code=201, openapi_extra=JSON_BODY)
async def add_context(request: Request, ctx: ContextWriter, svc: Contexts) -> Response:
    """Host a new @context on this server and serve it from now on."""
    body = await json_body(request)
    base = str(request.base_url)
    info = await run_in_threadpool(svc.add, base, body)
    return Response(status_code=201, headers={"Location": CONTEXTS_PATH + info.local_id})


@router.get("")
async def list_contexts(request: Request, ctx: ContextReader, svc: Contexts) -> Response:
    """List @context URLs (``details=true``: kind, local id, createdAt; ``kind`` filters)."""
    media = _media(request)
    details = details_flag(request)
    kind = request.query_params.get("kind")
    if kind is not None and kind not in KINDS:
        raise BadRequestData(
            f"kind 只能是 {', '.join(KINDS)}",
            f"kind must be one of {', '.join(KINDS)}",
            field="kind",
        )
    found = await run_in_threadpool(svc.listing, kind)
    body: list[Any] = [c.details() if details else c.url for c in found]
    return JSONResponse(body, media_type=media)


@router.get("/{context_id:path}")
async def serve_context(
    context_id: str, request: Request, ctx: ContextReader, svc: Contexts
) -> Response:
    """Return an @context document (``details=true``: its description instead)."""
    media = _media(request)
    details = details_flag(request)
    info = await run_in_threadpool(svc.get, context_id)
    if details:
        return JSONResponse(info.details(), media_type=media)
    document = await run_in_threadpool(svc.document, info)
    return JSONResponse(document, media_type=media)


@router.delete("/{context_id:path}", status_code=204)
async def delete_context(
    context_id: str, request: Request, ctx: ContextWriter, svc: Contexts
) -> Response:
    """Delete a hosted @context; packaged ones cannot be deleted."""
    reload = request.query_params.get("reload")
    if reload not in (None, "true", "false"):
        raise BadRequestData(
            "reload 只能是 true 或 false", "reload must be true or false", field="reload"
        )
    if reload == "true":
        # Reloading re-fetches a cached context; this broker never fetches any.
        raise BadRequestData(
            "本代理不从网络获取 @context，无可重新加载",
            "this broker never fetches @contexts, so none can be reloaded",
            field="reload",
        )
    await run_in_threadpool(svc.delete, context_id)
    return Response(status_code=204)
