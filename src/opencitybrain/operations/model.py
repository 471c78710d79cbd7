"""Cases of unified city operations (一网统管): statuses, actions and the transition table.

The workflow follows digital city management (数字城管, GB/T 30428) and 12345 hotline
practice: 信息采集 reported → 立案 filed → 派遣 dispatched → 处置 in_progress → 处置反馈
handled → 核查 verified → 结案 closed → 评价 evaluated, with 回访 follow-up on closed
cases, 退回 (back to the command centre), 核查不通过 (rework), 挂起/恢复 (suspend/resume)
and 重办 (reopen). Everything here is pure: no clock, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from opencitybrain.kernel.errors import Conflict
from opencitybrain.worktime import TimeUnit


class CaseStatus(StrEnum):
    """Where a case is in its workflow."""

    REPORTED = "reported"  # 信息采集
    FILED = "filed"  # 立案
    DISPATCHED = "dispatched"  # 派遣 (the handling clock starts)
    IN_PROGRESS = "in_progress"  # 处置
    HANDLED = "handled"  # 处置反馈
    VERIFIED = "verified"  # 核查
    CLOSED = "closed"  # 结案 / 办结
    EVALUATED = "evaluated"  # 评价
    SUSPENDED = "suspended"  # 挂起
    REJECTED = "rejected"  # 不予立案 / 作废


STATUS_NAMES: dict[CaseStatus, str] = {
    CaseStatus.REPORTED: "信息采集",
    CaseStatus.FILED: "立案",
    CaseStatus.DISPATCHED: "派遣",
    CaseStatus.IN_PROGRESS: "处置",
    CaseStatus.HANDLED: "处置反馈",
    CaseStatus.VERIFIED: "核查",
    CaseStatus.CLOSED: "结案",
    CaseStatus.EVALUATED: "评价",
    CaseStatus.SUSPENDED: "挂起",
    CaseStatus.REJECTED: "不予立案",
}

# Cases that still need someone to act (duplicates merge only into these).
OPEN_STATUSES = frozenset(
    {
        CaseStatus.REPORTED,
        CaseStatus.FILED,
        CaseStatus.DISPATCHED,
        CaseStatus.IN_PROGRESS,
        CaseStatus.HANDLED,
        CaseStatus.VERIFIED,
        CaseStatus.SUSPENDED,
    }
)
# The handling clock runs from dispatch until the department reports back.
CLOCK_STATUSES = frozenset({CaseStatus.DISPATCHED, CaseStatus.IN_PROGRESS, CaseStatus.SUSPENDED})


class Source(StrEnum):
    """Where a report came from."""

    HOTLINE_12345 = "hotline_12345"
    GRID_INSPECTOR = "grid_inspector"
    APP_ALERT = "app_alert"
    OPEN311 = "open311"
    COCKPIT = "cockpit"


class Action(StrEnum):
    """What someone does to a case (each is one timeline step)."""

    FILE = "file"  # 立案
    REJECT = "reject"  # 不予立案
    DISPATCH = "dispatch"  # 派遣
    ACCEPT = "accept"  # 签收
    RETURN = "return"  # 退回 (not ours / wrongly dispatched)
    HANDLE = "handle"  # 处置反馈
    VERIFY = "verify"  # 核查通过
    REWORK = "rework"  # 核查不通过, back to the department
    CLOSE = "close"  # 结案
    FOLLOW_UP = "follow_up"  # 回访
    EVALUATE = "evaluate"  # 评价
    REOPEN = "reopen"  # 重办
    SUSPEND = "suspend"  # 挂起
    RESUME = "resume"  # 恢复
    SUPERVISE = "supervise"  # 督办
    COMPLETE_TASK = "complete_task"  # 联办 sub-task done


_S = CaseStatus
# action → (statuses it may start from, status it leads to; None keeps the status).
TRANSITIONS: dict[Action, tuple[frozenset[CaseStatus], CaseStatus | None]] = {
    Action.FILE: (frozenset({_S.REPORTED}), _S.FILED),
    Action.REJECT: (frozenset({_S.REPORTED, _S.FILED}), _S.REJECTED),
    Action.DISPATCH: (frozenset({_S.FILED}), _S.DISPATCHED),
    Action.ACCEPT: (frozenset({_S.DISPATCHED}), _S.IN_PROGRESS),
    Action.RETURN: (frozenset({_S.DISPATCHED, _S.IN_PROGRESS}), _S.FILED),
    Action.HANDLE: (frozenset({_S.IN_PROGRESS}), _S.HANDLED),
    Action.VERIFY: (frozenset({_S.HANDLED}), _S.VERIFIED),
    Action.REWORK: (frozenset({_S.HANDLED}), _S.IN_PROGRESS),
    Action.CLOSE: (frozenset({_S.VERIFIED}), _S.CLOSED),
    Action.FOLLOW_UP: (frozenset({_S.CLOSED}), None),
    Action.EVALUATE: (frozenset({_S.CLOSED}), _S.EVALUATED),
    Action.REOPEN: (frozenset({_S.CLOSED, _S.EVALUATED}), _S.DISPATCHED),
    Action.SUSPEND: (frozenset({_S.DISPATCHED, _S.IN_PROGRESS}), _S.SUSPENDED),
    Action.RESUME: (frozenset({_S.SUSPENDED}), None),  # back to where it was suspended
    Action.SUPERVISE: (OPEN_STATUSES - {_S.REPORTED}, None),
    Action.COMPLETE_TASK: (frozenset({_S.DISPATCHED, _S.IN_PROGRESS}), None),
}


def next_status(case: Case, action: Action) -> CaseStatus:
    """Return the status ``action`` leads to from the case's status, or refuse it (409)."""
    allowed, target = TRANSITIONS[action]
    if case.status not in allowed:
        raise Conflict(
            "case.illegal_transition",
            f"案件处于「{STATUS_NAMES[case.status]}」状态，不能执行 {action.value}"
            f"（允许的状态：{'、'.join(STATUS_NAMES[s] for s in sorted(allowed))}）",
            f"a case in status {case.status.value} cannot {action.value} "
            f"(allowed from: {', '.join(sorted(allowed))})",
        )
    if action is Action.RESUME:
        return case.resume_status or CaseStatus.IN_PROGRESS
    return target or case.status


