"""Timers: raise the alarms that have come due (预警, 超期, 督办) on the stored deadlines.

Deadlines were fixed at dispatch, so a scan reads the cases whose ``alarm_at`` has passed
(one indexed range read, however many cases are open) and walks each one up its alarm
chain; a case that slept through several thresholds raises each of them once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from opencitybrain.operations.model import Alarm, Case, Supervision, next_alarm

# What raising an alarm changes on the case.
_EFFECT: dict[Alarm, dict[str, object]] = {
    Alarm.FILING_LATE: {"warned": True},
    Alarm.DISPATCH_LATE: {"warned": True},
    Alarm.WARNING: {"warned": True},
    Alarm.OVERDUE: {"warned": True, "supervision": Supervision.SUPERVISOR},
    Alarm.BUREAU: {"warned": True, "supervision": Supervision.BUREAU},
}

# The event each alarm publishes: city.operations.case.<what-happened>.
ALARM_EVENTS: dict[Alarm, str] = {
    Alarm.FILING_LATE: "filing-late",
    Alarm.DISPATCH_LATE: "dispatch-late",
    Alarm.WARNING: "warned",
    Alarm.OVERDUE: "overdue",
    Alarm.BUREAU: "escalated",
}


def raise_due(case: Case, now: datetime) -> tuple[Case, list[Alarm]]:
    """Return the case with every alarm due by ``now`` raised, and those alarms in order."""
    raised: list[Alarm] = []
    changes: dict[str, object] = {}
    alarm, at = case.alarm, case.alarm_at
    while alarm is not None and at is not None and at <= now:
        raised.append(alarm)
        changes.update(_EFFECT[alarm])
        # The next alarm depends on the effect (warned, supervision), read from one copy.
        # A case has some forty fields, so each copy costs tens of µs: with a thousand
        # alarms due at once the copies were a quarter of the scan (three a case, now two).
        alarm, at = next_alarm(replace(case, **changes))  # type: ignore[arg-type]
        changes.update(alarm=alarm, alarm_at=at)
        if len(raised) > len(Alarm):  # a chain never repeats; guard against a bad row
            break
    if not raised:
        return case, raised
    return replace(case, **changes, updated_at=now), raised  # type: ignore[arg-type]
