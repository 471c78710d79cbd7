"""HTTP routes of key-vehicle supervision: position ingest, vehicles, alerts, tracks, rules."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response

from opencitybrain.accounts.model import Permission
from opencitybrain.apikit.auth import require
from opencitybrain.apikit.problems import PROBLEM_RESPONSES
from opencitybrain.apikit.services import registry
from opencitybrain.apps.fleet.rules import RuleCode, decode_rules, rules_json_schema
from opencitybrain.apps.fleet.service import FleetService
from opencitybrain.kernel.errors import CityBrainError, ErrorKind, InvalidInput
from opencitybrain.kernel.events import Context

router = APIRouter(prefix="/api/v1/fleet", tags=["fleet 重点车辆监管"], responses=PROBLEM_RESPONSES)

FleetReader = Annotated[Context, Depends(require(Permission.FLEET_READ))]
FleetIngester = Annotated[Context, Depends(require(Permission.FLEET_INGEST))]
FleetAdmin = Annotated[Context, Depends(require(Permission.FLEET_ADMIN))]
# A batch bigger than this is refused whole: split it (about 100,000 messages).
MAX_BODY_BYTES = 32 * 2**20

_ENCODER = msgspec.json.Encoder()


def _fleet(request: Request) -> FleetService:
    return registry(request).get(FleetService)


Fleet = Annotated[FleetService, Depends(_fleet)]


def _json(obj: Any) -> Response:
    return Response(_ENCODER.encode(obj), media_type="application/json")


class _TooLarge(CityBrainError):
    def __init__(self) -> None:
        super().__init__(
            "fleet.batch_too_large",
            f"批次超过 {MAX_BODY_BYTES // 2**20} MiB，请拆分",
            f"batch over {MAX_BODY_BYTES // 2**20} MiB: split it",
            ErrorKind.TOO_LARGE,
        )


_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
        "description": "位置消息的 JSON 数组或 JSON Lines / a JSON array or JSON lines of "
        "position messages: device_id, plate, time (RFC 3339 or epoch ms), lon, lat, "
        "crs (wgs84|gcj02), speed (km/h), heading, status (on_duty|off_duty)",
    }
}


@router.post("/positions", openapi_extra=_BODY_DOC)
async def post_positions(request: Request, ctx: FleetIngester, svc: Fleet) -> Response:
    """Ingest a batch of positions; bad messages are quarantined with their index and reason."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise _TooLarge()
    if not body.strip():
        raise InvalidInput("fleet.empty_batch", "批次为空", "the batch is empty")
    outcome = await svc.ingest(body, ctx)
    return _json(outcome.summary())


@router.get("/vehicles")
async def list_vehicles(ctx: FleetReader, svc: Fleet) -> Response:
    """List supervised vehicles with their latest state (NGSI-LD Vehicle, normalized)."""
    return _json(svc.vehicles())


_NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "提醒未变（等待结束）/ no alert opened or closed (the wait ended)"}
}


async def _disconnected(request: Request) -> None:
    """Return when the client goes away (a closed tab must not hold a waiting request)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _changed_or_gone(request: Request, svc: FleetService, seen: str, wait: float) -> str:
    """Return the alerts' tag once it differs from ``seen``, the wait ends or the client goes."""
    waiting = asyncio.ensure_future(svc.watch.wait(seen, wait))
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({waiting, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (waiting, gone):
            task.cancel()
    return svc.watch.etag


@router.get("/alerts", responses=_NOT_MODIFIED)
async def list_alerts(
    request: Request,
    ctx: FleetReader,
    svc: Fleet,
    state: Literal["open", "closed", "all"] = "open",
    rule: RuleCode | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    wait: Annotated[
        float,
        Query(ge=0, le=30, description="与 If-None-Match 同用：等待变化的秒数 / long-poll seconds"),
    ] = 0,
    if_none_match: Annotated[str | None, Header(max_length=64)] = None,
) -> Response:
    """List alerts, newest first: open ones (default), recently closed ones, or all.

    The answer's ``ETag`` is the alert list's version. Sent back as ``If-None-Match``
    with ``wait``, the request waits (up to ``wait`` seconds) until an alert opens or
    closes, then answers at once; ``304`` when nothing changed meanwhile.
    """
    etag = svc.watch.etag
    if if_none_match is not None and if_none_match == etag:
        etag = await _changed_or_gone(request, svc, if_none_match, wait)
        if etag == if_none_match:
            return Response(status_code=304, headers={"ETag": etag})
    answer = _json(svc.alerts(state, rule, limit))
    answer.headers["ETag"] = etag
    return answer


@router.get("/vehicles/{device_id}/track")
async def vehicle_track(
    device_id: str,
    ctx: FleetReader,
    svc: Fleet,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Response:
    """Return a vehicle's recorded positions for playback, oldest first."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(
                "fleet.naive_time", f"{name} 须带时区", f"{name} must carry a UTC offset"
            )
    points = svc.track(
        device_id,
        since.timestamp() if since else None,
        until.timestamp() if until else None,
    )
    return _json(
        {
            "device_id": device_id,
            "points": [[p.t, p.lon, p.lat, p.speed, p.heading] for p in points],
            "columns": ["time", "lon", "lat", "speed", "heading"],
        }
    )


@router.get("/rules")
async def get_rules(ctx: FleetReader, svc: Fleet) -> Response:
    """Return the supervision rules in force."""
    return _json(svc.rules())


_RULES_DOC = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": rules_json_schema()}},
        "description": "完整的规则配置 / the whole rule configuration (see GET /rules)",
    }
}


@router.put("/rules", openapi_extra=_RULES_DOC)
async def put_rules(request: Request, ctx: FleetAdmin, svc: Fleet) -> Response:
    """Replace the supervision rules; the answer carries the new version."""
    rules = decode_rules(await request.body())
    return _json(svc.set_rules(rules))
