"""China's working-time calendar: working days, office hours and the arithmetic on them.

Every instant maps to a *working-time coordinate*: the number of office-hour seconds
since the calendar's first day. The map is monotonic (flat outside office hours), so
adding working time is "map, add, map back", elapsed working time is a difference, and
both are exact and additive by construction. Days and office intervals are tables, so
the same code runs on one instant or a numpy array of a million.

Instants are UTC epoch seconds (float64) in the array API and aware datetimes in the
scalar API. No function here reads a clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import ArrayLike, NDArray

from opencitybrain.kernel.errors import CityBrainError, ErrorKind, FieldError, InvalidInput

__all__ = ["CalendarRangeError", "OfficeHours", "WorkCalendar", "epoch", "from_epoch"]

Seconds = NDArray[np.float64]


class CalendarRangeError(CityBrainError):
    """Raise when an instant falls in a year the holiday table does not cover."""

    def __init__(self, first: int, last: int, detail: str) -> None:
        super().__init__(
            "worktime.year_not_covered",
            f"节假日表只覆盖 {first}–{last} 年，无法计算工作时间（{detail}）",
            f"the holiday table covers only {first}–{last}; cannot count working time ({detail})",
            ErrorKind.UNPROCESSABLE,
        )


def epoch(moment: datetime) -> float:
    """Return an aware datetime as UTC epoch seconds."""
    if moment.tzinfo is None:
        raise InvalidInput("worktime.naive_time", "时间必须带时区", "times must be timezone-aware")
    return moment.timestamp()


def from_epoch(seconds: float) -> datetime:
    """Return UTC epoch seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(float(seconds), UTC)


@dataclass(frozen=True, slots=True)
class OfficeHours:
    """The office intervals of a working day, in local time (e.g. 09:00–12:00, 13:30–17:30)."""

    intervals: tuple[tuple[time, time], ...] = (
        (time(9, 0), time(12, 0)),
        (time(13, 30), time(17, 30)),
    )

    def __post_init__(self) -> None:
        previous = -1
        for start, end in self.intervals:
            a, b = _secs(start), _secs(end)
            if not (previous <= a < b):
                raise InvalidInput(
                    "worktime.bad_office_hours",
                    "办公时段须按时间先后排列且互不重叠",
                    "office intervals must be ordered and must not overlap",
                    (FieldError("office_hours", f"{start}–{end}"),),
                )
            previous = b
        if not self.intervals:
            raise InvalidInput(
                "worktime.no_office_hours", "至少需要一个办公时段", "at least one office interval"
            )

    @classmethod
    def parse(cls, spec: str) -> OfficeHours:
        """Parse ``"09:00-12:00,13:30-17:30"``."""
        try:
            pairs = []
            for part in spec.split(","):
                a, b = part.strip().split("-")
                pairs.append((time.fromisoformat(a.strip()), time.fromisoformat(b.strip())))
        except ValueError as exc:
            raise InvalidInput(
                "worktime.bad_office_hours",
                f"办公时段格式错误：{spec!r}（应如 09:00-12:00,13:30-17:30）",
                f"bad office hours {spec!r} (expected like 09:00-12:00,13:30-17:30)",
            ) from exc
        return cls(tuple(pairs))

    @property
    def seconds_per_day(self) -> float:
        """Return the office seconds of one working day."""
        return float(sum(_secs(b) - _secs(a) for a, b in self.intervals))


