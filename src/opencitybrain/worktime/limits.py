"""Time limits: a value and a unit (working hours, working days or calendar hours)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from opencitybrain.kernel.errors import FieldError, InvalidInput


class TimeUnit(StrEnum):
    """How a time limit is counted."""

    WORKING_HOURS = "working_hours"  # office hours of working days only
    WORKING_DAYS = "working_days"  # whole working days, counted from the next day
    CALENDAR_HOURS = "calendar_hours"  # the clock never stops (emergencies)


UNIT_NAMES: dict[TimeUnit, tuple[str, str]] = {
    TimeUnit.WORKING_HOURS: ("工作小时", "working hours"),
    TimeUnit.WORKING_DAYS: ("工作日", "working days"),
    TimeUnit.CALENDAR_HOURS: ("自然小时", "calendar hours"),
}

# Longer limits are not case-handling limits any more; they catch typos like 1500 for 15.
MAX_LIMIT = {
    TimeUnit.WORKING_HOURS: 2000.0,
    TimeUnit.WORKING_DAYS: 250.0,
    TimeUnit.CALENDAR_HOURS: 8760.0,
}


@dataclass(frozen=True, slots=True)
class TimeLimit:
    """A legal or agreed time limit, such as 2 working hours or 15 working days."""

    value: float
    unit: TimeUnit

    def __post_init__(self) -> None:
        if not (0 < self.value <= MAX_LIMIT[self.unit]):
            raise InvalidInput(
                "worktime.bad_limit",
                f"时限须大于 0 且不超过 {MAX_LIMIT[self.unit]:g} {UNIT_NAMES[self.unit][0]}",
                f"a time limit must be > 0 and ≤ {MAX_LIMIT[self.unit]:g} {self.unit.value}",
                (FieldError("time_limit.value", f"0 < value ≤ {MAX_LIMIT[self.unit]:g}"),),
            )
        if self.unit is TimeUnit.WORKING_DAYS and self.value != int(self.value):
            raise InvalidInput(
                "worktime.fractional_days",
                "工作日时限须为整数",
                "a limit in working days must be a whole number",
                (FieldError("time_limit.value", "whole number of working days"),),
            )

    def describe(self) -> str:
        """Return the limit in words, Chinese first ("2 工作小时 / 2 working hours")."""
        zh, en = UNIT_NAMES[self.unit]
        return f"{self.value:g} {zh} / {self.value:g} {en}"
