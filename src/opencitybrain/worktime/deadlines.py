"""Deadlines of a time limit: when to warn, when it is due, when to escalate further.

All three are fixed once, when the clock starts (at dispatch), so a timer scan compares
stored instants and never does calendar arithmetic. A pause moves all of them by the
time the clock stood still, counted in the limit's own unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import ArrayLike, NDArray

from opencitybrain.worktime.calendar import WorkCalendar, epoch, from_epoch
from opencitybrain.worktime.limits import TimeLimit, TimeUnit

__all__ = ["WARN_FRACTION", "Deadlines", "deadlines", "deadlines_many", "elapsed", "shift"]

WARN_FRACTION = 0.8  # warn when 80 % of the limit is used
ESCALATE_FRACTION = 1.5  # the bureau supervises (督办) when half the limit again has passed


@dataclass(frozen=True, slots=True)
class Deadlines:
    """The instants at which a running limit warns, falls due and escalates."""

    warn_at: datetime
    due_at: datetime
    escalate_at: datetime


def _is_calendar(unit: TimeUnit) -> bool:
    return unit is TimeUnit.CALENDAR_HOURS


def deadlines(calendar: WorkCalendar, start: datetime, limit: TimeLimit) -> Deadlines:
    """Return the warning, due and escalation instants of ``limit`` started at ``start``."""
    many = deadlines_many(calendar, [epoch(start)], [limit.value], limit.unit)
    return Deadlines(*(from_epoch(a[0]) for a in many))


def deadlines_many(
    calendar: WorkCalendar, starts: ArrayLike, values: ArrayLike, unit: TimeUnit
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Return warn, due and escalate epochs for many starts of limits in one unit."""
    t = np.atleast_1d(np.asarray(starts, dtype=np.float64))
    v = np.broadcast_to(np.asarray(values, dtype=np.float64), t.shape)
    if _is_calendar(unit):
        span = v * 3600.0
        return t + WARN_FRACTION * span, t + span, t + ESCALATE_FRACTION * span
    w0 = calendar.work_coordinate(t)
    if unit is TimeUnit.WORKING_HOURS:
        due = calendar.instant_at(w0 + v * 3600.0)
    else:
        due = calendar.close_of_nth_workday(t, v.astype(np.int64))
    span = calendar.work_coordinate(due) - w0
    warn = calendar.instant_at(w0 + WARN_FRACTION * span)
    escalate = calendar.instant_at(w0 + ESCALATE_FRACTION * span)
    return warn, due, escalate


def elapsed(calendar: WorkCalendar, start: datetime, end: datetime, unit: TimeUnit) -> float:
    """Return the seconds from ``start`` to ``end`` as ``unit`` counts them."""
    if _is_calendar(unit):
        return (end - start).total_seconds()
    return calendar.working_seconds_between(start, end)


def shift(
    calendar: WorkCalendar, marks: Deadlines, paused_from: datetime, paused_to: datetime,
    unit: TimeUnit,
) -> Deadlines:  # fmt: skip
    """Move every deadline later by the time the clock stood still (in ``unit``'s time)."""
    if _is_calendar(unit):
        gap = paused_to - paused_from
        return Deadlines(marks.warn_at + gap, marks.due_at + gap, marks.escalate_at + gap)
    pause = max(0.0, calendar.working_seconds_between(paused_from, paused_to))
    w = calendar.work_coordinate(
        [epoch(marks.warn_at), epoch(marks.due_at), epoch(marks.escalate_at)]
    )
    moved = calendar.instant_at(w + pause)
    return Deadlines(*(from_epoch(x) for x in moved))