def _secs(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def china_tables() -> tuple[int, int, dict[date, str], dict[date, str]]:
    """Return the years covered by ``chinese-calendar`` and its holiday and workday tables."""
    from chinese_calendar import constants  # imported here: only the factory needs it

    holidays: dict[date, str] = {d: str(v) for d, v in constants.holidays.items()}
    workdays: dict[date, str] = {d: str(v) for d, v in constants.workdays.items()}
    years = [d.year for d in holidays]
    return min(years), max(years), holidays, workdays


class WorkCalendar:
    """Answer working-day and working-hour questions for one timezone and office hours."""

    def __init__(
        self,
        first_year: int,
        last_year: int,
        holidays: Iterable[date],
        workdays: Iterable[date],
        office: OfficeHours | None = None,
        tz: ZoneInfo | None = None,
        provisional_years: Iterable[int] = (),
    ) -> None:
        self.first_year, self.last_year = first_year, last_year
        self.office = office or OfficeHours()
        self.tz = tz or ZoneInfo("Asia/Shanghai")
        self.provisional_years = frozenset(provisional_years)
        first = date(first_year, 1, 1)
        self._first = first
        n = (date(last_year + 1, 1, 1) - first).days
        days = [first + timedelta(days=i) for i in range(n + 1)]
        # Local midnights as UTC epochs: the zone's offset is applied day by day.
        self._day_start = np.array(
            [datetime.combine(d, time(0), self.tz).timestamp() for d in days], dtype=np.float64
        )
        work = np.array([d.weekday() < 5 for d in days[:n]], dtype=bool)
        off, on = set(holidays), set(workdays)
        for i, d in enumerate(days[:n]):
            if d in off:
                work[i] = False
            elif d in on:
                work[i] = True
        self._work = work
        self._cum = np.concatenate([[0], np.cumsum(work)]).astype(np.int64)
        self._work_days = np.flatnonzero(work)
        spans = [(_secs(a), _secs(b)) for a, b in self.office.intervals]
        self._open = np.array([a for a, _ in spans], dtype=np.float64)
        self._close = np.array([b for _, b in spans], dtype=np.float64)
        self._before = np.concatenate([[0.0], np.cumsum(self._close - self._open)])
        self.day_seconds = float(self._before[-1])

    @classmethod
    def china(
        cls,
        office: OfficeHours | None = None,
        *,
        extra_holidays: Mapping[date, str] | None = None,
        extra_workdays: Mapping[date, str] | None = None,
        provisional_through: int | None = None,
    ) -> WorkCalendar:
        """Build the calendar from ``chinese-calendar`` (plus any announced extra days).

        ``provisional_through`` extends the table to that year with weekends only, for
        years whose State Council schedule is not published yet; those years are listed
        in :attr:`provisional_years` so callers can say so.
        """
        first, last, holidays, workdays = china_tables()
        holidays = {**holidays, **(extra_holidays or {})}
        workdays = {**workdays, **(extra_workdays or {})}
        known = max([last, *(d.year for d in (*holidays, *workdays))])
        end = max(known, provisional_through or known)
        return cls(
            first, end, holidays, workdays, office, provisional_years=range(known + 1, end + 1)
        )

    # --- days -------------------------------------------------------------------------

    def covers(self, day: date) -> bool:
        """Tell whether ``day`` is inside the calendar's table."""
        return self.first_year <= day.year <= self.last_year

    def is_workday(self, day: date) -> bool:
        """Tell whether ``day`` is a working day (weekends, holidays and 调休 applied)."""
        return bool(self._work[self._index_of_date(day)])

    def next_workday(self, day: date, n: int = 1) -> date:
        """Return the ``n``-th working day after ``day`` (``n`` ≥ 1)."""
        if n < 1:
            raise InvalidInput("worktime.bad_count", "n 须 ≥ 1", "n must be ≥ 1")
        m = self._cum[self._index_of_date(day) + 1] + n - 1
        if m >= len(self._work_days):
            raise CalendarRangeError(self.first_year, self.last_year, f"{day} + {n} working days")
        return self._first + timedelta(days=int(self._work_days[m]))

    def _index_of_date(self, day: date) -> int:
        if not self.covers(day):
            raise CalendarRangeError(self.first_year, self.last_year, str(day))
        return (day - self._first).days

    # --- the working-time coordinate (array API) ---------------------------------------

    def _day_index(self, t: Seconds) -> NDArray[np.int64]:
        i = np.searchsorted(self._day_start, t, side="right").astype(np.int64) - 1
        if len(i) and (i.min() < 0 or i.max() >= len(self._work)):
            bad = t[(i < 0) | (i >= len(self._work))][0]
            raise CalendarRangeError(self.first_year, self.last_year, str(from_epoch(bad)))
        return i

    def work_coordinate(self, t: ArrayLike) -> Seconds:
        """Return each instant's working seconds since the calendar's first day."""
        ts = np.atleast_1d(np.asarray(t, dtype=np.float64))
        i = self._day_index(ts)
        s = ts - self._day_start[i]
        within = np.zeros(len(ts), dtype=np.float64)
        for a, b in zip(self._open, self._close, strict=True):
            within += np.clip(s - a, 0.0, b - a)
        return np.asarray(self._cum[i] * self.day_seconds + self._work[i] * within)

    def instant_at(self, w: ArrayLike) -> Seconds:
        """Return the earliest instant whose working-time coordinate is ``w``.

        A coordinate on a day boundary maps to the close of that working day, not the
        next morning: a limit that runs out at 17:30 is due at 17:30.
        """
        ws = np.atleast_1d(np.asarray(w, dtype=np.float64))
        k = np.floor(ws / self.day_seconds).astype(np.int64)
        r = ws - k * self.day_seconds
        at_close = (r <= 0) & (k > 0)
        k = np.where(at_close, k - 1, k)
        r = np.where(at_close, self.day_seconds, r)
        if len(k) and (k.min() < 0 or k.max() >= len(self._work_days)):
            raise CalendarRangeError(self.first_year, self.last_year, "working time out of range")
        day = self._work_days[k]
        slot = np.clip(np.searchsorted(self._before, r, side="left") - 1, 0, len(self._open) - 1)
        offset = self._open[slot] + (r - self._before[slot])
        return np.asarray(self._day_start[day] + offset)

    def close_of_nth_workday(self, t: ArrayLike, n: ArrayLike) -> Seconds:
        """Return the office close of the ``n``-th working day after each instant's day."""
        ts = np.atleast_1d(np.asarray(t, dtype=np.float64))
        ns = np.broadcast_to(np.asarray(n, dtype=np.int64), ts.shape)
        m = self._cum[self._day_index(ts) + 1] + ns - 1
        if len(m) and m.max() >= len(self._work_days):
            raise CalendarRangeError(self.first_year, self.last_year, "working days out of range")
        return np.asarray(self._day_start[self._work_days[m]] + self._close[-1])

    # --- scalar API on aware datetimes --------------------------------------------------

    def working_seconds_between(self, start: datetime, end: datetime) -> float:
        """Return the office seconds from ``start`` to ``end`` (negative if end is earlier)."""
        w = self.work_coordinate([epoch(start), epoch(end)])
        return float(w[1] - w[0])

    def add_working_seconds(self, start: datetime, seconds: float) -> datetime:
        """Return the instant ``seconds`` of office time after ``start``.

        Adding nothing leaves ``start`` as it is, even at night (whose coordinate is the
        previous close).
        """
        if seconds < 0:
            raise InvalidInput(
                "worktime.negative", "工作时长不能为负", "working time must not be negative"
            )
        w = self.work_coordinate(epoch(start))[0] + seconds
        return max(start, from_epoch(self.instant_at(w)[0]))

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """Return the instant ``hours`` office hours after ``start``."""
        return self.add_working_seconds(start, hours * 3600.0)

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Return the office close of the ``days``-th working day after ``start``'s day.

        The day of ``start`` itself does not count (期间开始之日不计算在期间内).
        """
        if days < 1:
            raise InvalidInput("worktime.bad_count", "工作日数须 ≥ 1", "days must be ≥ 1")
        return from_epoch(self.close_of_nth_workday(epoch(start), days)[0])
