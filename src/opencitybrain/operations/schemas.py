"""Request and response bodies of the operations API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from opencitybrain.operations.class_store import ClassChange, StoredClass
from opencitybrain.operations.classes import ClassKind, Urgency
from opencitybrain.operations.model import (
    Attachment,
    Case,
    CaseStatus,
    Report,
    Satisfaction,
    Source,
    Step,
    SuspendReason,
    Task,
    TaskStatus,
)
from opencitybrain.operations.schemas_intake import SuggestionOut
from opencitybrain.operations.service import CaseView
from opencitybrain.worktime import TimeUnit

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
# Photos, scans and short videos an inspector or a caller may attach.
MEDIA_TYPES = r"^(image/(jpeg|png|webp|heic)|application/pdf|video/mp4|audio/(mpeg|amr|wav))$"

Code = Annotated[str, Field(pattern=r"^[CE][0-9]{4,6}$", examples=["E0102"])]
DeptId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$", examples=["urban-management"])]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AttachmentIn(_In):
    """A reference to a file stored beforehand (size- and type-checked)."""

    ref: str = Field(min_length=1, max_length=300, pattern=r"^[A-Za-z0-9._/-]+$")
    media_type: str = Field(pattern=MEDIA_TYPES, examples=["image/jpeg"])
    size: int = Field(ge=1, le=MAX_ATTACHMENT_BYTES)
    name: str | None = Field(default=None, max_length=200)

    def model(self) -> Attachment:
        """Return the domain attachment."""
        return Attachment(self.ref, self.media_type, self.size, self.name)


class LocationIn(_In):
    """A WGS-84 point, and the address as the reporter gave it."""

    lon: float = Field(ge=-180, le=180, examples=[115.9])
    lat: float = Field(ge=-90, le=90, examples=[28.68])
    address: str | None = Field(default=None, max_length=300)


class CaseIn(_In):
    """A report: what (class; left out, suggested from the text), where, what was said."""

    source: Source = Source.COCKPIT
    class_code: Code | None = None
    location: LocationIn
    description: str = Field(min_length=1, max_length=4000)
    title: str | None = Field(default=None, max_length=200)
    reporter: dict[str, Annotated[str, Field(max_length=200)]] = Field(
        default_factory=dict, max_length=10
    )
    external_id: str | None = Field(default=None, min_length=1, max_length=128)
    urgent: bool | None = None
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)


class StepIn(_In):
    """What every action may add: a note, attachments, and the version the caller read."""

    note: str = Field(default="", max_length=4000)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)
    expected_version: int | None = Field(default=None, ge=1)


class NoteIn(StepIn):
    """An action that must say why (reject, return, rework, supervise)."""

    note: str = Field(min_length=1, max_length=4000)


class DispatchIn(StepIn):
    """Dispatch: the class's department unless named; helpers make it a joint case (联办)."""

    department_id: DeptId | None = None
    worker_id: str | None = Field(default=None, max_length=64)
    assist_departments: list[DeptId] = Field(default_factory=list, max_length=10)


class ReopenIn(DispatchIn):
    """Reopen (重办): why, and optionally to whom."""

    note: str = Field(min_length=1, max_length=4000)


class SuspendIn(NoteIn):
    """Suspend: why; only some reasons stop the clock."""

    reason: SuspendReason


class FollowUpIn(StepIn):
    """Follow up with the reporter (回访), with their satisfaction if they gave it."""

    satisfaction: Satisfaction | None = None


class EvaluateIn(StepIn):
    """Evaluate (评价) on the five grades of 好差评."""

    satisfaction: Satisfaction


class TaskDoneIn(StepIn):
    """Finish one sub-task of a joint case."""

    task_id: str = Field(min_length=1, max_length=32)


class CaseOut(BaseModel):
    """A case as the API shows it."""

    id: str
    version: int
    status: CaseStatus
    source: Source
    class_code: str
    title: str
    description: str
    urgent: bool
    lon: float
    lat: float
    county: str
    street: str
    community: str
    grid: str
    address: str | None
    department_id: str | None
    worker_id: str | None
    reported_at: datetime
    filed_at: datetime | None
    dispatched_at: datetime | None
    limit: dict[str, Any] | None
    warn_at: datetime | None
    due_at: datetime | None
    escalate_at: datetime | None
    clock_running: bool
    overdue: bool
    supervision: int
    handled_at: datetime | None
    handled_on_time: bool | None
    closed_at: datetime | None
    satisfaction: int | None
    reopen_count: int
    return_count: int
    report_count: int
    reporter: dict[str, Any]

    @classmethod
    def of(cls, case: Case, now: datetime, show_reporter: bool) -> CaseOut:
        """Build from a case; the reporter's details only for who may see them."""
        loc = case.location
        limit = (
            {"value": case.limit_value, "unit": case.limit_unit.value}
            if case.limit_unit is not None
            else None
        )
        return cls(
            id=case.id, version=case.version, status=case.status, source=case.source,
            class_code=case.class_code, title=case.title, description=case.description,
            urgent=case.urgent, lon=loc.lon, lat=loc.lat, county=loc.county, street=loc.street,
            community=loc.community, grid=loc.grid, address=loc.address,
            department_id=case.department_id, worker_id=case.worker_id,
            reported_at=case.reported_at, filed_at=case.filed_at,
            dispatched_at=case.dispatched_at, limit=limit, warn_at=case.warn_at,
            due_at=case.due_at, escalate_at=case.escalate_at, clock_running=case.clock_running,
            overdue=case.overdue_at is not None and case.overdue_at <= now,
            supervision=int(case.supervision), handled_at=case.handled_at,
            handled_on_time=case.handled_on_time, closed_at=case.closed_at,
            satisfaction=int(case.satisfaction) if case.satisfaction else None,
            reopen_count=case.reopen_count, return_count=case.return_count,
            report_count=case.report_count, reporter=case.reporter if show_reporter else {},
        )  # fmt: skip


