"""NGSI-LD temporal API writes at /ngsi-ld/v1/temporal (spec 1.8, clauses 6.18.3.1, 6.20–6.22).

Create or extend an entity's temporal representation, add attribute instances, delete an
attribute's history, and modify or delete one instance by its instanceId. What each does
to the live state is decided in :mod:`opencitybrain.context.temporal_writes`.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from opencitybrain.apikit.auth import ContextWriter
from opencitybrain.context.api_support import (
    JSON_BODY,
    NGSI_RESPONSES,
    TENANT_HEADER,
    broker,
    call_of,
    json_body,
)
from opencitybrain.context.service import ContextBroker
from opencitybrain.context.temporal_writes import (
    add_temporal_attrs,
    delete_instance,
    delete_temporal_attr,
    modify_instance,
    upsert_temporal,
)

router = APIRouter(
    prefix="/ngsi-ld/v1/temporal", tags=["NGSI-LD 实时城市状态"], responses=NGSI_RESPONSES
)
Broker = Annotated[ContextBroker, Depends(broker)]


@router.post(
    "/entities",
    status_code=201,
    openapi_extra=JSON_BODY,
    responses={204: {"description": "已有实体的时序表示已扩充 / temporal representation extended"}},
)
async def upsert_temporal_entity(request: Request, ctx: ContextWriter, svc: Broker) -> Response:
    """Create an entity's temporal representation, or add instances to it (204)."""
    body = await json_body(request)
    call = call_of(request, svc, body, creates=True)
    created, changes = await run_in_threadpool(
        upsert_temporal, svc, call.tenant, body, call.context
    )
    await svc.publish(changes, ctx)
    headers = {TENANT_HEADER: call.tenant} if call.tenant else {}
    if not created:
        return Response(status_code=204, headers=headers)
    entity_id = changes[0].entity.id
    headers["Location"] = f"/ngsi-ld/v1/temporal/entities/{quote(entity_id, safe=':')}"
    return Response(status_code=201, headers=headers)


@router.post("/entities/{entity_id}/attrs", status_code=204, openapi_extra=JSON_BODY)
async def add_temporal_attributes(
    entity_id: str, request: Request, ctx: ContextWriter, svc: Broker
) -> Response:
    """Add attribute instances to an entity's temporal representation."""
    body = await json_body(request)
    call = call_of(request, svc, body)
    await run_in_threadpool(add_temporal_attrs, svc, call.tenant, entity_id, body, call.context)
    return Response(status_code=204)


@router.delete("/entities/{entity_id}/attrs/{attr_id}", status_code=204)
async def delete_temporal_attribute(
    entity_id: str, attr_id: str, request: Request, ctx: ContextWriter, svc: Broker
) -> Response:
    """Delete an attribute's history (``datasetId``, or ``deleteAll=true``)."""
    call = call_of(request, svc)
    p = request.query_params
    await run_in_threadpool(
        lambda: delete_temporal_attr(
            svc,
            call.tenant,
            entity_id,
            call.context.expand(attr_id),
            dataset_id=p.get("datasetId"),
            delete_all=p.get("deleteAll") == "true",
        )
    )
    return Response(status_code=204)


@router.patch(
    "/entities/{entity_id}/attrs/{attr_id}/{instance_id}", status_code=204, openapi_extra=JSON_BODY
)
async def modify_attribute_instance(
    entity_id: str,
    attr_id: str,
    instance_id: str,
    request: Request,
    ctx: ContextWriter,
    svc: Broker,
) -> Response:
    """Replace one attribute instance, named by its instanceId."""
    body = await json_body(request)
    call = call_of(request, svc, body)
    await run_in_threadpool(
        modify_instance, svc, call.tenant, entity_id, attr_id, instance_id, body, call.context
    )
    return Response(status_code=204)


@router.delete("/entities/{entity_id}/attrs/{attr_id}/{instance_id}", status_code=204)
async def delete_attribute_instance(
    entity_id: str,
    attr_id: str,
    instance_id: str,
    request: Request,
    ctx: ContextWriter,
    svc: Broker,
) -> Response:
    """Delete one attribute instance, named by its instanceId."""
    call = call_of(request, svc)
    await run_in_threadpool(
        delete_instance, svc, call.tenant, entity_id, call.context.expand(attr_id), instance_id
    )
    return Response(status_code=204)