class SuspendReason(StrEnum):
    """Why a case waits; only some reasons stop the handling clock."""

    AWAITING_REPORTER = "awaiting_reporter"  # 等待诉求人补充信息
    LEGAL_PROCEDURE = "legal_procedure"  # 司法、行政程序中
    FORCE_MAJEURE = "force_majeure"  # 恶劣天气等不可抗力
    AWAITING_OTHER_DEPARTMENT = "awaiting_other_department"  # 等待其他部门


# Coordination between departments is the handler's own job, so waiting for another
# department does not stop its clock; waiting for the reporter or a court does.
PAUSES_CLOCK: dict[SuspendReason, bool] = {
    SuspendReason.AWAITING_REPORTER: True,
    SuspendReason.LEGAL_PROCEDURE: True,
    SuspendReason.FORCE_MAJEURE: True,
    SuspendReason.AWAITING_OTHER_DEPARTMENT: False,
}


class Satisfaction(IntEnum):
    """The five grades of 好差评 (GB/T 39734-2020)."""

    VERY_DISSATISFIED = 1  # 非常不满意
    DISSATISFIED = 2  # 不满意
    BASIC = 3  # 基本满意
    SATISFIED = 4  # 满意
    VERY_SATISFIED = 5  # 非常满意


class Alarm(StrEnum):
    """The next thing a timer scan will raise for a case."""

    FILING_LATE = "filing_late"  # not filed within 10/30 min
    DISPATCH_LATE = "dispatch_late"  # not dispatched within 10/30 min
    WARNING = "warning"  # 80 % of the handling limit used (预警)
    OVERDUE = "overdue"  # limit passed: the department's supervisor is told (超期)
    BUREAU = "bureau"  # 150 %: the bureau supervises (督办)


