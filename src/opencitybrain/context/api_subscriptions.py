"""NGSI-LD subscription routes at /ngsi-ld/v1/subscriptions (spec 1.8, clauses 5.8, 6.10-6.11)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from opencitybrain.apikit.auth import ContextReader, ContextWriter
from opencitybrain.apikit.services import registry
from opencitybrain.context.api_support import (
    NGSI_RESPONSES,
    TENANT_HEADER,
    Call,
    broker,
    call_of,
    json_body,
    options_of,
    respond,
)
from opencitybrain.context.errors import (
    AlreadyExists,
    BadRequestData,
    NotAcceptable,
    ResourceNotFound,
)
from opencitybrain.context.query import DEFAULT_LIMIT, check_paging
from opencitybrain.context.service import ContextBroker
from opencitybrain.context.subscription_store import SubscriptionStore
from opencitybrain.context.subscriptions import (
    new_subscription,
    patch_subscription,
    render_subscription,
)
from opencitybrain.kernel.errors import Conflict

router = APIRouter(prefix="/ngsi-ld/v1", tags=["NGSI-LD 订阅"], responses=NGSI_RESPONSES)
Broker = Annotated[ContextBroker, Depends(broker)]
# A subscription (or a fragment of one) is a JSON object, checked by the spec's rules.
OBJECT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/ld+json": {"schema": {"type": "object"}},
        },
    }
}


async def subscription_store(request: Request) -> SubscriptionStore:
    """Return the wired subscription store."""
    return registry(request).get(SubscriptionStore)  # type: ignore[type-abstract]


Store = Annotated[SubscriptionStore, Depends(subscription_store)]


def _not_found(sub_id: str) -> ResourceNotFound:
    return ResourceNotFound(f"订阅不存在：{sub_id}", f"no subscription {sub_id}", field="id")


def _checked(sub_id: str) -> str:
    if ":" not in sub_id:
        raise BadRequestData(
            f"订阅 id 不是 URI：{sub_id}", f"subscription id is not a URI: {sub_id}", field="id"
        )
    return sub_id


def _call(
    request: Request, svc: ContextBroker, body: object = None, *, creates: bool = False
) -> Call:
    call = call_of(request, svc, body, creates=creates)
    if call.representation == "geo+json":
        raise NotAcceptable(
            "订阅只能以 application/json 或 application/ld+json 表示",
            "subscriptions come as application/json or application/ld+json only",
        )
    return call


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


@router.post("/subscriptions", status_code=201, openapi_extra=OBJECT_BODY)
async def create_subscription(
    request: Request, ctx: ContextWriter, svc: Broker, store: Store
) -> Response:
    """Create a subscription; notifications start with the next matching change."""
    body = await json_body(request)
    call = _call(request, svc, body, creates=True)
    doc = new_subscription(body, svc.resolver, call.context, svc.clock.now())
    try:
        await run_in_threadpool(store.create, call.tenant, doc)
    except Conflict:
        raise AlreadyExists(
            f"订阅已存在：{doc['id']}", f"subscription {doc['id']} exists already", field="id"
        ) from None
    await run_in_threadpool(svc.tenants.ensure, call.tenant, svc.clock.now())
    headers = {"Location": f"/ngsi-ld/v1/subscriptions/{quote(doc['id'], safe=':')}"}
    if call.tenant:
        headers[TENANT_HEADER] = call.tenant
    return Response(status_code=201, headers=headers)


@router.get("/subscriptions")
async def list_subscriptions(
    request: Request, ctx: ContextReader, svc: Broker, store: Store
) -> Response:
    """List the tenant's subscriptions in id order, with ``limit``, ``offset`` and ``count``."""
    call = _call(request, svc)
    limit, offset = _int(request, "limit", DEFAULT_LIMIT), _int(request, "offset", 0)
    check_paging(limit, offset)
    sys_attrs = "sysAttrs" in options_of(request)
    docs = await run_in_threadpool(lambda: store.list(call.tenant, limit=limit, offset=offset))
    headers = {}
    if request.query_params.get("count") == "true":
        total = await run_in_threadpool(store.count, call.tenant)
        headers["NGSILD-Results-Count"] = str(total)
    now = svc.clock.now()
    with_ctx = call.representation != "json"
    body = [
        render_subscription(d, call.context, now, sys_attrs=sys_attrs, with_context=with_ctx)
        for d in docs
    ]
    return respond(call, body, headers=headers)


@router.get("/subscriptions/{subscription_id}")
async def retrieve_subscription(
    subscription_id: str, request: Request, ctx: ContextReader, svc: Broker, store: Store
) -> Response:
    """Return one subscription with its notification status."""
    call = _call(request, svc)
    sys_attrs = "sysAttrs" in options_of(request)
    doc = await run_in_threadpool(store.get, call.tenant, _checked(subscription_id))
    if doc is None:
        raise _not_found(subscription_id)
    body = render_subscription(
        doc,
        call.context,
        svc.clock.now(),
        sys_attrs=sys_attrs,
        with_context=call.representation != "json",
    )
    return respond(call, body)


@router.patch("/subscriptions/{subscription_id}", status_code=204, openapi_extra=OBJECT_BODY)
async def update_subscription(
    subscription_id: str, request: Request, ctx: ContextWriter, svc: Broker, store: Store
) -> Response:
    """Merge a fragment into a subscription (``isActive: false`` pauses it)."""
    body = await json_body(request)
    call = _call(request, svc, body)
    doc = await run_in_threadpool(store.get, call.tenant, _checked(subscription_id))
    if doc is None:
        raise _not_found(subscription_id)
    new = patch_subscription(doc, body, svc.resolver, call.context, svc.clock.now())
    if not await run_in_threadpool(store.put, call.tenant, new):
        raise _not_found(subscription_id)
    return Response(status_code=204)


@router.delete("/subscriptions/{subscription_id}", status_code=204)
async def delete_subscription(
    subscription_id: str, request: Request, ctx: ContextWriter, svc: Broker, store: Store
) -> Response:
    """Delete a subscription; later changes notify no one through it."""
    call = _call(request, svc)
    if not await run_in_threadpool(store.delete, call.tenant, _checked(subscription_id)):
        raise _not_found(subscription_id)
    return Response(status_code=204)
