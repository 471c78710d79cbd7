"""The case store: its port and the SQL implementation (SQLite and PostgreSQL).

Writes are optimistic: a case is saved only if its stored version is the one it was
read at, so two operators acting at once never silently overwrite each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from opencitybrain.kernel.errors import Conflict
from opencitybrain.operations.model import (
    CLOCK_STATUSES,
    OPEN_STATUSES,
    Case,
    Report,
    Source,
    Step,
    Task,
)
from opencitybrain.operations.ports import CaseQuery, CaseStore, KpiRow
from opencitybrain.operations.rows import (
    case_of,
    case_row,
    report_of,
    report_row,
    step_of,
    step_row,
    task_of,
    task_row,
)
from opencitybrain.operations.store_batch import (
    get_cases,
    known_external_ids,
    open_points,
    open_points_many,
    write_batch,
)
from opencitybrain.operations.tables import cases, reports, steps, tasks

# The port and its query shapes live in ports.py; re-exported for callers of the store.
__all__ = ["CaseQuery", "CaseStore", "KpiRow", "SqlCaseStore"]


def _kpi(r: sa.Row[Any]) -> KpiRow:
    return KpiRow(
        key=r.key,
        cases=int(r.cases),
        handled=int(r.handled or 0),
        on_time=int(r.on_time or 0),
        overdue_open=int(r.overdue_open or 0),
        avg_handling_seconds=None if r.avg_handling is None else float(r.avg_handling),
        reopened=int(r.reopened or 0),
        avg_satisfaction=None if r.avg_satisfaction is None else float(r.avg_satisfaction),
        evaluated=int(r.evaluated or 0),
    )


def _duplicate_submission(exc: Exception) -> Conflict:
    return Conflict(
        "case.duplicate_submission",
        "该来源已提交过相同编号的报告",
        "this source has already submitted a report with the same external id",
    )


# Hot statements, built once: building an UPDATE of 47 columns per call costs more than
# running it. Bind names carry a leading "b_" where a column of that name is also SET.
_GET_CASE = cases.select().where(cases.c.id == sa.bindparam("b_id"))


class _Raced(Exception):
    """A batch of alarm updates met a case changed since it was read."""


_SAVE_CASE = cases.update().where(
    cases.c.id == sa.bindparam("b_id"), cases.c.version == sa.bindparam("b_version")
)
_NEXT_SEQ = sa.select(sa.func.max(steps.c.seq)).where(steps.c.case_id == sa.bindparam("b_id"))
_NEARBY = cases.select().where(
    cases.c.class_code == sa.bindparam("b_class"),
    cases.c.reported_at >= sa.bindparam("b_since", type_=cases.c.reported_at.type),
    cases.c.status.in_([s.value for s in sorted(OPEN_STATUSES)]),
    cases.c.lon.between(sa.bindparam("b_lon0"), sa.bindparam("b_lon1")),
    cases.c.lat.between(sa.bindparam("b_lat0"), sa.bindparam("b_lat1")),
)


def _nearby_params(
    class_code: str, since: datetime, box: tuple[float, float, float, float]
) -> dict[str, Any]:
    lon0, lat0, lon1, lat1 = box
    return {"b_class": class_code, "b_since": since, "b_lon0": lon0, "b_lon1": lon1,
            "b_lat0": lat0, "b_lat1": lat1}  # fmt: skip


class SqlCaseStore:
    """Keep cases in the platform's SQL database."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def add_case(self, case: Case, report: Report, step: Step) -> None:
        """Insert a new case with its first report and first step."""
        try:
            with self._engine.begin() as conn:
                conn.execute(cases.insert(), [case_row(case)])
                conn.execute(reports.insert(), [report_row(report)])
                conn.execute(steps.insert(), [step_row(step, 1)])
        except sa.exc.IntegrityError as exc:
            raise _duplicate_submission(exc) from exc

    def get_case(self, case_id: str) -> Case | None:
        """Return a case or None."""
        with self._engine.connect() as conn:
            row = conn.execute(_GET_CASE, {"b_id": case_id}).first()
        return case_of(row) if row else None

    def _next_seq(self, conn: sa.Connection, case_id: str) -> int:
        top = conn.execute(_NEXT_SEQ, {"b_id": case_id}).scalar()
        return int(top or 0) + 1

    def save(
        self,
        case: Case,
        expected_version: int,
        step: Step,
        new_tasks: Sequence[Task] = (),
        changed_tasks: Sequence[Task] = (),
    ) -> Case:
        """Store a changed case (version + 1) with its step; Conflict if it changed meanwhile."""
        stored = replace(case, version=expected_version + 1)
        with self._engine.begin() as conn:
            params = case_row(stored) | {"b_id": case.id, "b_version": expected_version}
            res = conn.execute(_SAVE_CASE, params)
            if res.rowcount != 1:
                raise Conflict(
                    "case.changed",
                    "案件已被他人修改，请刷新后重试",
                    "the case was changed by someone else; reload it and try again",
                )
            conn.execute(steps.insert(), [step_row(step, self._next_seq(conn, case.id))])
            if new_tasks:
                conn.execute(tasks.insert(), [task_row(t) for t in new_tasks])
            for task in changed_tasks:
                conn.execute(tasks.update().where(tasks.c.id == task.id).values(task_row(task)))
        return stored

    def link_report(self, report: Report, step: Step) -> None:
        """Attach a duplicate report to its case and count it."""
        try:
            with self._engine.begin() as conn:
                conn.execute(reports.insert(), [report_row(report)])
                conn.execute(
                    cases.update()
                    .where(cases.c.id == report.case_id)
                    .values(report_count=cases.c.report_count + 1)
                )
                conn.execute(steps.insert(), [step_row(step, self._next_seq(conn, step.case_id))])
        except sa.exc.IntegrityError as exc:
            raise _duplicate_submission(exc) from exc

    def find_report(self, source: Source, external_id: str) -> Report | None:
        """Return the report a source already sent under an external id, or None."""
        stmt = reports.select().where(
            reports.c.source == source.value, reports.c.external_id == external_id
        )
        with self._engine.connect() as conn:
            row = conn.execute(stmt).first()
        return report_of(row) if row else None

    def known_external_ids(self, source: Source, external_ids: Sequence[str]) -> dict[str, str]:
        """Return which of a source's external ids are stored, with their case ids."""
        return known_external_ids(self._engine, source, external_ids)

    def add_batch(
        self,
        new_cases: Sequence[Case],
        new_reports: Sequence[Report],
        new_steps: Sequence[Step],
        merged_into: Sequence[str],
    ) -> None:
        """Store a batch of intake in one transaction (steps numbered by the store)."""
        write_batch(self._engine, new_cases, new_reports, new_steps, merged_into)

    def open_points(
        self, class_code: str, since: datetime, box: tuple[float, float, float, float]
    ) -> list[tuple[str, float, float]]:
        """Return (id, lon, lat) of the open cases :meth:`nearby_open` would return."""
        return open_points(self._engine, _nearby_params(class_code, since, box))

    def open_points_many(
        self, class_codes: Sequence[str], since: datetime, box: tuple[float, float, float, float]
    ) -> dict[str, list[tuple[str, float, float]]]:
        """Return :meth:`open_points` for several classes in one read, by class."""
        params = _nearby_params("", since, box)
        del params["b_class"]
        return open_points_many(self._engine, class_codes, params)

    def get_cases(self, case_ids: Sequence[str]) -> dict[str, Case]:
        """Return the cases that exist among ``case_ids``, by id."""
        return get_cases(self._engine, case_ids)

    def nearby_open(
        self, class_code: str, since: datetime, box: tuple[float, float, float, float]
    ) -> list[Case]:
        """Return open cases of a class reported since ``since`` inside a lon/lat box."""
        with self._engine.connect() as conn:
            found = [
                case_of(r) for r in conn.execute(_NEARBY, _nearby_params(class_code, since, box))
            ]
        return sorted(found, key=lambda c: (c.reported_at, c.id))

    def query(self, q: CaseQuery) -> tuple[list[Case], int]:
        """Return a page of cases (newest first) and the total that match."""
        where: list[sa.ColumnElement[bool]] = []
        if q.status:
            where.append(cases.c.status.in_([s.value for s in q.status]))
        if q.class_code:
            where.append(cases.c.class_code == q.class_code)
        if q.department_id:
            where.append(cases.c.department_id == q.department_id)
        if q.source:
            where.append(cases.c.source == q.source.value)
        if q.region:
            column = {6: cases.c.county, 9: cases.c.street, 12: cases.c.community}.get(
                len(q.region), cases.c.grid
            )
            where.append(column == q.region)
        if q.overdue_at is not None:
            where += [
                cases.c.clock_running.is_(True),
                cases.c.status.in_([s.value for s in CLOCK_STATUSES]),
                cases.c.due_at <= q.overdue_at,
            ]
        page = (
            cases.select()
            .where(*where)
            .order_by(cases.c.reported_at.desc(), cases.c.id.desc())
            .limit(q.limit)
            .offset(q.offset)
        )
        count = sa.select(sa.func.count()).select_from(cases).where(*where)
        with self._engine.connect() as conn:
            rows = [case_of(r) for r in conn.execute(page)]
            total = int(conn.execute(count).scalar() or 0)
        return rows, total

    def timeline(self, case_id: str) -> list[Step]:
        """Return a case's steps in order."""
        stmt = steps.select().where(steps.c.case_id == case_id).order_by(steps.c.seq)
        with self._engine.connect() as conn:
            return [step_of(r) for r in conn.execute(stmt)]

    def reports_of(self, case_id: str) -> list[Report]:
        """Return a case's reports, oldest first."""
        stmt = (
            reports.select()
            .where(reports.c.case_id == case_id)
            .order_by(reports.c.received_at, reports.c.id)
        )
        with self._engine.connect() as conn:
            return [report_of(r) for r in conn.execute(stmt)]

    def tasks_of(self, case_id: str) -> list[Task]:
        """Return a joint case's sub-tasks."""
        stmt = tasks.select().where(tasks.c.case_id == case_id).order_by(tasks.c.department_id)
        with self._engine.connect() as conn:
            return [task_of(r) for r in conn.execute(stmt)]

    def update_task(self, task: Task) -> None:
        """Store a changed sub-task."""
        with self._engine.begin() as conn:
            conn.execute(tasks.update().where(tasks.c.id == task.id).values(task_row(task)))

    def due_alarms(self, now: datetime, limit: int) -> list[Case]:
        """Return cases whose next alarm is due by ``now``, earliest first."""
        stmt = cases.select().where(cases.c.alarm_at <= now).order_by(cases.c.alarm_at).limit(limit)
        with self._engine.connect() as conn:
            return [case_of(r) for r in conn.execute(stmt)]

    def apply_alarms(self, changed: Sequence[tuple[Case, int]]) -> list[str]:
        """Store alarm changes (case, version read); return the ids stored."""
        params = [
            {
                "b_id": case.id, "b_version": version, "version": version + 1,
                "alarm": case.alarm.value if case.alarm else None, "alarm_at": case.alarm_at,
                "warned": case.warned, "supervision": int(case.supervision),
                "updated_at": case.updated_at,
            }
            for case, version in changed
        ]  # fmt: skip
        if params and self._engine.dialect.supports_sane_multi_rowcount:
            # One executemany: a thousand alarms due at once were a third of a scan as
            # single UPDATEs. If a case changed meanwhile (the version check), the counts
            # differ: undo the batch and store case by case, to know which ones stood.
            try:
                with self._engine.begin() as conn:
                    if conn.execute(_SAVE_CASE, params).rowcount != len(params):
                        raise _Raced
                return [case.id for case, _ in changed]
            except _Raced:
                pass
        stored: list[str] = []
        with self._engine.begin() as conn:
            for row in params:
                if conn.execute(_SAVE_CASE, row).rowcount == 1:
                    stored.append(str(row["b_id"]))
        return stored

    def kpis(self, by: str, since: datetime | None, now: datetime) -> list[KpiRow]:
        """Return supervision figures grouped by ``department_id`` or ``county``."""
        key = cases.c.department_id if by == "department_id" else cases.c.county
        one = sa.literal(1)

        def count_if(cond: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
            return sa.func.sum(sa.case((cond, one), else_=0))

        running = sa.and_(
            cases.c.clock_running.is_(True),
            cases.c.status.in_([s.value for s in CLOCK_STATUSES]),
            cases.c.due_at <= now,
        )
        stmt = (
            sa.select(
                key.label("key"),
                sa.func.count().label("cases"),
                count_if(cases.c.handled_at.is_not(None)).label("handled"),
                count_if(cases.c.handled_on_time.is_(True)).label("on_time"),
                count_if(running).label("overdue_open"),
                sa.func.avg(cases.c.handling_seconds).label("avg_handling"),
                count_if(cases.c.reopen_count > 0).label("reopened"),
                sa.func.avg(cases.c.satisfaction).label("avg_satisfaction"),
                sa.func.count(cases.c.satisfaction).label("evaluated"),
            )
            .where(cases.c.dispatched_at.is_not(None), key.is_not(None))
            .group_by(key)
            .order_by(key)
        )
        if since is not None:
            stmt = stmt.where(cases.c.reported_at >= since)
        with self._engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [_kpi(r) for r in rows]
