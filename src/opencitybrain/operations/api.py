"""HTTP routes of operations at ``/api/v1/operations``: cases, actions, classes, KPIs.

Each action has its own route (``POST /cases/{id}/dispatch`` …) so each route declares
the one permission it needs; the service then checks the case is the caller's to act on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from opencitybrain.accounts.model import Permission
from opencitybrain.accounts.service import allowed
from opencitybrain.apikit.auth import require
from opencitybrain.apikit.problems import CONFLICT_RESPONSE, PROBLEM_RESPONSES
from opencitybrain.apikit.services import registry
from opencitybrain.kernel.errors import FieldError, InvalidInput
from opencitybrain.kernel.events import Context
from opencitybrain.operations.attachments import AttachmentDesk
from opencitybrain.operations.intake import NewReport
from opencitybrain.operations.intake_api import intake_router
from opencitybrain.operations.model import Action, CaseStatus, Source
from opencitybrain.operations.ports import CaseQuery
from opencitybrain.operations.schemas import (
    CaseDetailOut,
    CaseIn,
    CaseListOut,
    CaseOut,
    ClassChangeOut,
    ClassIn,
    ClassOut,
    Code,
    DispatchIn,
    EvaluateIn,
    FollowUpIn,
    IntakeOut,
    KpiOut,
    NoteIn,
    ReopenIn,
    ScanOut,
    StepIn,
    SuspendIn,
    TaskDoneIn,
)
from opencitybrain.operations.schemas_intake import SuggestionOut
from opencitybrain.operations.service import OperationsService
from opencitybrain.operations.suggest import chosen_code
from opencitybrain.operations.workflow import ActionInput

router = APIRouter(
    prefix="/api/v1/operations", tags=["operations 一网统管"], responses=PROBLEM_RESPONSES
)

CasesReader = Annotated[Context, Depends(require(Permission.CASES_READ))]
CasesReporter = Annotated[Context, Depends(require(Permission.CASES_REPORT))]
CasesSupervisor = Annotated[Context, Depends(require(Permission.CASES_SUPERVISE))]
ClassesEditor = Annotated[Context, Depends(require(Permission.CASES_CLASSES))]

# The permission each action's route requires.
ACTION_PERMISSIONS: dict[Action, Permission] = {
    Action.FILE: Permission.CASES_DISPATCH,
    Action.REJECT: Permission.CASES_DISPATCH,
    Action.DISPATCH: Permission.CASES_DISPATCH,
    Action.CLOSE: Permission.CASES_DISPATCH,
    Action.FOLLOW_UP: Permission.CASES_DISPATCH,
    Action.EVALUATE: Permission.CASES_DISPATCH,
    Action.REOPEN: Permission.CASES_DISPATCH,
    Action.ACCEPT: Permission.CASES_HANDLE,
    Action.RETURN: Permission.CASES_HANDLE,
    Action.HANDLE: Permission.CASES_HANDLE,
    Action.SUSPEND: Permission.CASES_HANDLE,
    Action.RESUME: Permission.CASES_HANDLE,
    Action.COMPLETE_TASK: Permission.CASES_HANDLE,
    Action.VERIFY: Permission.CASES_VERIFY,
    Action.REWORK: Permission.CASES_VERIFY,
    Action.SUPERVISE: Permission.CASES_SUPERVISE,
}


def _ops(request: Request) -> OperationsService:
    return registry(request).get(OperationsService)


Ops = Annotated[OperationsService, Depends(_ops)]


def _files(request: Request) -> AttachmentDesk:
    return registry(request).get(AttachmentDesk)


Files = Annotated[AttachmentDesk, Depends(_files)]


def _sees_reporter(ctx: Context) -> bool:
    """Tell whether the caller may see who reported (the command centre and the bureau)."""
    return allowed(ctx, Permission.CASES_DISPATCH) or allowed(ctx, Permission.CASES_SUPERVISE)


@router.post("/cases", response_model=IntakeOut, status_code=201, responses=CONFLICT_RESPONSE)
async def create_case(
    body: CaseIn, ctx: CasesReporter, ops: Ops, files: Files, response: Response
) -> IntakeOut:
    """Report a problem: a new case (201), or a report linked to an open duplicate (200).

    Without ``class_code`` the class is taken from the description when the classifier is
    confident, else refused (400 ``case.class_unsure``) naming the likeliest classes; a
    12345 call gets the suggestions in the answer either way.
    """
    found = None
    if body.class_code is None or body.source is Source.HOTLINE_12345:
        found = await run_in_threadpool(ops.suggest, body.description)
    names = ops.class_names()
    code = body.class_code
    if code is None:
        assert found is not None
        code = chosen_code(body.description, found, {c: n[0] for c, n in names.items()})
    new = NewReport(
        source=body.source, class_code=code, lon=body.location.lon,
        lat=body.location.lat, description=body.description, title=body.title,
        address=body.location.address, reporter=dict(body.reporter),
        external_id=body.external_id, urgent=body.urgent,
        attachments=files.check(tuple(a.model() for a in body.attachments)),
    )  # fmt: skip
    result, events = await run_in_threadpool(ops.intake, ctx, new)
    await ops.publish(events)
    if result.merged:
        response.status_code = 200
    now = ops.clock.now()
    return IntakeOut(
        case=CaseOut.of(result.case, now, _sees_reporter(ctx)),
        report_id=result.report_id,
        merged=result.merged,
        suggestions=[SuggestionOut.of(s, names) for s in found.suggestions] if found else [],
        classified=body.class_code is None,
    )


@router.get("/cases", response_model=CaseListOut)
async def list_cases(
    ctx: CasesReader,
    ops: Ops,
    status: Annotated[list[CaseStatus] | None, Query()] = None,
    class_code: Annotated[str | None, Query(max_length=16)] = None,
    department_id: Annotated[str | None, Query(max_length=64)] = None,
    region: Annotated[str | None, Query(pattern=r"^[0-9]{6,15}$")] = None,
    source: Source | None = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> CaseListOut:
    """List cases, newest first, filtered by status, class, department, region or lateness."""
    now = ops.clock.now()
    q = CaseQuery(
        status=tuple(status or ()), class_code=class_code, department_id=department_id,
        region=region, source=source, overdue_at=now if overdue else None, limit=limit,
        offset=offset,
    )  # fmt: skip
    items, total = await run_in_threadpool(ops.cases, q)
    show = _sees_reporter(ctx)
    return CaseListOut(
        items=[CaseOut.of(c, now, show) for c in items], total=total, limit=limit, offset=offset
    )


@router.get("/cases/{case_id}", response_model=CaseDetailOut)
async def get_case(case_id: str, ctx: CasesReader, ops: Ops) -> CaseDetailOut:
    """Return a case with its timeline, linked reports and joint-case tasks."""
    view = await run_in_threadpool(ops.view, case_id)
    return CaseDetailOut.of(view, ops.clock.now(), _sees_reporter(ctx))


# The body each action takes (None: an optional StepIn).
ACTION_BODIES: dict[Action, type[StepIn]] = {
    Action.REJECT: NoteIn,
    Action.RETURN: NoteIn,
    Action.REWORK: NoteIn,
    Action.SUPERVISE: NoteIn,
    Action.DISPATCH: DispatchIn,
    Action.REOPEN: ReopenIn,
    Action.SUSPEND: SuspendIn,
    Action.FOLLOW_UP: FollowUpIn,
    Action.EVALUATE: EvaluateIn,
    Action.COMPLETE_TASK: TaskDoneIn,
}


def _action_input(body: StepIn) -> ActionInput:
    """Return the service's input from whichever body an action took."""
    return ActionInput(
        note=body.note,
        attachments=tuple(a.model() for a in body.attachments),
        department_id=getattr(body, "department_id", None),
        worker_id=getattr(body, "worker_id", None),
        assist_departments=tuple(getattr(body, "assist_departments", ())),
        reason=getattr(body, "reason", None),
        satisfaction=getattr(body, "satisfaction", None),
        task_id=getattr(body, "task_id", None),
    )


