"""Intake: a report becomes a new case, or joins an open case of the same problem.

Duplicate rule: an open case of the same sub-class reported within the policy's window
(24 h by default) and radius (50 m) is the same problem; the new report is kept, linked
to that case (the nearest, if several), and counted. A source that resends a report under
the same external id gets a 409 naming the case it already made.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from opencitybrain.kernel.errors import Conflict, FieldError, InvalidInput
from opencitybrain.kernel.events import Context
from opencitybrain.kernel.ids import new_id
from opencitybrain.operations.classes import STAGE_MINUTES, CaseClass, Urgency
from opencitybrain.operations.locate import CaseLocator, box_around, check_point, distance_m
from opencitybrain.operations.model import (
    Attachment,
    Case,
    CaseStatus,
    Location,
    Report,
    Source,
    Step,
    next_alarm,
)
from opencitybrain.operations.ports import CaseStore

MAX_TEXT = 4000


@dataclass(frozen=True, slots=True)
class NewReport:
    """A report as a source sends it."""

    source: Source
    class_code: str
    lon: float
    lat: float
    description: str
    title: str | None = None
    address: str | None = None
    reporter: dict[str, Any] = field(default_factory=dict)
    external_id: str | None = None
    urgent: bool | None = None  # None: as the class says
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """The case a report made or joined, and whether it was merged into an existing one."""

    case: Case
    report_id: str
    merged: bool
    distance_m: float | None = None


def check_description(text: str) -> str:
    """Return the trimmed description, or refuse an empty or overlong one."""
    description = text.strip()
    if not description or len(description) > MAX_TEXT:
        raise InvalidInput(
            "case.bad_description",
            f"问题描述须为 1–{MAX_TEXT} 个字符",
            f"description must be 1–{MAX_TEXT} characters",
            (FieldError("description", f"1–{MAX_TEXT} characters"),),
        )
    return description


def outside_city(lon: float, lat: float) -> InvalidInput:
    """Return the error for a point outside the city."""
    return InvalidInput(
        "case.outside_city",
        f"位置（{lon:.6f}, {lat:.6f}）不在本市范围内",
        f"the location ({lon:.6f}, {lat:.6f}) is outside the city",
        (FieldError("location", "a point inside one of the city's counties"),),
    )


class Intake:
    """Turn reports into cases (the 信息采集 desk)."""

    def __init__(self, store: CaseStore, locator: CaseLocator, radius_m: float) -> None:
        self.store = store
        self.locator = locator
        self.radius_m = radius_m

    def locate(self, lon: float, lat: float, address: str | None) -> Location:
        """Return the point's divisions, or refuse a point outside the city."""
        check_point(lon, lat)
        found = self.locator.locate(lon, lat)
        if found is None:
            raise outside_city(lon, lat)
        return Location(lon, lat, found.county, found.street, found.community, found.grid, address)

    def take(
        self, ctx: Context, new: NewReport, case_class: CaseClass, now: datetime,
        window: timedelta,
    ) -> IntakeResult:  # fmt: skip
        """Store the report as a new case or as a linked report; return which."""
        description = check_description(new.description)
        location = self.locate(new.lon, new.lat, new.address)
        if new.external_id is not None:
            earlier = self.store.find_report(new.source, new.external_id)
            if earlier is not None:
                raise Conflict(
                    "case.duplicate_submission",
                    f"该报告（{new.external_id}）已提交，对应案件 {earlier.case_id}",
                    f"report {new.external_id} was submitted already: case {earlier.case_id}",
                )
        report_id = new_id()
        twin = self._twin(case_class.code, location, now - window)
        if twin is not None:
            case, dist = twin
            report = self._report(report_id, case.id, new, now, description)
            step = Step(
                case.id, 0, "merge", case.status, case.status, ctx.actor, ctx.department, now,
                description, new.attachments,
                {"report_id": report_id, "source": new.source.value, "distance_m": round(dist, 1)},
            )  # fmt: skip
            self.store.link_report(report, step)
            merged = self.store.get_case(case.id) or case
            return IntakeResult(merged, report_id, True, dist)
        urgent = new.urgent if new.urgent is not None else case_class.urgency is Urgency.URGENT
        case = Case(
            id=new_id(),
            source=new.source,
            class_code=case_class.code,
            title=(new.title or case_class.name_zh).strip()[:200],
            description=description,
            location=location,
            status=CaseStatus.REPORTED,
            urgent=urgent,
            reported_at=now,
            updated_at=now,
            reporter=dict(new.reporter),
            file_due_at=now
            + timedelta(minutes=STAGE_MINUTES[Urgency.URGENT if urgent else Urgency.NORMAL]),
        )
        alarm, alarm_at = next_alarm(case)
        case = replace(case, alarm=alarm, alarm_at=alarm_at)
        report = self._report(report_id, case.id, new, now, description)
        step = Step(
            case.id, 1, "report", None, CaseStatus.REPORTED, ctx.actor, ctx.department, now,
            description, new.attachments, {"source": new.source.value, "report_id": report_id},
        )  # fmt: skip
        self.store.add_case(case, report, step)
        return IntakeResult(case, report_id, False)

    def _twin(self, code: str, loc: Location, since: datetime) -> tuple[Case, float] | None:
        box = box_around(loc.lon, loc.lat, self.radius_m)
        near = [
            (c, distance_m(loc.lon, loc.lat, c.location.lon, c.location.lat))
            for c in self.store.nearby_open(code, since, box)
        ]
        near = [(c, d) for c, d in near if d <= self.radius_m]
        return min(near, key=lambda cd: cd[1]) if near else None

    @staticmethod
    def _report(report_id: str, case_id: str, new: NewReport, now: datetime, text: str) -> Report:
        return Report(
            report_id, case_id, new.source, now, new.lon, new.lat, text, new.external_id,
            dict(new.reporter),
        )  # fmt: skip
