"""Write a batch of intake in one transaction: new cases, reports, steps, merge counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from opencitybrain.kernel.errors import Conflict
from opencitybrain.operations.model import OPEN_STATUSES, Case, Report, Source, Step
from opencitybrain.operations.rows import case_of, case_row, report_row, step_row
from opencitybrain.operations.tables import cases, reports, steps

# Old SQLite builds cap bound parameters per statement; stay well under.
_IN_CHUNK = 500

_BUMP = (
    cases.update()
    .where(cases.c.id == sa.bindparam("b_id"))
    .values(
        report_count=cases.c.report_count + sa.bindparam("b_n", type_=sa.Integer),
        version=cases.c.version + 1,
    )
)


_POINTS = sa.select(cases.c.id, cases.c.lon, cases.c.lat).where(
    cases.c.class_code == sa.bindparam("b_class"),
    cases.c.reported_at >= sa.bindparam("b_since", type_=cases.c.reported_at.type),
    cases.c.status.in_([s.value for s in sorted(OPEN_STATUSES)]),
    cases.c.lon.between(sa.bindparam("b_lon0"), sa.bindparam("b_lon1")),
    cases.c.lat.between(sa.bindparam("b_lat0"), sa.bindparam("b_lat1")),
)


_POINTS_MANY = sa.select(cases.c.class_code, cases.c.id, cases.c.lon, cases.c.lat).where(
    cases.c.class_code.in_(sa.bindparam("b_classes", expanding=True)),
    cases.c.reported_at >= sa.bindparam("b_since", type_=cases.c.reported_at.type),
    cases.c.status.in_([s.value for s in sorted(OPEN_STATUSES)]),
    cases.c.lon.between(sa.bindparam("b_lon0"), sa.bindparam("b_lon1")),
    cases.c.lat.between(sa.bindparam("b_lat0"), sa.bindparam("b_lat1")),
)


def open_points_many(
    engine: sa.Engine, class_codes: Sequence[str], params: dict[str, Any]
) -> dict[str, list[tuple[str, float, float]]]:
    """Return (id, lon, lat) of open cases of several classes in a box since a time, by class."""
    out: dict[str, list[tuple[str, float, float]]] = {c: [] for c in class_codes}
    codes = sorted(set(class_codes))
    with engine.connect() as conn:
        for lo in range(0, len(codes), _IN_CHUNK):
            found = conn.execute(_POINTS_MANY, params | {"b_classes": codes[lo : lo + _IN_CHUNK]})
            for code, cid, lon, lat in found:
                out[code].append((cid, lon, lat))
    return out


def open_points(engine: sa.Engine, params: dict[str, Any]) -> list[tuple[str, float, float]]:
    """Return (id, lon, lat) of open cases of a class in a box since a time."""
    with engine.connect() as conn:
        return [(r.id, r.lon, r.lat) for r in conn.execute(_POINTS, params)]


def get_cases(engine: sa.Engine, case_ids: Sequence[str]) -> dict[str, Case]:
    """Return the cases that exist among ``case_ids``, by id."""
    ids = sorted(set(case_ids))
    out: dict[str, Case] = {}
    with engine.connect() as conn:
        for lo in range(0, len(ids), _IN_CHUNK):
            stmt = cases.select().where(cases.c.id.in_(ids[lo : lo + _IN_CHUNK]))
            out.update({r.id: case_of(r) for r in conn.execute(stmt)})
    return out


def known_external_ids(
    engine: sa.Engine, source: Source, external_ids: Sequence[str]
) -> dict[str, str]:
    """Return which of a source's external ids are stored already, with their case ids."""
    out: dict[str, str] = {}
    with engine.connect() as conn:
        for lo in range(0, len(external_ids), _IN_CHUNK):
            chunk = list(external_ids[lo : lo + _IN_CHUNK])
            stmt = sa.select(reports.c.external_id, reports.c.case_id).where(
                reports.c.source == source.value, reports.c.external_id.in_(chunk)
            )
            out.update({r.external_id: r.case_id for r in conn.execute(stmt)})
    return out


def write_batch(
    engine: sa.Engine,
    new_cases: Sequence[Case],
    new_reports: Sequence[Report],
    new_steps: Sequence[Step],
    merged_into: Sequence[str],
) -> None:
    """Store a batch; steps are numbered here, after each case's stored steps."""
    fresh = {c.id for c in new_cases}
    stored_ids = sorted({s.case_id for s in new_steps} - fresh)
    bumps = Counter(cid for cid in merged_into if cid not in fresh)
    try:
        with engine.begin() as conn:
            seq: dict[str, int] = dict.fromkeys(fresh, 0)
            for lo in range(0, len(stored_ids), _IN_CHUNK):
                chunk = stored_ids[lo : lo + _IN_CHUNK]
                stmt = (
                    sa.select(steps.c.case_id, sa.func.max(steps.c.seq))
                    .where(steps.c.case_id.in_(chunk))
                    .group_by(steps.c.case_id)
                )
                seq.update({cid: int(top or 0) for cid, top in conn.execute(stmt)})
            rows = []
            for step in new_steps:
                seq[step.case_id] = seq.get(step.case_id, 0) + 1
                rows.append(step_row(step, seq[step.case_id]))
            if new_cases:
                conn.execute(cases.insert(), [case_row(c) for c in new_cases])
            if new_reports:
                conn.execute(reports.insert(), [report_row(r) for r in new_reports])
            if rows:
                conn.execute(steps.insert(), rows)
            if bumps:
                conn.execute(_BUMP, [{"b_id": cid, "b_n": n} for cid, n in bumps.items()])
    except sa.exc.IntegrityError as exc:
        raise Conflict(
            "case.duplicate_submission",
            "批量中有报告已被提交过（并发重复提交），整批未写入，请重试",
            "a report in the batch was submitted concurrently; nothing was written, retry",
        ) from exc