def _action_route(action: Action, permission: Permission) -> None:
    model = ACTION_BODIES.get(action)

    async def take_action(
        case_id: str,
        ops: Ops,
        files: Files,
        body: StepIn | None = None,
        ctx: Context = Depends(require(permission)),  # noqa: B008 - FastAPI's idiom
    ) -> CaseOut:
        inp = body or StepIn()
        files.check(tuple(a.model() for a in inp.attachments))
        case, events = await run_in_threadpool(
            ops.act, ctx, case_id, action, _action_input(inp), inp.expected_version
        )
        await ops.publish(events)
        return CaseOut.of(case, ops.clock.now(), _sees_reporter(ctx))

    # Each action documents (and validates) its own body; actions without one take an
    # optional StepIn. Set on the function, as FastAPI reads the signature's annotations.
    take_action.__annotations__["body"] = (
        Annotated[model, Body()] if model else Annotated[StepIn | None, Body()]
    )
    take_action.__doc__ = f"Take the {action.value} action on a case."
    router.add_api_route(
        f"/cases/{{case_id}}/{action.value.replace('_', '-')}",
        take_action,
        methods=["POST"],
        response_model=CaseOut,
        responses=CONFLICT_RESPONSE,
        name=f"case_{action.value}",
        summary=f"{action.value.replace('_', ' ').capitalize()} a case",
    )


