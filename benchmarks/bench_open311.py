"""Open311 ``GET requests`` with a million cases stored, through a running server.

The database is filled directly (1M cases over the past year, each with its report and
intake step; one case in ten came through Open311, the rest by hotline and inspectors),
then the demo city is served from it in its own process and a client times the
GeoReport reads: the default listing (the last 90 days, newest 1,000), by service, by
status, a week's range, and ten ids. Latencies are sequential requests, so p95 is what
one caller sees, not a load test.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np

from benchmarks.harness import Harness
from benchmarks.servers import p50_p95_ms, serve_demo
from opencitybrain.adapters.migrate import upgrade
from opencitybrain.adapters.sql import make_engine
from opencitybrain.operations.classes import demo_classes
from opencitybrain.operations.model import Case, CaseStatus, Location, Report, Source, Step
from opencitybrain.operations.rows import case_row, report_row, step_row
from opencitybrain.operations.tables import cases, reports, steps

BASE = "/open311/v2"
STATUSES = [CaseStatus.EVALUATED, CaseStatus.CLOSED, CaseStatus.IN_PROGRESS,
            CaseStatus.DISPATCHED, CaseStatus.HANDLED, CaseStatus.REPORTED]  # fmt: skip
STATUS_WEIGHTS = [0.45, 0.2, 0.15, 0.1, 0.05, 0.05]


def _fill(db: Path, n: int, now: datetime) -> tuple[float, list[str]]:
    """Store ``n`` cases with reports and steps; return seconds spent and some Open311 ids."""
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    rng = np.random.default_rng(11)
    codes = [c.code for c in demo_classes()]
    which = rng.integers(0, len(codes), n)
    status = rng.choice(len(STATUSES), n, p=STATUS_WEIGHTS)
    ages = rng.uniform(0, 365 * 86400, n)
    lon, lat = rng.uniform(115.85, 115.95, n), rng.uniform(28.64, 28.72, n)
    loc = Location(115.9, 28.68, "360102", "360102001", "360102001001", "360102001001001")
    open311_ids: list[str] = []
    t0 = time.perf_counter()
    chunk = 20_000
    with engine.begin() as conn:
        for lo in range(0, n, chunk):
            crows, rrows, srows = [], [], []
            for i in range(lo, min(n, lo + chunk)):
                at = now - timedelta(seconds=float(ages[i]))
                src = Source.OPEN311 if i % 10 == 0 else (
                    Source.HOTLINE_12345 if i % 3 else Source.GRID_INSPECTOR)  # fmt: skip
                cid, rid = f"c{i:09d}", f"r{i:09d}"
                where = Location(float(lon[i]), float(lat[i]), loc.county, loc.street,
                                 loc.community, loc.grid, "某路某号")  # fmt: skip
                case = Case(cid, src, codes[which[i]], "问题", "市民反映的问题描述", where,
                            STATUSES[status[i]], False, at, at,
                            department_id="urban-management")  # fmt: skip
                crows.append(case_row(case))
                rrows.append(report_row(Report(rid, cid, src, at, where.lon, where.lat, "描述")))
                data = {"report_id": rid, "source": src.value}
                step = Step(cid, 1, "report", None, CaseStatus.REPORTED, "bench", None, at, "描述",
                            data=data)  # fmt: skip
                srows.append(step_row(step, 1))
                if src is Source.OPEN311 and len(open311_ids) < 2000 and ages[i] < 30 * 86400:
                    open311_ids.append(rid)
            conn.execute(cases.insert(), crows)
            conn.execute(reports.insert(), rrows)
            conn.execute(steps.insert(), srows)
    spent = time.perf_counter() - t0
    engine.dispose()
    return spent, open311_ids


def _times(client: httpx.Client, path: str, params: dict[str, str], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        res = client.get(path, params=params)
        samples.append(time.perf_counter() - t0)
        assert res.status_code == 200, res.text[:300]
    return samples


def run(h: Harness) -> None:
    """Time GeoReport reads with 1M cases stored (20k with --quick)."""
    n = 20_000 if h.quick else 1_000_000
    repeat = 10 if h.quick else 100
    now = datetime.now(UTC)  # the served demo city's simulated clock starts at real now
    with tempfile.TemporaryDirectory(prefix="bench-open311-") as tmp:
        folder = Path(tmp)
        load, ids = _fill(folder / "citybrain.db", n, now)
        base, _, proc = serve_demo(folder, None)
        try:
            with httpx.Client(base_url=base, timeout=60) as client:
                week_end = (now - timedelta(days=30)).isoformat()
                week_start = (now - timedelta(days=37)).isoformat()
                queries = {
                    "default (last 90 days, newest 1,000)": {},
                    "service_code=E0102": {"service_code": "E0102"},
                    "status=open": {"status": "open"},
                    "a week's range": {"start_date": week_start, "end_date": week_end},
                    "10 ids": {"service_request_id": ",".join(ids[:10])},
                }
                for name, params in queries.items():
                    samples = _times(client, f"{BASE}/requests.json", params, repeat)
                    count = len(client.get(f"{BASE}/requests.json", params=params).json())
                    p50, p95 = p50_p95_ms(samples)
                    h.record("open311 GET requests", f"{name}: p95", p95, "ms",
                             note=f"p50 {p50:.0f} ms, {count:,} requests returned; "
                                  f"{n:,} cases stored (loaded in {load:.0f} s)")  # fmt: skip
        finally:
            proc.terminate()
            proc.wait(timeout=30)