class StepOut(BaseModel):
    """One timeline entry."""

    seq: int
    action: str
    from_status: CaseStatus | None
    to_status: CaseStatus
    actor: str
    department_id: str | None
    at: datetime
    note: str
    attachments: list[dict[str, Any]]
    data: dict[str, Any]

    @classmethod
    def of(cls, s: Step) -> StepOut:
        """Build from a step."""
        atts = [{"ref": a.ref, "media_type": a.media_type, "size": a.size, "name": a.name}
                for a in s.attachments]  # fmt: skip
        return cls(
            seq=s.seq, action=s.action, from_status=s.from_status, to_status=s.to_status,
            actor=s.actor, department_id=s.department_id, at=s.at, note=s.note,
            attachments=atts, data=s.data,
        )  # fmt: skip


class ReportOut(BaseModel):
    """One report linked to a case."""

    id: str
    source: Source
    received_at: datetime
    lon: float
    lat: float
    text: str
    external_id: str | None

    @classmethod
    def of(cls, r: Report) -> ReportOut:
        """Build from a report."""
        return cls(
            id=r.id, source=r.source, received_at=r.received_at, lon=r.lon, lat=r.lat,
            text=r.text, external_id=r.external_id,
        )  # fmt: skip


class TaskOut(BaseModel):
    """A joint case's sub-task."""

    id: str
    department_id: str
    status: TaskStatus
    created_at: datetime
    done_at: datetime | None
    note: str

    @classmethod
    def of(cls, t: Task) -> TaskOut:
        """Build from a task."""
        return cls(
            id=t.id, department_id=t.department_id, status=t.status, created_at=t.created_at,
            done_at=t.done_at, note=t.note,
        )  # fmt: skip


class CaseDetailOut(BaseModel):
    """A case with its timeline, reports and sub-tasks."""

    case: CaseOut
    timeline: list[StepOut]
    reports: list[ReportOut]
    tasks: list[TaskOut]

    @classmethod
    def of(cls, view: CaseView, now: datetime, show_reporter: bool) -> CaseDetailOut:
        """Build from a case view."""
        return cls(
            case=CaseOut.of(view.case, now, show_reporter),
            timeline=[StepOut.of(s) for s in view.steps],
            reports=[ReportOut.of(r) for r in view.reports],
            tasks=[TaskOut.of(t) for t in view.tasks],
        )


class CaseListOut(BaseModel):
    """A page of cases."""

    items: list[CaseOut]
    total: int
    limit: int
    offset: int


class IntakeOut(BaseModel):
    """The case a report made (201) or joined as a duplicate (200)."""

    case: CaseOut
    report_id: str
    merged: bool
    # Classes the description suggests, best first (12345 calls and reports without a
    # class); ``classified``: the class was taken from the text, not from the caller.
    suggestions: list[SuggestionOut] = Field(default_factory=list)
    classified: bool = False


class TimeLimitIn(_In):
    """A time limit: value and unit."""

    value: float = Field(gt=0, examples=[1])
    unit: TimeUnit


class ClassIn(_In):
    """A sub-class as the bureau writes it; ``version`` is the one read (None: a new class)."""

    kind: ClassKind
    major_zh: str = Field(min_length=1, max_length=100)
    major_en: str = Field(min_length=1, max_length=100)
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=100)
    department_id: DeptId
    time_limit: TimeLimitIn
    urgency: Urgency = Urgency.NORMAL
    region_departments: dict[Annotated[str, Field(pattern=r"^[0-9]{6,15}$")], DeptId] = Field(
        default_factory=dict, max_length=500
    )
    keywords: list[Annotated[str, Field(max_length=50)]] = Field(
        default_factory=list, max_length=50
    )
    active: bool = True
    version: int | None = Field(default=None, ge=1)


class ClassOut(BaseModel):
    """A sub-class with its version."""

    code: str
    kind: ClassKind
    major_zh: str
    major_en: str
    name_zh: str
    name_en: str
    department_id: str
    time_limit: dict[str, Any]
    urgency: Urgency
    region_departments: dict[str, str]
    keywords: list[str]
    active: bool
    version: int
    updated_at: datetime
    updated_by: str

    @classmethod
    def of(cls, s: StoredClass) -> ClassOut:
        """Build from a stored class."""
        return cls(
            **s.case_class.to_dict(), version=s.version, updated_at=s.updated_at,
            updated_by=s.updated_by,
        )  # fmt: skip


class ClassChangeOut(BaseModel):
    """One audited change of a class."""

    version: int
    change: str
    actor: str
    at: datetime
    doc: dict[str, Any] | None

    @classmethod
    def of(cls, c: ClassChange) -> ClassChangeOut:
        """Build from an audit record."""
        return cls(version=c.version, change=c.change, actor=c.actor, at=c.at, doc=c.doc)


class KpiOut(BaseModel):
    """Supervision figures of one department or district."""

    key: str
    cases: int
    handled: int
    on_time: int
    on_time_rate: float | None
    overdue_open: int
    avg_handling_hours: float | None
    reopened: int
    reopen_rate: float | None
    evaluated: int
    avg_satisfaction: float | None


class ScanOut(BaseModel):
    """What a timer scan raised."""

    changed: int
    events: list[str]
