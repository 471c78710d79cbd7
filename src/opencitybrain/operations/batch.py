"""Batched intake for machine sources (app alerts, the demo stream, bulk imports).

The same rules as one report at a time — location inside the city, known class,
duplicates merged within the radius and window, resubmitted external ids refused — but
points are located in one vectorised call, duplicates are matched in memory against one
read per class, and everything is written in one transaction. With ``dispatch`` the new
cases are filed and dispatched on intake by the class table (自动立案派遣), their clocks
started at once. A bad report is refused with its index and reason; the others land.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from opencitybrain.kernel.errors import CityBrainError, Conflict
from opencitybrain.kernel.events import CloudEvent, Context
from opencitybrain.kernel.ids import new_id
from opencitybrain.operations.classes import STAGE_MINUTES, CaseClass, Urgency
from opencitybrain.operations.directory import GridWorkers
from opencitybrain.operations.events import case_event
from opencitybrain.operations.intake import NewReport, check_description, outside_city
from opencitybrain.operations.locate import (
    CaseLocator,
    box_around,
    check_point,
    distance_m,
    locate_many,
)
from opencitybrain.operations.model import (
    Case,
    CaseStatus,
    Location,
    Report,
    Source,
    Step,
    Supervision,
    next_alarm,
)
from opencitybrain.operations.ports import CaseStore
from opencitybrain.worktime import WorkCalendar, deadlines

AUTO_NOTE = "受理即立案派遣 / filed and dispatched on intake"


@dataclass
class BatchResult:
    """What became of each report: a new case, a merge into a case, or a refusal."""

    created: list[tuple[int, Case]] = field(default_factory=list)
    merged: list[tuple[int, str]] = field(default_factory=list)
    refused: list[tuple[int, CityBrainError]] = field(default_factory=list)


@dataclass
class _Pending:
    index: int
    new: NewReport
    case_class: CaseClass
    description: str
    location: Location | None = None


def _new_case(p: _Pending, loc: Location, now: datetime) -> Case:
    urgent = p.new.urgent if p.new.urgent is not None else p.case_class.urgency is Urgency.URGENT
    stage = timedelta(minutes=STAGE_MINUTES[Urgency.URGENT if urgent else Urgency.NORMAL])
    return Case(
        id=new_id(), source=p.new.source, class_code=p.case_class.code,
        title=(p.new.title or p.case_class.name_zh).strip()[:200], description=p.description,
        location=replace(loc, address=p.new.address), status=CaseStatus.REPORTED, urgent=urgent,
        reported_at=now, updated_at=now, reporter=dict(p.new.reporter), file_due_at=now + stage,
    )  # fmt: skip


def take_batch(
    ctx: Context,
    reports: Sequence[NewReport],
    now: datetime,
    *,
    store: CaseStore,
    classes: Callable[[str], CaseClass],
    locator: CaseLocator,
    calendar: WorkCalendar,
    workers: GridWorkers,
    radius_m: float,
    window: timedelta,
    dispatch: bool,
) -> tuple[BatchResult, list[CloudEvent]]:
    """Take many reports in; return what became of each and the events to publish."""
    result = BatchResult()
    pending: list[_Pending] = []
    for i, new in enumerate(reports):
        try:
            check_point(new.lon, new.lat)
            pending.append(
                _Pending(i, new, classes(new.class_code), check_description(new.description))
            )
        except CityBrainError as exc:
            result.refused.append((i, exc))
    found = locate_many(locator, [p.new.lon for p in pending], [p.new.lat for p in pending])
    located = []
    for p, loc in zip(pending, found, strict=True):
        if loc is None:
            result.refused.append((p.index, outside_city(p.new.lon, p.new.lat)))
        else:
            p.location = loc
            located.append(p)
    located = _drop_resubmissions(located, store, result)

    by_class: dict[str, list[_Pending]] = defaultdict(list)
    for p in located:
        by_class[p.case_class.code].append(p)
    new_cases: dict[str, Case] = {}
    new_reports: list[Report] = []
    new_steps: list[Step] = []
    merges: list[tuple[_Pending, str, float, str]] = []  # (report, case id, metres, report id)
    # One read of the open cases near any report of the batch, for all its classes.
    stored_points = _open_points(store, located, now - window, radius_m)
    for code, items in by_class.items():
        pool = _Pool(radius_m)
        for cid, x, y in stored_points.get(code, ()):
            pool.add(cid, x, y)
        cls = items[0].case_class
        marks = deadlines(calendar, now, cls.time_limit) if dispatch else None
        departments: dict[tuple[str, ...], tuple[str, str | None]] = {}
        for p in items:
            loc = p.location
            assert loc is not None
            rid = new_id()
            twin = pool.nearest(loc.lon, loc.lat)
            if twin is not None:
                merges.append((p, twin[0], twin[1], rid))
                continue
            case = _new_case(p, loc, now)
            steps = [Step(case.id, 0, "report", None, CaseStatus.REPORTED, ctx.actor,
                          ctx.department, now, p.description, p.new.attachments,
                          {"source": p.new.source.value, "report_id": rid})]  # fmt: skip
            if marks is not None:
                stage = case.file_due_at - case.reported_at  # type: ignore[operator]
                regions = loc.region_codes
                if regions not in departments:  # the same grid, the same department
                    departments[regions] = (cls.department_for(regions),
                                            workers.worker_for(regions))  # fmt: skip
                dept, worker = departments[regions]
                case = replace(
                    case, status=CaseStatus.DISPATCHED, filed_at=now, dispatch_due_at=now + stage,
                    dispatched_at=now, department_id=dept, worker_id=worker,
                    limit_value=cls.time_limit.value, limit_unit=cls.time_limit.unit,
                    warn_at=marks.warn_at, due_at=marks.due_at, escalate_at=marks.escalate_at,
                    clock_running=True, supervision=Supervision.NONE,
                )  # fmt: skip
                steps += [
                    Step(case.id, 0, "file", CaseStatus.REPORTED, CaseStatus.FILED, ctx.actor,
                         ctx.department, now, AUTO_NOTE),
                    Step(case.id, 0, "dispatch", CaseStatus.FILED, CaseStatus.DISPATCHED,
                         ctx.actor, ctx.department, now, AUTO_NOTE,
                         data={"department_id": dept, "limit": cls.time_limit.describe()}),
                ]  # fmt: skip
            alarm, alarm_at = next_alarm(case)
            case = replace(case, alarm=alarm, alarm_at=alarm_at)
            new_cases[case.id] = case
            pool.add(case.id, loc.lon, loc.lat)
            new_reports.append(_report(rid, case.id, p, now))
            new_steps += steps
            result.created.append((p.index, case))
    # Merges need their case's status (for the step) and summary (for the event).
    stored = store.get_cases([cid for _, cid, _, _ in merges if cid not in new_cases])
    events: list[CloudEvent] = []
    for p, cid, dist, rid in merges:
        into = new_cases.get(cid) or stored[cid]
        if cid in new_cases:
            new_cases[cid] = replace(into, report_count=into.report_count + 1)
        new_reports.append(_report(rid, cid, p, now))
        data = {"report_id": rid, "distance_m": round(dist, 1)}
        new_steps.append(Step(cid, 0, "merge", into.status, into.status, ctx.actor,
                              ctx.department, now, p.description, p.new.attachments,
                              data))  # fmt: skip
        result.merged.append((p.index, cid))
        events.append(case_event("merged", into, now, ctx, {"report_id": rid}))
    merged_into = [cid for _, cid, _, _ in merges]
    store.add_batch(list(new_cases.values()), new_reports, new_steps, merged_into)
    result.created = [(i, new_cases[c.id]) for i, c in result.created]
    for _, case in result.created:
        events.append(case_event("reported", case, now, ctx))
        if case.status is CaseStatus.DISPATCHED:
            events.append(case_event("dispatched", case, now, ctx, {"auto": True}))
    return result, events


def _drop_resubmissions(
    items: list[_Pending], store: CaseStore, result: BatchResult
) -> list[_Pending]:
    """Refuse external ids stored already or repeated within the batch."""
    keep: list[_Pending] = []
    seen: set[tuple[str, str]] = set()
    by_source: dict[str, list[str]] = defaultdict(list)
    for p in items:
        if p.new.external_id is not None:
            by_source[p.new.source.value].append(p.new.external_id)
    stored = {
        (src, ext): cid
        for src, ids in by_source.items()
        for ext, cid in store.known_external_ids(Source(src), ids).items()
    }
    for p in items:
        key = (p.new.source.value, p.new.external_id or "")
        if p.new.external_id is None:
            keep.append(p)
        elif key in stored or key in seen:
            where = stored.get(key, "this batch")
            result.refused.append((p.index, Conflict(
                "case.duplicate_submission",
                f"该报告（{p.new.external_id}）已提交，对应案件 {where}",
                f"report {p.new.external_id} was submitted already: {where}",
            )))  # fmt: skip
        else:
            seen.add(key)
            keep.append(p)
    return keep


def _open_points(
    store: CaseStore, items: list[_Pending], since: datetime, radius_m: float
) -> dict[str, list[tuple[str, float, float]]]:
    """Read where the open cases are that a report of the batch might duplicate, by class."""
    if not items:
        return {}
    boxes = [box_around(p.new.lon, p.new.lat, radius_m) for p in items]
    box = (min(b[0] for b in boxes), min(b[1] for b in boxes),
           max(b[2] for b in boxes), max(b[3] for b in boxes))  # fmt: skip
    codes = sorted({p.case_class.code for p in items})
    return store.open_points_many(codes, since, box)


class _Pool:
    """Points in cells one radius wide, so a nearest-within-radius look is 9 cells, not all."""

    def __init__(self, radius_m: float) -> None:
        self.radius_m = radius_m
        self.cells: dict[tuple[int, int], list[tuple[str, float, float]]] = defaultdict(list)

    def _cell(self, lon: float, lat: float) -> tuple[int, int]:
        # Metres east and north, near enough for cells (distances are exact below).
        x = lon * 111_320.0 * math.cos(math.radians(lat))
        return int(x // self.radius_m), int(lat * 110_574.0 // self.radius_m)

    def add(self, case_id: str, lon: float, lat: float) -> None:
        """Add an open case's point."""
        self.cells[self._cell(lon, lat)].append((case_id, lon, lat))

    def nearest(self, lon: float, lat: float) -> tuple[str, float] | None:
        """Return the nearest case within the radius and its distance, or None."""
        cx, cy = self._cell(lon, lat)
        best: tuple[str, float] | None = None
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for cid, x, y in self.cells.get((cx + dx, cy + dy), ()):
                    d = distance_m(lon, lat, x, y)
                    if d <= self.radius_m and (best is None or d < best[1]):
                        best = (cid, d)
        return best


def _report(report_id: str, case_id: str, p: _Pending, now: datetime) -> Report:
    return Report(
        report_id, case_id, p.new.source, now, p.new.lon, p.new.lat, p.description,
        p.new.external_id, dict(p.new.reporter),
    )  # fmt: skip
