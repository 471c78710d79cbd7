"""The case transition table: every legal step is taken, every illegal one refused with 409."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from opencitybrain.kernel.errors import Conflict, ErrorKind
from opencitybrain.operations.model import (
    TRANSITIONS,
    Action,
    Alarm,
    Case,
    CaseStatus,
    Location,
    Source,
    Supervision,
    next_alarm,
    next_status,
)

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def case(status: CaseStatus = CaseStatus.REPORTED, **kw: object) -> Case:
    loc = Location(115.9, 28.68, "360102", "360102001", "360102001001", "360102001001001")
    base = Case(
        id="c1", source=Source.HOTLINE_12345, class_code="E0102", title="t", description="d",
        location=loc, status=status, urgent=False, reported_at=T0, updated_at=T0,
    )  # fmt: skip
    return replace(base, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", list(CaseStatus))
@pytest.mark.parametrize("action", list(Action))
def test_the_table_decides_every_pair(status: CaseStatus, action: Action) -> None:
    allowed, target = TRANSITIONS[action]
    c = case(status, resume_status=CaseStatus.DISPATCHED)
    if status in allowed:
        result = next_status(c, action)
        expected = CaseStatus.DISPATCHED if action is Action.RESUME else (target or status)
        assert result is expected
    else:
        with pytest.raises(Conflict) as err:
            next_status(c, action)
        assert err.value.kind is ErrorKind.CONFLICT
        assert err.value.code == "case.illegal_transition"
        assert status.value in err.value.message_en


def test_the_happy_path_reaches_evaluation() -> None:
    c = case()
    path = [Action.FILE, Action.DISPATCH, Action.ACCEPT, Action.HANDLE, Action.VERIFY,
            Action.CLOSE, Action.FOLLOW_UP, Action.EVALUATE]  # fmt: skip
    for action in path:
        c = replace(c, status=next_status(c, action))
    assert c.status is CaseStatus.EVALUATED


def test_terminal_states_only_reopen() -> None:
    for action in Action:
        for status in (CaseStatus.REJECTED,):
            with pytest.raises(Conflict):
                next_status(case(status), action)
    assert next_status(case(CaseStatus.EVALUATED), Action.REOPEN) is CaseStatus.DISPATCHED


def test_alarms_follow_the_stage_and_escalation() -> None:
    due = T0 + timedelta(hours=2)
    assert next_alarm(case(file_due_at=T0)) == (Alarm.FILING_LATE, T0)
    assert next_alarm(case(file_due_at=T0, warned=True)) == (None, None)
    filed = case(CaseStatus.FILED, dispatch_due_at=T0)
    assert next_alarm(filed) == (Alarm.DISPATCH_LATE, T0)
    running = case(
        CaseStatus.IN_PROGRESS, clock_running=True, warn_at=T0, due_at=due,
        escalate_at=due + timedelta(hours=1),
    )  # fmt: skip
    assert next_alarm(running) == (Alarm.WARNING, T0)
    assert next_alarm(replace(running, warned=True)) == (Alarm.OVERDUE, due)
    late = replace(running, warned=True, supervision=Supervision.SUPERVISOR)
    assert next_alarm(late)[0] is Alarm.BUREAU
    assert next_alarm(replace(late, supervision=Supervision.BUREAU)) == (None, None)
    assert next_alarm(replace(running, clock_running=False)) == (None, None)
    assert next_alarm(replace(running, status=CaseStatus.HANDLED)) == (None, None)