class Supervision(IntEnum):
    """How far up a late case has been escalated."""

    NONE = 0
    SUPERVISOR = 1
    BUREAU = 2


@dataclass(frozen=True, slots=True)
class Location:
    """A WGS-84 point and the divisions it lies in (county 6, street 9, community 12, grid 15)."""

    lon: float
    lat: float
    county: str
    street: str
    community: str
    grid: str
    address: str | None = None

    @property
    def region_codes(self) -> tuple[str, ...]:
        """Return the division codes from the smallest to the largest that are known."""
        return tuple(c for c in (self.grid, self.community, self.street, self.county) if c)


@dataclass(frozen=True, slots=True)
class Case:
    """One case: what, where, who handles it, and its clocks."""

    id: str
    source: Source
    class_code: str
    title: str
    description: str
    location: Location
    status: CaseStatus
    urgent: bool
    reported_at: datetime
    updated_at: datetime
    version: int = 1
    reporter: dict[str, Any] = field(default_factory=dict)
    department_id: str | None = None
    worker_id: str | None = None
    resume_status: CaseStatus | None = None
    file_due_at: datetime | None = None
    dispatch_due_at: datetime | None = None
    filed_at: datetime | None = None
    dispatched_at: datetime | None = None
    limit_value: float | None = None
    limit_unit: TimeUnit | None = None
    warn_at: datetime | None = None
    due_at: datetime | None = None
    escalate_at: datetime | None = None
    clock_running: bool = False
    paused_at: datetime | None = None
    alarm: Alarm | None = None
    alarm_at: datetime | None = None
    warned: bool = False
    supervision: Supervision = Supervision.NONE
    handled_at: datetime | None = None
    handled_on_time: bool | None = None
    handling_seconds: float | None = None
    closed_at: datetime | None = None
    followed_up: bool = False
    satisfaction: Satisfaction | None = None
    reopen_count: int = 0
    return_count: int = 0
    report_count: int = 1

    @property
    def overdue_at(self) -> datetime | None:
        """Return when the running limit falls due (None when no clock runs)."""
        return self.due_at if self.clock_running else None


def next_alarm(case: Case) -> tuple[Alarm | None, datetime | None]:
    """Return the next alarm a timer scan must raise for the case, and when."""
    # Before dispatch ``warned`` records that the stage's lateness was raised already.
    if case.status is CaseStatus.REPORTED and case.file_due_at is not None:
        return (None, None) if case.warned else (Alarm.FILING_LATE, case.file_due_at)
    if case.status is CaseStatus.FILED and case.dispatch_due_at is not None:
        return (None, None) if case.warned else (Alarm.DISPATCH_LATE, case.dispatch_due_at)
    if not case.clock_running or case.status not in CLOCK_STATUSES:
        return None, None
    if not case.warned and case.warn_at is not None:
        return Alarm.WARNING, case.warn_at
    if case.supervision < Supervision.SUPERVISOR and case.due_at is not None:
        return Alarm.OVERDUE, case.due_at
    if case.supervision < Supervision.BUREAU and case.escalate_at is not None:
        return Alarm.BUREAU, case.escalate_at
    return None, None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A reference to a stored file (photo, document) attached to a step."""

    ref: str
    media_type: str
    size: int
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """One entry of a case's timeline: who did what, when, with which note."""

    case_id: str
    seq: int
    action: str
    from_status: CaseStatus | None
    to_status: CaseStatus
    actor: str
    department_id: str | None
    at: datetime
    note: str = ""
    attachments: tuple[Attachment, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Report:
    """One report as received; several reports of the same problem share one case."""

    id: str
    case_id: str
    source: Source
    received_at: datetime
    lon: float
    lat: float
    text: str
    external_id: str | None = None
    reporter: dict[str, Any] = field(default_factory=dict)


class TaskStatus(StrEnum):
    """The state of a joint case's sub-task."""

    OPEN = "open"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class Task:
    """A sub-task of a joint case (联办) for an assisting department."""

    id: str
    case_id: str
    department_id: str
    status: TaskStatus
    created_at: datetime
    done_at: datetime | None = None
    note: str = ""
