"""Read the reports filed through Open311 (SQLite and PostgreSQL), newest first.

The case store answers by case; Open311 answers by request, i.e. by report of source
``open311``. Cases come through the store's own ``get_cases``; this reads the reports
and, from the intake steps, each report's media link and whether it joined a case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from opencitybrain.operations.model import Report, Source
from opencitybrain.operations.open311 import media_url_of
from opencitybrain.operations.rows import report_of, step_of
from opencitybrain.operations.tables import cases, reports, steps


@dataclass(frozen=True, slots=True)
class RequestQuery:
    """Filters of ``GET requests``; ``ids`` (when given) overrides the rest."""

    ids: tuple[str, ...] = ()
    class_codes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    limit: int = 1000
    # The earliest a case holding a report of the range can have been reported (the range's
    # start less the duplicate window): lets a class filter read the cases' index first.
    case_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class IntakeTrace:
    """What intake recorded of one report: its media link, and whether it was merged."""

    media_url: str | None
    merged: bool


class Open311Reads:
    """Query Open311 reports in the operations tables."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def reports(self, q: RequestQuery) -> list[Report]:
        """Return Open311 reports matching the query, newest first."""
        if q.ids:
            # By primary key only: with the source in the WHERE clause too, SQLite walks
            # the (source, received_at) index for the ORDER BY instead (a scan at 1M).
            with self._engine.connect() as conn:
                rows = conn.execute(sa.select(reports).where(reports.c.id.in_(q.ids)))
                found = [r for r in map(report_of, rows) if r.source is Source.OPEN311]
            return sorted(found, key=lambda r: (r.received_at, r.id), reverse=True)[: q.limit]
        where: list[sa.ColumnElement[bool]] = [reports.c.source == Source.OPEN311.value]
        stmt = sa.select(reports)
        if q.start is not None:
            where.append(reports.c.received_at >= q.start)
        if q.end is not None:
            where.append(reports.c.received_at <= q.end)
        if q.statuses:
            stmt = stmt.join(cases, cases.c.id == reports.c.case_id)
        if q.class_codes:
            # The class's cases by the (class_code, reported_at) index, as a list the
            # reports are checked against: 2–3× faster than joining every report of the
            # range to its case (the case's date bound is a superset: a merged report is
            # younger than its case by at most the duplicate window).
            of_class = sa.select(cases.c.id).where(cases.c.class_code.in_(q.class_codes))
            if q.case_since is not None:
                of_class = of_class.where(cases.c.reported_at >= q.case_since)
            if q.end is not None:
                of_class = of_class.where(cases.c.reported_at <= q.end)
            where.append(reports.c.case_id.in_(of_class))
        if q.statuses:
            where.append(cases.c.status.in_(q.statuses))
        stmt = (
            stmt.where(*where)
            .order_by(reports.c.received_at.desc(), reports.c.id.desc())
            .limit(q.limit)
        )
        with self._engine.connect() as conn:
            return [report_of(r) for r in conn.execute(stmt)]

    def traces(self, found: Sequence[Report]) -> dict[str, IntakeTrace]:
        """Return, by report id, the media link and merge flag from the intake steps."""
        if not found:
            return {}
        wanted = {r.id for r in found}
        stmt = steps.select().where(
            steps.c.case_id.in_(sorted({r.case_id for r in found})),
            steps.c.action.in_(("report", "merge")),
        )
        out: dict[str, IntakeTrace] = {}
        with self._engine.connect() as conn:
            for row in conn.execute(stmt):
                step = step_of(row)
                report_id = step.data.get("report_id")
                if report_id in wanted:
                    out[report_id] = IntakeTrace(
                        media_url_of(step.attachments), step.action == "merge"
                    )
        return out
