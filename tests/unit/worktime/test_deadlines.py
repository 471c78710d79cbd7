"""Deadlines: warning at 80 %, due at 100 %, escalation at 150 %; pauses move them all."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencitybrain.kernel.errors import InvalidInput
from opencitybrain.worktime import (
    TimeLimit,
    TimeUnit,
    WorkCalendar,
    deadlines,
    deadlines_many,
    elapsed,
    epoch,
    shift,
)

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar.china()


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def test_two_working_hours_from_a_monday_morning() -> None:
    marks = deadlines(CAL, at(2026, 11, 23, 9), TimeLimit(2, TimeUnit.WORKING_HOURS))
    assert marks.due_at == at(2026, 11, 23, 11)
    assert marks.warn_at == at(2026, 11, 23, 10, 36)  # 96 of 120 minutes
    assert marks.escalate_at == at(2026, 11, 23, 12)


def test_working_days_warn_at_80_percent_of_the_working_time_left() -> None:
    marks = deadlines(CAL, at(2026, 11, 23, 17, 30), TimeLimit(1, TimeUnit.WORKING_DAYS))
    assert marks.due_at == at(2026, 11, 24, 17, 30)
    assert CAL.working_seconds_between(at(2026, 11, 23, 17, 30), marks.warn_at) == pytest.approx(
        0.8 * 7 * 3600
    )


def test_calendar_hours_ignore_nights_and_holidays() -> None:
    marks = deadlines(CAL, at(2026, 10, 1, 22), TimeLimit(2, TimeUnit.CALENDAR_HOURS))
    assert marks.due_at == at(2026, 10, 2, 0)
    assert marks.warn_at == at(2026, 10, 1, 23, 36)
    assert elapsed(CAL, at(2026, 10, 1, 22), at(2026, 10, 2), TimeUnit.CALENDAR_HOURS) == 7200


def test_a_pause_moves_every_deadline_by_the_working_time_it_lasted() -> None:
    limit = TimeLimit(4, TimeUnit.WORKING_HOURS)
    marks = deadlines(CAL, at(2026, 11, 23, 9), limit)
    # Paused 10:00–11:00 (1 working hour) and overnight (no working time at all).
    moved = shift(CAL, marks, at(2026, 11, 23, 10), at(2026, 11, 23, 11), limit.unit)
    assert moved.due_at == at(2026, 11, 23, 15, 30)
    unmoved = shift(CAL, marks, at(2026, 11, 23, 18), at(2026, 11, 24, 8), limit.unit)
    assert unmoved == marks
    calendar = TimeLimit(2, TimeUnit.CALENDAR_HOURS)
    cmarks = deadlines(CAL, at(2026, 11, 23, 9), calendar)
    later = shift(CAL, cmarks, at(2026, 11, 23, 9), at(2026, 11, 23, 9, 30), calendar.unit)
    assert later.due_at == cmarks.due_at + timedelta(minutes=30)


def test_limits_are_validated() -> None:
    with pytest.raises(InvalidInput):
        TimeLimit(0, TimeUnit.WORKING_HOURS)
    with pytest.raises(InvalidInput):
        TimeLimit(1.5, TimeUnit.WORKING_DAYS)
    with pytest.raises(InvalidInput):
        TimeLimit(1500, TimeUnit.WORKING_DAYS)
    assert TimeLimit(15, TimeUnit.WORKING_DAYS).describe() == "15 工作日 / 15 working days"


def test_many_deadlines_at_once_match_one_at_a_time() -> None:
    rng = np.random.default_rng(3)
    starts = rng.uniform(epoch(at(2026, 1, 1)), epoch(at(2026, 11, 1)), 200)
    for unit, value in ((TimeUnit.WORKING_HOURS, 6.0), (TimeUnit.WORKING_DAYS, 3.0)):
        warn, due, esc = deadlines_many(CAL, starts, value, unit)
        for i in range(0, 200, 20):
            one = deadlines(CAL, datetime.fromtimestamp(starts[i], TZ), TimeLimit(value, unit))
            assert abs(epoch(one.due_at) - due[i]) < 1e-3
            assert abs(epoch(one.warn_at) - warn[i]) < 1e-3
            assert abs(epoch(one.escalate_at) - esc[i]) < 1e-3


@settings(max_examples=150, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2026, 10, 31), timezones=st.just(TZ)
    ),
    st.sampled_from(list(TimeUnit)),
    st.integers(min_value=1, max_value=20),
)
def test_deadlines_are_ordered(start: datetime, unit: TimeUnit, value: int) -> None:
    marks = deadlines(CAL, start, TimeLimit(value, unit))
    assert start <= marks.warn_at <= marks.due_at <= marks.escalate_at
    assert elapsed(CAL, start, marks.due_at, unit) > 0
