"""HTTP routes of sharing: requests and decisions, grants, governed rows, the audit chain."""

from __future__ import annotations

import asyncio
from typing import Annotated

import msgspec
from fastapi import APIRouter, Depends, Path, Query, Request, Response

from opencitybrain.accounts.model import Permission
from opencitybrain.apikit.auth import require
from opencitybrain.apikit.problems import CONFLICT_RESPONSE, PROBLEM_RESPONSES
from opencitybrain.apikit.services import registry
from opencitybrain.kernel.events import Context
from opencitybrain.sharing.access import MAX_PAGE, GovernedReader, RowQuery
from opencitybrain.sharing.schemas import (
    ApproveBody,
    AuditRecordOut,
    GrantOut,
    ReasonBody,
    RequestBody,
    RequestOut,
    RowsOut,
    VerdictOut,
)
from opencitybrain.sharing.service import SharingService
from opencitybrain.sharing.trail import MAX_RECENT, AuditTrail

router = APIRouter(prefix="/api/v1/sharing", tags=["sharing 数据共享"], responses=PROBLEM_RESPONSES)

Requester = Annotated[Context, Depends(require(Permission.SHARING_REQUEST))]
Decider = Annotated[Context, Depends(require(Permission.SHARING_DECIDE))]
Reader = Annotated[Context, Depends(require(Permission.SHARING_READ))]
Auditor = Annotated[Context, Depends(require(Permission.AUDIT_READ))]
Id = Annotated[str, Path(min_length=1, max_length=32)]
_ENCODER = msgspec.json.Encoder()


def _sharing(request: Request) -> SharingService:
    return registry(request).get(SharingService)


def _reader(request: Request) -> GovernedReader:
    return registry(request).get(GovernedReader)


def _trail(request: Request) -> AuditTrail:
    return registry(request).get(AuditTrail)


Sharing = Annotated[SharingService, Depends(_sharing)]
Rows = Annotated[GovernedReader, Depends(_reader)]
Trail = Annotated[AuditTrail, Depends(_trail)]


@router.post("/requests", status_code=201, response_model=RequestOut)
async def submit_request(ctx: Requester, svc: Sharing, body: RequestBody) -> RequestOut:
    """Ask for fields of another department's resource (无条件: granted at once)."""
    return RequestOut.of(await svc.submit(ctx, body.to_spec()))


@router.get("/requests", response_model=list[RequestOut])
def list_requests(
    ctx: Requester, svc: Sharing, limit: Annotated[int, Query(ge=1, le=500)] = 200
) -> list[RequestOut]:
    """List the requests your department made or must answer (the bureau: all)."""
    return [RequestOut.of(r) for r in svc.requests(ctx, limit)]


@router.get("/requests/{request_id}", response_model=RequestOut)
def get_request(ctx: Requester, svc: Sharing, request_id: Id) -> RequestOut:
    """Return a request with its history."""
    return RequestOut.of(svc.request(ctx, request_id))


@router.post(
    "/requests/{request_id}/approve", response_model=RequestOut, responses=CONFLICT_RESPONSE
)
async def approve_request(
    ctx: Decider, svc: Sharing, request_id: Id, body: ApproveBody
) -> RequestOut:
    """Approve a request (the provider; the bureau for 不予共享 with a legal basis)."""
    return RequestOut.of(await svc.approve(ctx, request_id, body.to_decision()))


@router.post(
    "/requests/{request_id}/refuse", response_model=RequestOut, responses=CONFLICT_RESPONSE
)
async def refuse_request(
    ctx: Decider, svc: Sharing, request_id: Id, body: ReasonBody
) -> RequestOut:
    """Refuse a request with reasons."""
    return RequestOut.of(await svc.refuse(ctx, request_id, body.reason))


@router.get("/grants", response_model=list[GrantOut])
def list_grants(
    ctx: Requester, svc: Sharing, limit: Annotated[int, Query(ge=1, le=500)] = 200
) -> list[GrantOut]:
    """List the grants your department holds or gave (the bureau: all)."""
    return [GrantOut.of(g) for g in svc.grants(ctx, limit)]


@router.post("/grants/{grant_id}/revoke", response_model=GrantOut, responses=CONFLICT_RESPONSE)
async def revoke_grant(ctx: Decider, svc: Sharing, grant_id: Id, body: ReasonBody) -> GrantOut:
    """Revoke a grant (its provider or the bureau)."""
    return GrantOut.of(await svc.revoke(ctx, grant_id, body.reason))


@router.get("/resources/{resource_id}/rows", responses={200: {"model": RowsOut}})
async def read_rows(
    ctx: Reader,
    rows: Rows,
    resource_id: Id,
    grant: Annotated[str | None, Query(max_length=32, description="授权编号 / grant id")] = None,
    field: Annotated[list[str], Query(max_length=500, description="投影 / fields")] = [],  # noqa: B006
    filter: Annotated[
        list[str],
        Query(max_length=20, description="field:op:value (op: eq ne in lt le gt ge prefix)"),
    ] = [],  # noqa: B006
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=0, le=MAX_PAGE)] = 100,
    pseudonyms: bool = False,
    purpose: Annotated[
        str | None, Query(max_length=200, description="用途（或 X-Purpose）")
    ] = None,
) -> Response:
    """Read rows under a grant: projected, filtered, masked per field, audited."""
    query = RowQuery(
        resource_id,
        grant,
        tuple(field),
        (),
        offset,
        limit,
        pseudonyms,
        purpose,
        tuple(t[:500] for t in filter),
    )
    page = await asyncio.to_thread(rows.read, ctx, query)
    doc = {
        "resource_id": page.resource_id, "grant_id": page.grant_id, "fields": page.fields,
        "masked": page.masked, "pseudonymised": page.pseudonymised, "total": page.total,
        "offset": page.offset, "limit": page.limit, "audit_seq": page.audit_seq,
        "rows": msgspec.Raw(page.rows_json),  # the very bytes whose hash was audited
    }  # fmt: skip
    return Response(_ENCODER.encode(doc), media_type="application/json")


@router.get("/audit", response_model=list[AuditRecordOut])
def audit_records(
    ctx: Auditor,
    trail: Trail,
    limit: Annotated[int, Query(ge=1, le=MAX_RECENT)] = 100,
    resource_id: Annotated[str | None, Query(max_length=64)] = None,
    department: Annotated[str | None, Query(max_length=64)] = None,
) -> list[AuditRecordOut]:
    """Return the newest audit records (auditors)."""
    return [AuditRecordOut.of(r) for r in trail.recent(ctx, limit, resource_id, department)]


@router.get("/audit/verify", response_model=VerdictOut)
async def verify_audit(ctx: Auditor, trail: Trail) -> VerdictOut:
    """Verify the whole audit chain and its signed checkpoints; name the first bad record."""
    verdict = await asyncio.to_thread(trail.verify, ctx)
    return VerdictOut.of(verdict, trail.signer.public_key)
