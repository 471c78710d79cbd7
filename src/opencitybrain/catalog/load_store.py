"""Load reports and quarantined rows in the operational SQL store (SQLite or PostgreSQL).

Tables (kept in step with ``migrations/versions/0008_catalog_loads.py``):
``catalog_loads`` — one row per load, its report; ``catalog_load_quarantine`` — the rows
a load did not land, with row number, field, reason and the raw row as the source had it.
The rows themselves live in the analytics store (``adapters/duckdb_rows.py``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any, Protocol

import sqlalchemy as sa

from opencitybrain.catalog.load_model import LoadFormat, LoadReport, LoadStatus, Quarantined
from opencitybrain.catalog.tables import AWARE, ID, JSON_DOC, metadata

loads = sa.Table(
    "catalog_loads",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("resource_id", ID, sa.ForeignKey("catalog_resources.id"), nullable=False),
    sa.Column("department_id", sa.String(64), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("format", sa.String(8), nullable=False),
    sa.Column("source", sa.String(500), nullable=False),
    sa.Column("key", JSON_DOC, nullable=False),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("rows_in", sa.Integer, nullable=False),
    sa.Column("inserted", sa.Integer, nullable=False),
    sa.Column("updated", sa.Integer, nullable=False),
    sa.Column("unchanged", sa.Integer, nullable=False),
    sa.Column("quarantined", sa.Integer, nullable=False),
    sa.Column("started_at", AWARE, nullable=False),
    sa.Column("finished_at", AWARE, nullable=False),
    sa.Column("detail", JSON_DOC, nullable=False),  # missing fields, ignored columns, …
    sa.Index("ix_catalog_loads_resource_id", "resource_id", "started_at"),
)

quarantine = sa.Table(
    "catalog_load_quarantine",
    metadata,
    sa.Column("load_id", ID, sa.ForeignKey("catalog_loads.id"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),  # order within the load
    sa.Column("row_no", sa.Integer, nullable=False),
    sa.Column("field", sa.String(64), nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("raw", JSON_DOC, nullable=False),
)

_CHUNK = 5000


class LoadStore(Protocol):
    """Keep load reports and their quarantined rows."""

    def add(self, report: LoadReport, quarantined: Iterable[Quarantined]) -> None:
        """Store a load's report and its quarantined rows (in row order) in one transaction."""
        ...

    def get(self, load_id: str) -> LoadReport | None:
        """Return a load's report, or None."""
        ...

    def of_resource(self, resource_id: str, *, limit: int, offset: int) -> list[LoadReport]:
        """Return a resource's loads, newest first."""
        ...

    def quarantined(self, load_id: str, *, limit: int, offset: int) -> list[Quarantined]:
        """Return a load's quarantined rows in row order."""
        ...


def _report(row: Any) -> LoadReport:
    detail = row.detail or {}
    return LoadReport(
        id=row.id,
        resource_id=row.resource_id,
        department_id=row.department_id,
        actor=row.actor,
        format=LoadFormat(row.format),
        source=row.source,
        key=tuple(row.key),
        status=LoadStatus(row.status),
        rows_in=row.rows_in,
        inserted=row.inserted,
        updated=row.updated,
        unchanged=row.unchanged,
        quarantined=row.quarantined,
        started_at=row.started_at,
        finished_at=row.finished_at,
        missing_fields=tuple(detail.get("missing_fields", ())),
        ignored_columns=tuple(detail.get("ignored_columns", ())),
        encoding=detail.get("encoding", ""),
        error=detail.get("error", ""),
    )


class SqlLoadStore:
    """Keep load metadata in the platform's SQL database."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def add(self, report: LoadReport, quarantined: Iterable[Quarantined]) -> None:
        """Store a load's report and its quarantined rows (read in batches) in one
        transaction."""
        r = report
        detail = {
            "missing_fields": list(r.missing_fields),
            "ignored_columns": list(r.ignored_columns),
            "encoding": r.encoding,
            "error": r.error,
        }
        with self._engine.begin() as conn:
            conn.execute(
                loads.insert().values(
                    id=r.id, resource_id=r.resource_id, department_id=r.department_id,
                    actor=r.actor, format=r.format.value, source=r.source[:500], key=list(r.key),
                    status=r.status.value, rows_in=r.rows_in, inserted=r.inserted,
                    updated=r.updated, unchanged=r.unchanged, quarantined=r.quarantined,
                    started_at=r.started_at, finished_at=r.finished_at, detail=detail,
                )
            )  # fmt: skip
            rows = iter(quarantined)
            start = 0
            while chunk := list(itertools.islice(rows, _CHUNK)):
                conn.execute(
                    quarantine.insert(),
                    [
                        {
                            "load_id": r.id,
                            "seq": start + i,
                            "row_no": q.row,
                            "field": q.field[:64],
                            "reason": q.reason[:500],
                            "raw": q.raw,
                        }
                        for i, q in enumerate(chunk)
                    ],
                )
                start += len(chunk)

    def get(self, load_id: str) -> LoadReport | None:
        """Return a load's report, or None."""
        with self._engine.connect() as conn:
            row = conn.execute(loads.select().where(loads.c.id == load_id)).first()
        return _report(row) if row is not None else None

    def of_resource(self, resource_id: str, *, limit: int, offset: int) -> list[LoadReport]:
        """Return a resource's loads, newest first."""
        stmt = (
            loads.select()
            .where(loads.c.resource_id == resource_id)
            .order_by(loads.c.started_at.desc(), loads.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        with self._engine.connect() as conn:
            return [_report(row) for row in conn.execute(stmt)]

    def quarantined(self, load_id: str, *, limit: int, offset: int) -> list[Quarantined]:
        """Return a load's quarantined rows in row order."""
        stmt = (
            sa.select(
                quarantine.c.row_no, quarantine.c.field, quarantine.c.reason, quarantine.c.raw
            )
            .where(quarantine.c.load_id == load_id)
            .order_by(quarantine.c.seq)
            .limit(limit)
            .offset(offset)
        )
        with self._engine.connect() as conn:
            return [
                Quarantined(r.row_no, r.field, r.reason, dict(r.raw)) for r in conn.execute(stmt)
            ]
