"""Workflow invariants under any sequence of actions (hypothesis), and the pure rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencitybrain.kernel.errors import CityBrainError, Conflict
from opencitybrain.operations.classes import demo_classes
from opencitybrain.operations.model import (
    CLOCK_STATUSES,
    Action,
    Case,
    CaseStatus,
    Location,
    Satisfaction,
    Source,
    SuspendReason,
    Task,
    next_alarm,
)
from opencitybrain.operations.workflow import ActionInput, apply_action
from opencitybrain.worktime import WorkCalendar

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
CAL = WorkCalendar.china()
CLASSES = {c.code: c for c in demo_classes()}
LOC = Location(115.9, 28.68, "360102", "360102001", "360102001001", "360102001001001")

FULL_INPUT = ActionInput(
    note="说明", reason=SuspendReason.AWAITING_REPORTER, satisfaction=Satisfaction.SATISFIED
)


def new_case(code: str = "C0102", source: Source = Source.GRID_INSPECTOR) -> Case:
    return Case(
        id="c1", source=source, class_code=code, title="t", description="d", location=LOC,
        status=CaseStatus.REPORTED, urgent=False, reported_at=T0, updated_at=T0,
        file_due_at=T0 + timedelta(minutes=30),
    )  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(sorted(CLASSES)),
    st.lists(
        st.tuples(st.sampled_from(list(Action)), st.integers(min_value=0, max_value=6 * 3600)),
        max_size=25,
    ),
)
def test_any_sequence_keeps_the_case_consistent(code: str, steps: list[tuple[Action, int]]) -> None:
    case = new_case(code)
    tasks: list[Task] = []
    now = T0
    for action, wait in steps:
        now += timedelta(seconds=wait)
        try:
            out = apply_action(case, action, FULL_INPUT, now, CAL, CLASSES[code], tasks)
        except CityBrainError:
            continue
        case = out.case
        # The handling clock runs only in statuses that have one.
        if case.clock_running:
            assert case.status in CLOCK_STATUSES
            assert case.due_at is not None
            assert case.warn_at is not None
            assert case.warn_at <= case.due_at <= case.escalate_at  # type: ignore[operator]
        # The stored alarm is always the one the rules say.
        assert (case.alarm, case.alarm_at) == next_alarm(case)
        if case.status is CaseStatus.SUSPENDED:
            assert case.resume_status in (CaseStatus.DISPATCHED, CaseStatus.IN_PROGRESS)
        if case.status in (CaseStatus.HANDLED, CaseStatus.VERIFIED):
            assert case.handled_at is not None
            assert case.handled_on_time is not None
        assert case.updated_at == now


def test_a_pause_for_the_reporter_moves_the_deadline_by_the_working_time_paused() -> None:
    cls = CLASSES["C0102"]  # 2 working hours
    case = replace(new_case(), status=CaseStatus.FILED)
    case = apply_action(case, Action.DISPATCH, ActionInput(), T0, CAL, cls, []).case
    assert case.due_at == T0 + timedelta(hours=2)
    paused = apply_action(case, Action.SUSPEND, FULL_INPUT, T0 + timedelta(hours=1), CAL, cls, [])
    assert not paused.case.clock_running
    resumed_at = T0 + timedelta(hours=1, minutes=45)  # 45 working minutes later
    back = apply_action(paused.case, Action.RESUME, ActionInput(), resumed_at, CAL, cls, []).case
    assert back.due_at == T0 + timedelta(hours=2, minutes=45)
    handled = apply_action(
        replace(back, status=CaseStatus.IN_PROGRESS), Action.HANDLE, ActionInput(),
        T0 + timedelta(hours=2, minutes=15), CAL, cls, [],
    ).case  # fmt: skip
    assert handled.handled_on_time is True
    assert handled.handling_seconds == pytest.approx(90 * 60)  # 2 h 15 min less the 45 paused


def test_evaluation_needs_a_grade() -> None:
    case = replace(new_case(), status=CaseStatus.CLOSED)
    with pytest.raises(CityBrainError) as err:
        apply_action(case, Action.EVALUATE, ActionInput(), T0, CAL, CLASSES["C0102"], [])
    assert err.value.code == "case.satisfaction_required"
    hotline = replace(new_case(source=Source.HOTLINE_12345), status=CaseStatus.CLOSED)
    with pytest.raises(Conflict):
        apply_action(hotline, Action.EVALUATE, FULL_INPUT, T0, CAL, CLASSES["C0102"], [])