for _action, _permission in ACTION_PERMISSIONS.items():
    _action_route(_action, _permission)


@router.get("/classes", response_model=list[ClassOut])
async def list_classes(ctx: CasesReader, ops: Ops) -> list[ClassOut]:
    """List the case classes (components and events) with their departments and limits."""
    return [ClassOut.of(s) for s in await run_in_threadpool(ops.classes)]


@router.get("/classes/{code}", response_model=ClassOut)
async def get_class(code: str, ctx: CasesReader, ops: Ops) -> ClassOut:
    """Return one case class."""
    return ClassOut.of(await run_in_threadpool(ops.stored_class, code))


@router.put("/classes/{code}", response_model=ClassOut, responses=CONFLICT_RESPONSE)
async def put_class(code: Code, body: ClassIn, ctx: ClassesEditor, ops: Ops) -> ClassOut:
    """Create (no version) or replace (version as read) a case class; audited."""
    doc = body.model_dump(mode="json", exclude={"version"}) | {"code": code}
    stored = await run_in_threadpool(ops.put_class, ctx, doc, body.version)
    return ClassOut.of(stored)


@router.get("/classes/{code}/history", response_model=list[ClassChangeOut])
async def class_history(code: str, ctx: ClassesEditor, ops: Ops) -> list[ClassChangeOut]:
    """Return who changed a class, when, and to what."""
    return [ClassChangeOut.of(c) for c in await run_in_threadpool(ops.class_history, code)]


@router.get("/kpis", response_model=list[KpiOut])
async def kpis(
    ctx: CasesSupervisor,
    ops: Ops,
    by: Annotated[str, Query(pattern="^(department|district)$")] = "department",
    since: datetime | None = None,
) -> list[KpiOut]:
    """Return on-time rate, handling time, reopen rate and satisfaction per group."""
    if since is not None and since.tzinfo is None:
        raise InvalidInput(
            "case.naive_since", "since 须带时区", "since must carry a timezone",
            (FieldError("since", "ISO 8601 with offset"),),
        )  # fmt: skip
    rows = await run_in_threadpool(ops.kpis, by, since)
    return [KpiOut(**r) for r in rows]


@router.post("/timers/scan", response_model=ScanOut)
async def scan_timers(ctx: CasesSupervisor, ops: Ops) -> ScanOut:
    """Raise the alarms due now (the platform also scans on its own every minute)."""
    changed, events = await run_in_threadpool(ops.scan, ops.clock.now())
    await ops.publish(events)
    return ScanOut(changed=changed, events=[e.type for e in events])


router.include_router(intake_router)
