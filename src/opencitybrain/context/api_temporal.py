"""NGSI-LD temporal API at /ngsi-ld/v1/temporal (spec 1.8, clauses 6.18-6.19).

Entities are chosen on their current state (``type``, ``id``, ``idPattern``, ``q``,
geo-query, paged with ``limit``/``offset``), then each one's attribute history is read
with ``timerel``/``timeAt``/``endTimeAt``, ``timeproperty``, ``lastN`` and ``attrs``.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from opencitybrain.apikit.auth import ContextReader, ContextWriter
from opencitybrain.context.api_support import (
    NGSI_RESPONSES,
    Call,
    broker,
    call_of,
    csv_param,
    respond,
)
from opencitybrain.context.errors import (
    BadRequestData,
    NotAcceptable,
    OperationNotSupported,
)
from opencitybrain.context.geoquery_input import parse_geoquery
from opencitybrain.context.headers import negotiate
from opencitybrain.context.query import DEFAULT_LIMIT, EntityQuery
from opencitybrain.context.service import ContextBroker
from opencitybrain.context.temporal import (
    Format,
    TemporalFilter,
    entity_history,
    member_selector,
    parse_filter,
    render_temporal,
)

router = APIRouter(
    prefix="/ngsi-ld/v1/temporal", tags=["NGSI-LD 实时城市状态"], responses=NGSI_RESPONSES
)
Broker = Annotated[ContextBroker, Depends(broker)]

_FORMATS = {"normalized", "concise", "temporalValues", "keyValues", "simplified"}
_FLAGS = {"sysAttrs"}
_UNSUPPORTED = {"aggregatedValues"}


@dataclasses.dataclass(frozen=True)
class _Ask:
    call: Call
    filt: TemporalFilter
    fmt: Format
    sys_attrs: bool
    attrs: list[str] | None


def _format(request: Request) -> tuple[Format, bool]:
    flags = set(csv_param(request, "options"))
    raw = request.query_params.get("format")
    if raw:
        flags.add(raw)
    if flags & _UNSUPPORTED:
        raise OperationNotSupported(
            "不支持 aggregatedValues 聚合时序表示",
            "the aggregatedValues temporal representation is not supported",
            field="options",
        )
    unknown = flags - _FORMATS - _FLAGS
    if unknown:
        raise BadRequestData(
            f"未知的 options：{sorted(unknown)}",
            f"unknown options {sorted(unknown)}",
            field="options",
        )
    # The simplified temporal representation is the temporalValues one (4.5.9).
    fmt: Format = "normalized"
    if flags & {"temporalValues", "keyValues", "simplified"}:
        fmt = "temporalValues"
    elif "concise" in flags:
        fmt = "concise"
    return fmt, "sysAttrs" in flags


def _ask(request: Request, svc: ContextBroker) -> _Ask:
    call = call_of(request, svc)
    if call.representation == "geo+json":
        # No GeoJSON form of the temporal representation: offer JSON or JSON-LD only.
        rep = negotiate(request.headers.get("accept"), geo_allowed=False)
        if rep is None:
            raise NotAcceptable(
                "时序表示只提供 application/json 或 application/ld+json",
                "the temporal representation comes as application/json or application/ld+json",
            )
        call = dataclasses.replace(call, representation=rep)
    fmt, sys_attrs = _format(request)
    names = csv_param(request, "attrs")
    attrs = [call.context.expand(a) for a in names] if names else None
    return _Ask(call, parse_filter(request.query_params), fmt, sys_attrs, attrs)


def _render(ask: _Ask, svc: ContextBroker, request: Request, entity: Any, history: Any) -> Any:
    keep = member_selector(
        ask.call.context, csv_param(request, "pick") or None, csv_param(request, "omit") or None
    )
    return render_temporal(
        entity,
        history,
        ask.call.context,
        fmt=ask.fmt,
        time_property=ask.filt.time_property,
        sys_attrs=ask.sys_attrs,
        keep=keep,
        with_context=ask.call.representation == "ld+json",
    )


def _respond(call: Call, body: Any, headers: dict[str, str] | None = None) -> Response:
    # A long history makes a big body: msgspec encodes 10k instances in about 1 ms where
    # the standard json module of JSONResponse took about 30. Headers as respond() sets.
    shell = respond(call, None, headers=headers)
    kept = {k: v for k, v in shell.headers.items() if k not in ("content-length", "content-type")}
    return Response(msgspec.json.encode(body), media_type=shell.media_type, headers=kept)


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


@router.get("/entities/{entity_id}")
async def retrieve_temporal_entity(
    entity_id: str, request: Request, ctx: ContextReader, svc: Broker
) -> Response:
    """Return the temporal evolution of one entity's attributes."""
    ask = _ask(request, svc)

    def load() -> Any:
        entity = svc.get(ask.call.tenant, entity_id)
        history = entity_history(svc.store, ask.call.tenant, entity.id, ask.filt, ask.attrs)
        return _render(ask, svc, request, entity, history)

    return _respond(ask.call, await run_in_threadpool(load))


@router.get("/entities")
async def query_temporal_entities(request: Request, ctx: ContextReader, svc: Broker) -> Response:
    """Query the temporal evolution of entities chosen by type, id, q and geo-query."""
    ask = _ask(request, svc)
    p = request.query_params
    query = EntityQuery(
        context=ask.call.context,
        types=csv_param(request, "type"),
        ids=csv_param(request, "id"),
        id_pattern=p.get("idPattern"),
        attrs=csv_param(request, "attrs"),
        q=p.get("q"),
        scope_q=p.get("scopeQ"),
        geo=parse_geoquery(
            p.get("georel"), p.get("geometry"), p.get("coordinates"), p.get("geoproperty")
        ),
        limit=_int(request, "limit", DEFAULT_LIMIT),
        offset=_int(request, "offset", 0),
        count=p.get("count") == "true",
    )

    def load() -> tuple[list[Any], int | None]:
        result = svc.query(ask.call.tenant, query)  # the in-memory index, as GET /entities
        body = [
            _render(
                ask,
                svc,
                request,
                e,
                entity_history(svc.store, ask.call.tenant, e.id, ask.filt, ask.attrs),
            )
            for e in result.entities
        ]
        return body, result.total

    body, total = await run_in_threadpool(load)
    headers = {"NGSILD-Results-Count": str(total)} if total is not None else {}
    return _respond(ask.call, body, headers)


@router.delete("/entities/{entity_id}", status_code=204)
async def delete_temporal_entity(
    entity_id: str, request: Request, ctx: ContextWriter, svc: Broker
) -> Response:
    """Delete the temporal evolution (attribute history) of an entity."""
    call = call_of(request, svc)

    def remove() -> None:
        removed = svc.store.delete_history(call.tenant, entity_id)
        if not removed:
            # Raises BadRequestData for a non-URI id and ResourceNotFound for no entity.
            svc.get(call.tenant, entity_id)

    await run_in_threadpool(remove)
    return Response(status_code=204)
