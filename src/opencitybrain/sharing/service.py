"""Sharing use cases: request, decide (approve, refuse), escalate, revoke, list.

Every status change is stored in the request's history, appended to the audit chain and
announced on the bus as ``city.sharing.<request|grant>.<what>`` with the caller's Context.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import datetime

from opencitybrain.accounts.model import Permission, Role
from opencitybrain.accounts.service import ensure
from opencitybrain.catalog.model import Resource, SharingType
from opencitybrain.catalog.rows import Condition
from opencitybrain.catalog.service import CatalogService
from opencitybrain.kernel.bus import Bus
from opencitybrain.kernel.clock import Clock
from opencitybrain.kernel.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from opencitybrain.kernel.events import CloudEvent, Context
from opencitybrain.kernel.ids import new_id
from opencitybrain.sharing.audit import AuditEntry, AuditKind
from opencitybrain.sharing.events import grant_data, request_data
from opencitybrain.sharing.model import (
    DECISION_WORKING_DAYS,
    REASON_MAX,
    Decider,
    Grant,
    Request,
    RequestSpec,
    RequestStatus,
    StatusChange,
    check_filter,
    check_request,
    decider_of,
    filled,
)
from opencitybrain.sharing.store import SharingStore
from opencitybrain.sharing.trail import AuditTrail
from opencitybrain.worktime import WorkCalendar

log = logging.getLogger(__name__)
SOURCE = "/sharing"
SCAN_INTERVAL_S = 300.0


@dataclass(frozen=True, slots=True)
class Decision:
    """An approval: reasons, a legal basis (不予共享), what is cleared, a narrower filter."""

    reason: str = ""
    legal_basis: str = ""
    clear_fields: tuple[str, ...] | None = None  # None: as requested; else a subset
    row_filter: tuple[Condition, ...] = ()  # ANDed to the request's


def is_bureau(ctx: Context) -> bool:
    """Tell whether the caller acts for the bureau (or is the platform itself)."""
    return bool({"system", Role.BUREAU_ADMIN.value} & ctx.roles)


def _not_found(what: str, ref: str) -> NotFound:
    return NotFound(f"sharing.no_{what}", "共享申请或授权不存在", f"no {what} {ref[:64]!r}")


class SharingService:
    """Requests, decisions and grants between departments."""

    def __init__(
        self,
        store: SharingStore,
        trail: AuditTrail,
        catalog: CatalogService,
        calendar: WorkCalendar,
        clock: Clock,
        bus: Bus,
    ) -> None:
        self.store = store
        self.trail = trail
        self.catalog = catalog
        self.calendar = calendar
        self.clock = clock
        self.bus = bus

    # --- requests ---------------------------------------------------------------------

    async def submit(self, ctx: Context, spec: RequestSpec) -> Request:
        """File a request; an unconditional one without clearing is granted at once.

        A request refused as bad input (unknown resource or fields, no purpose, a past
        period, a malformed filter) is audited too: probing is visible to the auditor.
        """
        ensure(ctx, Permission.SHARING_REQUEST)
        try:
            return await self._submit(ctx, spec)
        except (InvalidInput, NotFound, Forbidden) as exc:
            self.trail.record(
                AuditEntry(
                    AuditKind.REQUEST_REFUSED, ctx, self.clock.now(), spec.resource_id[:64],
                    spec.fields[:50], detail={"code": exc.code},
                )
            )  # fmt: skip
            raise

    async def _submit(self, ctx: Context, spec: RequestSpec) -> Request:
        if not ctx.department:
            raise Forbidden(
                "sharing.no_department",
                "申请须以部门名义提出",
                "a request is made for a department",
            )
        resource = self.catalog.get(ctx, spec.resource_id)
        if resource.department_id == ctx.department:
            raise InvalidInput(
                "sharing.own_resource",
                "本部门的资源无需申请",
                "your department provides it",
                (FieldError("resource_id", "another department's resource"),),
            )
        now = self.clock.now()
        check_request(resource, spec, now)
        decider = decider_of(resource, spec)
        r = Request(
            id=new_id(),
            spec=spec,
            requester_department=ctx.department,
            requested_by=ctx.actor,
            provider_department=resource.department_id,
            decider=decider,
            status=RequestStatus.PENDING,
            created_at=now,
            due_at=None
            if decider is Decider.AUTO
            else self.calendar.add_working_days(now, DECISION_WORKING_DAYS),
            updated_at=now,
            history=(StatusChange(RequestStatus.PENDING, now, ctx.actor),),
        )
        self.store.add_request(r)
        self._audit(ctx, AuditKind.REQUESTED, r, now)
        await self._announce(ctx, "request", "submitted", r.id, request_data(r))
        if decider is Decider.AUTO:
            return await self._grant(
                Context.system("unconditional sharing"),
                r,
                resource,
                Decision(reason="无条件共享 / unconditional"),
            )
        return r

    async def approve(self, ctx: Context, request_id: str, decision: Decision) -> Request:
        """Approve an open request (its provider; the bureau for escalated or bureau ones)."""
        r, resource = self._decidable(ctx, request_id)
        not_shared = resource.spec.sharing_type is SharingType.NONE
        if r.decider is Decider.BUREAU and not_shared and not filled(decision.legal_basis):
            raise InvalidInput(
                "sharing.needs_legal_basis",
                "不予共享的资源须记录法律依据方可批准",
                "a resource not for sharing is granted only with a legal basis",
                (FieldError("legal_basis", "required"),),
            )
        cleared = decision.clear_fields
        if cleared is not None and not set(cleared) <= set(r.spec.clear_fields):
            raise InvalidInput(
                "sharing.clear_not_requested",
                "只能批准所申请取消脱敏的信息项",
                "only fields asked to be cleared can be cleared",
                (FieldError("clear_fields", "subset of the request's clear_fields"),),
            )
        check_filter(resource, decision.row_filter, "row_filter")
        return await self._grant(ctx, r, resource, decision)

    async def refuse(self, ctx: Context, request_id: str, reason: str) -> Request:
        """Refuse an open request; reasons are required."""
        if not filled(reason):
            raise InvalidInput(
                "sharing.needs_reason",
                "拒绝须说明理由",
                "a refusal needs reasons",
                (FieldError("reason", "required"),),
            )
        r, _ = self._decidable(ctx, request_id)
        now = self.clock.now()
        done = replace(
            r,
            status=RequestStatus.REFUSED,
            reason=reason[:REASON_MAX],
            updated_at=now,
            history=(*r.history, StatusChange(RequestStatus.REFUSED, now, ctx.actor, reason[:200])),
        )
        self.store.save_request(done)
        self._audit(ctx, AuditKind.REFUSED, done, now)
        await self._announce(ctx, "request", "refused", r.id, request_data(done))
        return done

    def _decidable(self, ctx: Context, request_id: str) -> tuple[Request, Resource]:
        ensure(ctx, Permission.SHARING_DECIDE)
        r = self.store.request(request_id)
        if r is None or not self._may_see(ctx, r):
            raise _not_found("request", request_id)
        if not r.is_open:
            raise Conflict("sharing.decided", "该申请已处理", f"the request is {r.status.value}")
        bureau = is_bureau(ctx)
        provider = ctx.department == r.provider_department
        if not bureau and (r.decider is Decider.BUREAU or not provider):
            raise Forbidden(
                "sharing.not_decider",
                "该申请须由提供部门或大数据局审批"
                if r.decider is not Decider.BUREAU
                else "该申请须由大数据局审批",
                "only the provider or the bureau decides this request",
            )
        return r, self.catalog.get(Context.system("sharing"), r.spec.resource_id)

    async def _grant(
        self, ctx: Context, r: Request, resource: Resource, decision: Decision
    ) -> Request:
        now = self.clock.now()
        cleared = r.spec.clear_fields if decision.clear_fields is None else decision.clear_fields
        g = Grant(
            id=new_id(),
            request_id=r.id,
            resource_id=resource.id,
            department_id=r.requester_department,
            provider_department=resource.department_id,
            fields=r.spec.fields,
            cleared=tuple(cleared),
            row_filter=(*r.spec.row_filter, *decision.row_filter),
            purpose=r.spec.purpose,
            scenario=r.spec.scenario,
            granted_by=ctx.actor,
            granted_at=now,
            expires_at=r.spec.ends_at,
        )
        self.store.add_grant(g)
        note = decision.reason[:200] or decision.legal_basis[:200]
        done = replace(
            r,
            status=RequestStatus.GRANTED,
            grant_id=g.id,
            updated_at=now,
            reason=decision.reason[:REASON_MAX],
            legal_basis=decision.legal_basis[:REASON_MAX],
            history=(*r.history, StatusChange(RequestStatus.GRANTED, now, ctx.actor, note)),
        )
        self.store.save_request(done)
        self._audit(ctx, AuditKind.GRANTED, done, now, grant=g)
        await self._announce(ctx, "request", "granted", r.id, request_data(done))
        await self._announce(ctx, "grant", "issued", g.id, grant_data(g))
        return done

    # --- timers -----------------------------------------------------------------------

    async def escalate_overdue(self) -> list[Request]:
        """Escalate every pending request past its due time to the bureau."""
        now = self.clock.now()
        ctx = Context.system("sharing time limits")
        out: list[Request] = []
        for r in await asyncio.to_thread(self.store.overdue, now):
            done = replace(
                r,
                status=RequestStatus.ESCALATED,
                updated_at=now,
                history=(
                    *r.history,
                    StatusChange(
                        RequestStatus.ESCALATED,
                        now,
                        ctx.actor,
                        "逾期未答复，提交大数据局 / overdue",
                    ),
                ),
            )
            self.store.save_request(done)
            self._audit(ctx, AuditKind.ESCALATED, done, now)
            await self._announce(ctx, "request", "escalated", r.id, request_data(done))
            out.append(done)
        return out

    async def run_timers(self, interval_s: float = SCAN_INTERVAL_S) -> None:
        """Escalate overdue requests every ``interval_s`` of clock time until cancelled."""
        while True:
            try:
                await self.escalate_overdue()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bad round must not stop the timer for good
                log.exception("sharing escalation scan failed; retrying next round")
            await self.clock.sleep(interval_s)

    # --- grants -----------------------------------------------------------------------

    async def revoke(self, ctx: Context, grant_id: str, reason: str) -> Grant:
        """Revoke a grant (its provider or the bureau); reasons are required."""
        ensure(ctx, Permission.SHARING_DECIDE)
        if not filled(reason):
            raise InvalidInput(
                "sharing.needs_reason",
                "撤销须说明理由",
                "a revocation needs reasons",
                (FieldError("reason", "required"),),
            )
        g = self.store.grant(grant_id)
        if g is None or not (
            is_bureau(ctx) or ctx.department in (g.department_id, g.provider_department)
        ):
            raise _not_found("grant", grant_id)
        if not is_bureau(ctx) and ctx.department != g.provider_department:
            raise Forbidden(
                "sharing.not_provider",
                "只有提供部门或大数据局可撤销授权",
                "only the provider or the bureau revokes a grant",
            )
        if g.revoked_at is not None:
            raise Conflict("sharing.revoked", "授权已撤销", "the grant is already revoked")
        now = self.clock.now()
        done = replace(g, revoked_at=now, revoked_by=ctx.actor, revoke_reason=reason[:REASON_MAX])
        self.store.save_grant(done)
        self.trail.record(
            AuditEntry(
                AuditKind.REVOKED,
                ctx,
                now,
                g.resource_id,
                g.fields,
                subject=g.id,
                detail={"reason": reason[:200]},
            )
        )
        await self._announce(ctx, "grant", "revoked", g.id, grant_data(done))
        return done

    # --- reads ------------------------------------------------------------------------

    def _may_see(self, ctx: Context, r: Request) -> bool:
        return is_bureau(ctx) or ctx.department in (r.requester_department, r.provider_department)

    def request(self, ctx: Context, request_id: str) -> Request:
        """Return a request its requester, its provider or the bureau may see."""
        ensure(ctx, Permission.SHARING_REQUEST)
        r = self.store.request(request_id)
        if r is None or not self._may_see(ctx, r):
            raise _not_found("request", request_id)
        return r

    def requests(self, ctx: Context, limit: int = 200) -> list[Request]:
        """Return the requests the caller's department made or must answer (bureau: all)."""
        ensure(ctx, Permission.SHARING_REQUEST)
        return self.store.requests(None if is_bureau(ctx) else (ctx.department or "-"), limit)

    def grants(self, ctx: Context, limit: int = 200) -> list[Grant]:
        """Return the grants the caller's department holds or gave (bureau: all)."""
        ensure(ctx, Permission.SHARING_REQUEST)
        return self.store.grants(None if is_bureau(ctx) else (ctx.department or "-"), limit)

    # --- events and audit -------------------------------------------------------------

    def _audit(
        self, ctx: Context, kind: AuditKind, r: Request, at: datetime, grant: Grant | None = None
    ) -> None:
        detail: dict[str, object] = {
            "status": r.status.value,
            "scenario": r.spec.scenario,
            "requester": r.requester_department,
        }
        if grant is not None:
            detail["grant"] = grant.id
            detail["cleared"] = list(grant.cleared)
        if r.legal_basis:
            detail["legal_basis"] = r.legal_basis[:500]
        self.trail.record(
            AuditEntry(
                kind, ctx, at, r.spec.resource_id, r.spec.fields, subject=r.id, detail=detail
            )
        )

    async def _announce(
        self, ctx: Context, thing: str, what: str, subject: str, data: dict[str, object]
    ) -> None:
        event = CloudEvent(
            type=f"city.sharing.{thing}.{what}",
            source=SOURCE,
            time=self.clock.now(),
            subject=subject,
            data=data,
            context=ctx,
        )
        await self.bus.publish(event)
