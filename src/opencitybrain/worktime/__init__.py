"""Working time: China's holiday calendar, working days and hours, legal time limits."""

from opencitybrain.worktime.calendar import (
    CalendarRangeError,
    OfficeHours,
    WorkCalendar,
    epoch,
    from_epoch,
)
from opencitybrain.worktime.deadlines import Deadlines, deadlines, deadlines_many, elapsed, shift
from opencitybrain.worktime.limits import TimeLimit, TimeUnit

__all__ = [
    "CalendarRangeError",
    "Deadlines",
    "OfficeHours",
    "TimeLimit",
    "TimeUnit",
    "WorkCalendar",
    "deadlines",
    "deadlines_many",
    "elapsed",
    "epoch",
    "from_epoch",
    "shift",
]
