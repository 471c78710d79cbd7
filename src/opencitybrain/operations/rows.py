"""Rows of the operations tables to domain objects and back."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from opencitybrain.operations.model import (
    Alarm,
    Attachment,
    Case,
    CaseStatus,
    Location,
    Report,
    Satisfaction,
    Source,
    Step,
    Supervision,
    Task,
    TaskStatus,
)
from opencitybrain.worktime import TimeUnit


def case_row(case: Case) -> dict[str, Any]:
    """Return a case as a row of ``ops_cases``."""
    loc = case.location
    return {
        "id": case.id,
        "source": case.source.value,
        "class_code": case.class_code,
        "title": case.title,
        "description": case.description,
        "lon": loc.lon,
        "lat": loc.lat,
        "county": loc.county,
        "street": loc.street,
        "community": loc.community,
        "grid": loc.grid,
        "address": loc.address,
        "status": case.status.value,
        "resume_status": case.resume_status.value if case.resume_status else None,
        "urgent": case.urgent,
        "reporter": case.reporter,
        "department_id": case.department_id,
        "worker_id": case.worker_id,
        "reported_at": case.reported_at,
        "updated_at": case.updated_at,
        "version": case.version,
        "file_due_at": case.file_due_at,
        "dispatch_due_at": case.dispatch_due_at,
        "filed_at": case.filed_at,
        "dispatched_at": case.dispatched_at,
        "limit_value": case.limit_value,
        "limit_unit": case.limit_unit.value if case.limit_unit else None,
        "warn_at": case.warn_at,
        "due_at": case.due_at,
        "escalate_at": case.escalate_at,
        "clock_running": case.clock_running,
        "paused_at": case.paused_at,
        "alarm": case.alarm.value if case.alarm else None,
        "alarm_at": case.alarm_at,
        "warned": case.warned,
        "supervision": int(case.supervision),
        "handled_at": case.handled_at,
        "handled_on_time": case.handled_on_time,
        "handling_seconds": case.handling_seconds,
        "closed_at": case.closed_at,
        "followed_up": case.followed_up,
        "satisfaction": int(case.satisfaction) if case.satisfaction else None,
        "reopen_count": case.reopen_count,
        "return_count": case.return_count,
        "report_count": case.report_count,
    }


def case_of(r: sa.Row[Any]) -> Case:
    return Case(
        id=r.id,
        source=Source(r.source),
        class_code=r.class_code,
        title=r.title,
        description=r.description,
        location=Location(r.lon, r.lat, r.county, r.street, r.community, r.grid, r.address),
        status=CaseStatus(r.status),
        urgent=bool(r.urgent),
        reported_at=r.reported_at,
        updated_at=r.updated_at,
        version=r.version,
        reporter=dict(r.reporter or {}),
        department_id=r.department_id,
        worker_id=r.worker_id,
        resume_status=CaseStatus(r.resume_status) if r.resume_status else None,
        file_due_at=r.file_due_at,
        dispatch_due_at=r.dispatch_due_at,
        filed_at=r.filed_at,
        dispatched_at=r.dispatched_at,
        limit_value=r.limit_value,
        limit_unit=TimeUnit(r.limit_unit) if r.limit_unit else None,
        warn_at=r.warn_at,
        due_at=r.due_at,
        escalate_at=r.escalate_at,
        clock_running=bool(r.clock_running),
        paused_at=r.paused_at,
        alarm=Alarm(r.alarm) if r.alarm else None,
        alarm_at=r.alarm_at,
        warned=bool(r.warned),
        supervision=Supervision(r.supervision),
        handled_at=r.handled_at,
        handled_on_time=None if r.handled_on_time is None else bool(r.handled_on_time),
        handling_seconds=r.handling_seconds,
        closed_at=r.closed_at,
        followed_up=bool(r.followed_up),
        satisfaction=Satisfaction(r.satisfaction) if r.satisfaction else None,
        reopen_count=r.reopen_count,
        return_count=r.return_count,
        report_count=r.report_count,
    )


def step_row(step: Step, seq: int) -> dict[str, Any]:
    return {
        "case_id": step.case_id,
        "seq": seq,
        "action": step.action,
        "from_status": step.from_status.value if step.from_status else None,
        "to_status": step.to_status.value,
        "actor": step.actor,
        "department_id": step.department_id,
        "at": step.at,
        "note": step.note,
        "attachments": [
            {"ref": a.ref, "media_type": a.media_type, "size": a.size, "name": a.name}
            for a in step.attachments
        ],
        "data": step.data,
    }


def step_of(r: sa.Row[Any]) -> Step:
    return Step(
        case_id=r.case_id,
        seq=r.seq,
        action=r.action,
        from_status=CaseStatus(r.from_status) if r.from_status else None,
        to_status=CaseStatus(r.to_status),
        actor=r.actor,
        department_id=r.department_id,
        at=r.at,
        note=r.note,
        attachments=tuple(Attachment(**a) for a in r.attachments or ()),
        data=dict(r.data or {}),
    )


def report_row(rep: Report) -> dict[str, Any]:
    return {
        "id": rep.id,
        "case_id": rep.case_id,
        "source": rep.source.value,
        "external_id": rep.external_id,
        "received_at": rep.received_at,
        "lon": rep.lon,
        "lat": rep.lat,
        "text": rep.text,
        "reporter": rep.reporter,
    }


def report_of(r: sa.Row[Any]) -> Report:
    return Report(
        r.id, r.case_id, Source(r.source), r.received_at, r.lon, r.lat, r.text,
        r.external_id, dict(r.reporter or {}),
    )  # fmt: skip


def task_of(r: sa.Row[Any]) -> Task:
    return Task(
        r.id, r.case_id, r.department_id, TaskStatus(r.status), r.created_at, r.done_at, r.note
    )


def task_row(t: Task) -> dict[str, Any]:
    return {
        "id": t.id,
        "case_id": t.case_id,
        "department_id": t.department_id,
        "status": t.status.value,
        "created_at": t.created_at,
        "done_at": t.done_at,
        "note": t.note,
    }
