"""The CloudEvents operations publishes: ``city.operations.case.<what-happened>``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from opencitybrain.kernel.events import CloudEvent, Context
from opencitybrain.operations.model import Action, Case

SOURCE = "/operations"

# The past tense of each action, as the event type's last token.
ACTION_EVENTS: dict[Action, str] = {
    Action.FILE: "filed",
    Action.REJECT: "rejected",
    Action.DISPATCH: "dispatched",
    Action.ACCEPT: "accepted",
    Action.RETURN: "returned",
    Action.HANDLE: "handled",
    Action.VERIFY: "verified",
    Action.REWORK: "reworked",
    Action.CLOSE: "closed",
    Action.FOLLOW_UP: "followed-up",
    Action.EVALUATE: "evaluated",
    Action.REOPEN: "reopened",
    Action.SUSPEND: "suspended",
    Action.RESUME: "resumed",
    Action.SUPERVISE: "supervised",
    Action.COMPLETE_TASK: "task-completed",
}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def case_summary(case: Case) -> dict[str, Any]:
    """Return what subscribers (the cockpit, apps) need to know of a case."""
    return {
        "id": case.id,
        "status": case.status.value,
        "source": case.source.value,
        "class_code": case.class_code,
        "title": case.title,
        "urgent": case.urgent,
        "department_id": case.department_id,
        "worker_id": case.worker_id,
        "lon": case.location.lon,
        "lat": case.location.lat,
        "county": case.location.county,
        "street": case.location.street,
        "grid": case.location.grid,
        "due_at": _iso(case.due_at),
        "supervision": int(case.supervision),
        "report_count": case.report_count,
    }


def case_event(
    what: str, case: Case, at: datetime, ctx: Context | None, extra: dict[str, Any] | None = None
) -> CloudEvent:
    """Return the event announcing that ``what`` happened to ``case``."""
    data = case_summary(case)
    if extra:
        data |= extra
    return CloudEvent(
        type=f"city.operations.case.{what}",
        source=SOURCE,
        time=at,
        subject=case.id,
        data=data,
        context=ctx,
    )
