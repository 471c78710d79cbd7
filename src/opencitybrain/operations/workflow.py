"""What each action does to a case: the new state, its clocks, and the timeline step.

Pure functions of (case, action, input, now, calendar): the service loads, checks who
may act, calls :func:`apply_action`, and stores the result. No clock, no I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from opencitybrain.kernel.errors import Conflict, FieldError, InvalidInput
from opencitybrain.kernel.ids import new_id
from opencitybrain.operations.classes import CaseClass
from opencitybrain.operations.model import (
    PAUSES_CLOCK,
    Action,
    Attachment,
    Case,
    Satisfaction,
    Supervision,
    SuspendReason,
    Task,
    TaskStatus,
    next_alarm,
    next_status,
)
from opencitybrain.worktime import Deadlines, TimeLimit, WorkCalendar, deadlines, elapsed, shift


@dataclass(frozen=True, slots=True)
class ActionInput:
    """What the actor adds to an action; which fields matter depends on the action."""

    note: str = ""
    attachments: tuple[Attachment, ...] = ()
    department_id: str | None = None  # dispatch: override the class's department
    worker_id: str | None = None  # dispatch: a named worker
    assist_departments: tuple[str, ...] = ()  # dispatch: joint case (联办) helpers
    reason: SuspendReason | None = None  # suspend
    satisfaction: Satisfaction | None = None  # follow_up, evaluate
    task_id: str | None = None  # complete_task


@dataclass(frozen=True, slots=True)
class Outcome:
    """The changed case, what to record in the step, and any tasks created or finished."""

    case: Case
    data: dict[str, Any] = field(default_factory=dict)
    new_tasks: tuple[Task, ...] = ()
    done_task: Task | None = None


# Actions whose reason must be written down.
NOTE_REQUIRED = frozenset(
    {Action.REJECT, Action.RETURN, Action.REWORK, Action.REOPEN, Action.SUSPEND, Action.SUPERVISE}
)


def _need(name: str, zh: str, en: str) -> InvalidInput:
    return InvalidInput(f"case.{name}_required", zh, en, (FieldError(name, "required"),))


def _clock_start(
    case: Case, now: datetime, limit: TimeLimit, calendar: WorkCalendar
) -> dict[str, Any]:
    marks = deadlines(calendar, now, limit)
    return {
        "dispatched_at": now,
        "limit_value": limit.value,
        "limit_unit": limit.unit,
        "warn_at": marks.warn_at,
        "due_at": marks.due_at,
        "escalate_at": marks.escalate_at,
        "clock_running": True,
        "paused_at": None,
        "warned": False,
        "supervision": Supervision.NONE,
        "handled_at": None,
        "handled_on_time": None,
        "handling_seconds": None,
    }


def _marks(case: Case) -> Deadlines | None:
    if case.warn_at is None or case.due_at is None or case.escalate_at is None:
        return None
    return Deadlines(case.warn_at, case.due_at, case.escalate_at)


def _handling_seconds(case: Case, now: datetime, calendar: WorkCalendar) -> float | None:
    """Return the time the handler used, in the limit's unit, pauses left out."""
    if case.dispatched_at is None or case.limit_unit is None or case.due_at is None:
        return None
    limit = TimeLimit(case.limit_value or 1.0, case.limit_unit)
    planned = deadlines(calendar, case.dispatched_at, limit).due_at
    paused = elapsed(calendar, planned, case.due_at, limit.unit)  # how far pauses moved it
    return max(0.0, elapsed(calendar, case.dispatched_at, now, limit.unit) - paused)


