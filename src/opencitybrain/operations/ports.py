"""The port operations needs from storage, and the shapes of its queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from opencitybrain.operations.model import Case, CaseStatus, Report, Source, Step, Task


@dataclass(frozen=True, slots=True)
class CaseQuery:
    """Filters and paging of a case listing."""

    status: tuple[CaseStatus, ...] = ()
    class_code: str | None = None
    department_id: str | None = None
    region: str | None = None  # a county, street, community or grid code
    overdue_at: datetime | None = None  # only cases whose running limit passed by then
    source: Source | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class KpiRow:
    """Supervision figures of one department or district."""

    key: str
    cases: int
    handled: int
    on_time: int
    overdue_open: int
    avg_handling_seconds: float | None
    reopened: int
    avg_satisfaction: float | None
    evaluated: int


class CaseStore(Protocol):
    """Persist cases, their timelines, reports and joint-case tasks."""

    def add_case(self, case: Case, report: Report, step: Step) -> None:
        """Insert a new case with its first report and first step."""
        ...

    def get_case(self, case_id: str) -> Case | None:
        """Return a case or None."""
        ...

    def save(
        self,
        case: Case,
        expected_version: int,
        step: Step,
        new_tasks: Sequence[Task] = (),
        changed_tasks: Sequence[Task] = (),
    ) -> Case:
        """Store a changed case (version + 1) with its step; Conflict if it changed meanwhile."""
        ...

    def link_report(self, report: Report, step: Step) -> None:
        """Attach a duplicate report to its case and count it."""
        ...

    def find_report(self, source: Source, external_id: str) -> Report | None:
        """Return the report a source already sent under an external id, or None."""
        ...

    def known_external_ids(self, source: Source, external_ids: Sequence[str]) -> dict[str, str]:
        """Return which of a source's external ids are stored, with their case ids."""
        ...

    def add_batch(
        self,
        new_cases: Sequence[Case],
        new_reports: Sequence[Report],
        new_steps: Sequence[Step],
        merged_into: Sequence[str],
    ) -> None:
        """Store a batch of intake in one transaction (steps numbered by the store)."""
        ...

    def nearby_open(
        self, class_code: str, since: datetime, box: tuple[float, float, float, float]
    ) -> list[Case]:
        """Return open cases of a class reported since ``since`` inside a lon/lat box."""
        ...

    def open_points(
        self, class_code: str, since: datetime, box: tuple[float, float, float, float]
    ) -> list[tuple[str, float, float]]:
        """Return (id, lon, lat) of the open cases :meth:`nearby_open` would return."""
        ...

    def open_points_many(
        self, class_codes: Sequence[str], since: datetime, box: tuple[float, float, float, float]
    ) -> dict[str, list[tuple[str, float, float]]]:
        """Return :meth:`open_points` for several classes in one read, by class."""
        ...

    def get_cases(self, case_ids: Sequence[str]) -> dict[str, Case]:
        """Return the cases that exist among ``case_ids``, by id."""
        ...

    def query(self, q: CaseQuery) -> tuple[list[Case], int]:
        """Return a page of cases (newest first) and the total that match."""
        ...

    def timeline(self, case_id: str) -> list[Step]:
        """Return a case's steps in order."""
        ...

    def reports_of(self, case_id: str) -> list[Report]:
        """Return a case's reports, oldest first."""
        ...

    def tasks_of(self, case_id: str) -> list[Task]:
        """Return a joint case's sub-tasks."""
        ...

    def update_task(self, task: Task) -> None:
        """Store a changed sub-task."""
        ...

    def due_alarms(self, now: datetime, limit: int) -> list[Case]:
        """Return cases whose next alarm is due by ``now``, earliest first."""
        ...

    def apply_alarms(self, changed: Sequence[tuple[Case, int]]) -> list[str]:
        """Store alarm changes (case, version read); return the ids stored."""
        ...

    def kpis(self, by: str, since: datetime | None, now: datetime) -> list[KpiRow]:
        """Return supervision figures grouped by ``department_id`` or ``county``."""
        ...
