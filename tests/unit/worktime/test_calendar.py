"""The working-time calendar: China's 2026 holidays, office hours, exact and additive arithmetic."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencitybrain.kernel.errors import InvalidInput
from opencitybrain.worktime import CalendarRangeError, OfficeHours, WorkCalendar, epoch

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar.china()


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2026, 10, 31), timezones=st.just(TZ)
)
hours = st.floats(min_value=0, max_value=100, allow_nan=False)


def test_2026_national_day_and_its_make_up_days() -> None:
    for d in range(1, 8):
        assert not CAL.is_workday(date(2026, 10, d)), d
    assert CAL.is_workday(date(2026, 10, 8))
    assert CAL.is_workday(date(2026, 10, 10))  # a Saturday worked in lieu (调休)
    assert not CAL.is_workday(date(2026, 11, 21))  # an ordinary Saturday
    assert CAL.is_workday(date(2026, 11, 23))


def test_working_hours_skip_the_lunch_break_the_night_and_the_holiday() -> None:
    assert CAL.add_working_hours(at(2026, 11, 23, 11), 2) == at(2026, 11, 23, 14, 30)
    assert CAL.add_working_hours(at(2026, 11, 23, 20), 1) == at(2026, 11, 24, 10)
    # 1.5 h left on 30 September, then the whole Golden Week is skipped.
    assert CAL.add_working_hours(at(2026, 9, 30, 16), 2) == at(2026, 10, 8, 9, 30)


def test_a_limit_that_runs_out_at_close_is_due_at_close_not_next_morning() -> None:
    assert CAL.add_working_hours(at(2026, 11, 23, 9), 7) == at(2026, 11, 23, 17, 30)
    assert CAL.add_working_hours(at(2026, 11, 23, 9), 3) == at(2026, 11, 23, 12)


def test_working_days_count_from_the_next_day_and_end_at_close() -> None:
    assert CAL.add_working_days(at(2026, 11, 23, 10), 1) == at(2026, 11, 24, 17, 30)
    assert CAL.add_working_days(at(2026, 11, 20, 10), 1) == at(2026, 11, 23, 17, 30)  # Fri → Mon
    assert CAL.add_working_days(at(2026, 9, 30, 10), 1) == at(2026, 10, 8, 17, 30)
    assert CAL.next_workday(date(2026, 9, 30), 2) == date(2026, 10, 9)


def test_elapsed_working_time_between_instants() -> None:
    assert CAL.working_seconds_between(at(2026, 9, 30, 16), at(2026, 10, 9, 10)) == 9.5 * 3600
    assert CAL.working_seconds_between(at(2026, 11, 21, 9), at(2026, 11, 22, 18)) == 0
    assert CAL.working_seconds_between(at(2026, 11, 24), at(2026, 11, 23)) == -7 * 3600


def test_years_outside_the_table_are_a_clear_error() -> None:
    with pytest.raises(CalendarRangeError) as err:
        CAL.add_working_hours(at(2040, 1, 2, 9), 1)
    assert err.value.code == "worktime.year_not_covered"
    assert "2026" in err.value.message_en
    with pytest.raises(CalendarRangeError):
        CAL.is_workday(date(1999, 5, 1))
    with pytest.raises(CalendarRangeError):
        CAL.add_working_days(at(CAL.last_year, 12, 30, 9), 30)


def test_provisional_years_count_weekends_only_and_say_so() -> None:
    cal = WorkCalendar.china(provisional_through=CAL.last_year + 1)
    assert cal.provisional_years == {CAL.last_year + 1}
    assert cal.add_working_days(at(CAL.last_year, 12, 30, 9), 30) > at(CAL.last_year + 1, 2, 1)


def test_office_hours_are_configurable_and_validated() -> None:
    cal = WorkCalendar.china(OfficeHours.parse("08:30-12:00,14:00-18:00"))
    assert cal.day_seconds == 7.5 * 3600
    assert cal.add_working_hours(at(2026, 11, 23, 11), 1.5) == at(2026, 11, 23, 14, 30)
    with pytest.raises(InvalidInput):
        OfficeHours.parse("12:00-09:00")
    with pytest.raises(InvalidInput):
        OfficeHours.parse("nine to five")
    with pytest.raises(InvalidInput):
        OfficeHours(((time(9), time(12)), (time(11), time(14))))


def test_naive_times_are_refused() -> None:
    with pytest.raises(InvalidInput):
        CAL.add_working_hours(datetime(2026, 11, 23, 9), 1)


@settings(max_examples=200, deadline=None)
@given(instants, hours)
def test_adding_working_time_is_exact(start: datetime, h: float) -> None:
    end = CAL.add_working_hours(start, h)
    assert end >= start
    assert CAL.working_seconds_between(start, end) == pytest.approx(h * 3600, abs=1e-3)


@settings(max_examples=200, deadline=None)
@given(instants, hours, hours)
def test_adding_working_time_is_additive(start: datetime, a: float, b: float) -> None:
    stepwise = CAL.add_working_hours(CAL.add_working_hours(start, a), b)
    at_once = CAL.add_working_hours(start, a + b)
    assert abs((stepwise - at_once).total_seconds()) < 1e-3


@settings(max_examples=200, deadline=None)
@given(instants, instants)
def test_working_time_is_monotonic(a: datetime, b: datetime) -> None:
    lo, hi = sorted((a, b))
    assert CAL.working_seconds_between(lo, hi) >= 0
    assert CAL.working_seconds_between(lo, hi) <= (hi - lo).total_seconds()


@settings(max_examples=200, deadline=None)
@given(instants, st.floats(min_value=0.01, max_value=100, allow_nan=False))
def test_deadlines_never_end_outside_office_hours_or_on_a_day_off(
    start: datetime, h: float
) -> None:
    end = CAL.add_working_hours(start, h).astimezone(TZ)
    assert CAL.is_workday(end.date())
    clock = end.time()
    assert time(9) < clock <= time(12) or time(13, 30) < clock <= time(17, 30)


@settings(max_examples=100, deadline=None)
@given(instants, st.integers(min_value=1, max_value=30))
def test_working_days_land_on_working_days_and_skip_holidays(start: datetime, n: int) -> None:
    end = CAL.add_working_days(start, n).astimezone(TZ)
    assert CAL.is_workday(end.date())
    assert end.time() == time(17, 30)
    days = [
        start.astimezone(TZ).date() + timedelta(days=i)
        for i in range(1, (end.date() - start.astimezone(TZ).date()).days + 1)
    ]
    assert sum(CAL.is_workday(d) for d in days) == n


def test_the_array_api_matches_the_scalar_api() -> None:
    rng = np.random.default_rng(7)
    starts = rng.uniform(epoch(at(2026, 1, 1)), epoch(at(2026, 12, 1)), 1000)
    w = CAL.work_coordinate(starts)
    ends = CAL.instant_at(w + 5400.0)
    for s, e in zip(starts[:50], ends[:50], strict=True):
        scalar = CAL.add_working_seconds(datetime.fromtimestamp(s, TZ), 5400.0)
        assert abs(epoch(scalar) - e) < 1e-3