def apply_action(
    case: Case,
    action: Action,
    inp: ActionInput,
    now: datetime,
    calendar: WorkCalendar,
    case_class: CaseClass,
    tasks: list[Task],
) -> Outcome:
    """Return the case after ``action`` (or refuse it); the alarm is recomputed."""
    status = next_status(case, action)
    if action in NOTE_REQUIRED and not inp.note.strip():
        raise _need("note", "此操作须填写说明", f"{action.value} needs a note")
    changes: dict[str, Any] = {"status": status, "updated_at": now}
    data: dict[str, Any] = {}
    new_tasks: tuple[Task, ...] = ()
    done_task: Task | None = None
    stage = timedelta(minutes=case_class.stage_minutes)
    if action is Action.FILE:
        changes |= {"filed_at": now, "dispatch_due_at": now + stage, "warned": False}
    elif action is Action.REJECT:
        changes |= {"clock_running": False}
    elif action in (Action.DISPATCH, Action.REOPEN):
        dept = inp.department_id or (
            case.department_id
            if action is Action.REOPEN
            else case_class.department_for(case.location.region_codes)
        )
        changes |= _clock_start(case, now, case_class.time_limit, calendar)
        changes |= {"department_id": dept, "worker_id": inp.worker_id or case.worker_id}
        if action is Action.REOPEN:
            changes |= {
                "reopen_count": case.reopen_count + 1, "closed_at": None, "satisfaction": None,
                "followed_up": False,
            }  # fmt: skip
        open_for = {t.department_id for t in tasks if t.status is TaskStatus.OPEN}
        helpers = [d for d in dict.fromkeys(inp.assist_departments) if d != dept]
        new_tasks = tuple(
            Task(new_id(), case.id, d, TaskStatus.OPEN, now) for d in helpers if d not in open_for
        )
        data = {"department_id": dept, "limit": case_class.time_limit.describe()}
        if helpers:
            data["assist_departments"] = helpers
    elif action is Action.RETURN:
        changes |= {
            "department_id": None, "worker_id": None, "clock_running": False,
            "return_count": case.return_count + 1, "dispatch_due_at": now + stage,
            "warned": False, "warn_at": None, "due_at": None, "escalate_at": None,
        }  # fmt: skip
        data = {"returned_by": case.department_id}
    elif action is Action.HANDLE:
        still_open = [t.department_id for t in tasks if t.status is TaskStatus.OPEN]
        if still_open:
            raise Conflict(
                "case.tasks_open",
                f"联办部门尚未完成：{'、'.join(still_open)}",
                f"assisting departments have not finished: {', '.join(still_open)}",
            )
        on_time = case.due_at is None or now <= case.due_at
        changes |= {
            "handled_at": now, "handled_on_time": on_time, "clock_running": False,
            "handling_seconds": _handling_seconds(case, now, calendar),
        }  # fmt: skip
        data = {"on_time": on_time}
    elif action is Action.REWORK:
        # Verification failed: the handler's clock goes on from where it was.
        changes |= {"clock_running": True, "handled_at": None, "handled_on_time": None}
    elif action is Action.CLOSE:
        changes |= {"closed_at": now}
    elif action is Action.FOLLOW_UP:
        changes |= {"followed_up": True}
        if inp.satisfaction is not None:
            data = {"satisfaction": int(inp.satisfaction)}
    elif action is Action.EVALUATE:
        if inp.satisfaction is None:
            raise _need(
                "satisfaction", "评价须给出满意度（1–5）", "evaluate needs satisfaction 1–5"
            )
        if case.source.value == "hotline_12345" and not case.followed_up:
            raise Conflict(
                "case.follow_up_required",
                "12345 热线案件须先回访再评价",
                "a 12345 hotline case is followed up before it is evaluated",
            )
        changes |= {"satisfaction": inp.satisfaction}
        data = {"satisfaction": int(inp.satisfaction)}
    elif action is Action.SUSPEND:
        if inp.reason is None:
            raise _need("reason", "挂起须说明原因", "suspend needs a reason")
        pauses = PAUSES_CLOCK[inp.reason]
        changes |= {"resume_status": case.status}
        if pauses and case.clock_running:
            changes |= {"clock_running": False, "paused_at": now}
        data = {"reason": inp.reason.value, "clock_paused": pauses}
    elif action is Action.RESUME:
        changes |= {"resume_status": None, "clock_running": True, "paused_at": None}
        marks = _marks(case)
        if case.paused_at is not None and marks is not None and case.limit_unit is not None:
            moved = shift(calendar, marks, case.paused_at, now, case.limit_unit)
            changes |= {
                "warn_at": moved.warn_at, "due_at": moved.due_at,
                "escalate_at": moved.escalate_at,
            }  # fmt: skip
            data = {"paused_from": case.paused_at.isoformat(), "due_at": moved.due_at.isoformat()}
    elif action is Action.SUPERVISE:
        changes |= {"supervision": Supervision.BUREAU}
    elif action is Action.COMPLETE_TASK:
        task = next((t for t in tasks if t.id == inp.task_id), None)
        if task is None:
            raise _need("task_id", "须指明一个本案的联办任务", "name one of the case's sub-tasks")
        if task.status is TaskStatus.DONE:
            raise Conflict("case.task_done", "该联办任务已完成", "the sub-task is done already")
        done_task = replace(task, status=TaskStatus.DONE, done_at=now, note=inp.note)
        data = {"task_id": task.id, "department_id": task.department_id}
    changed = replace(case, **changes)
    alarm, alarm_at = next_alarm(changed)
    return Outcome(replace(changed, alarm=alarm, alarm_at=alarm_at), data, new_tasks, done_task)
