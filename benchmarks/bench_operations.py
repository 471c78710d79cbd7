"""Operations: sustained intake with dispatch, and a timer scan over 1M open cases.

Intake runs the real service on SQLite (the embedded default) with the demo city's
region lookup: each case is reported, filed and dispatched (three transactions, the
deadlines computed at dispatch). Its baseline is the bare store insert of the same cases.

The timer scan stores 1M open, dispatched cases whose deadlines were computed in one
vectorised call, then raises the alarms due "now" (~0.1 % of them, a minute's worth of
a big city). Its baseline is what a scan costs without precomputed deadlines: calendar
arithmetic for every open case (timed on a sample, scaled to the table).
"""

from __future__ import annotations

import random
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from benchmarks.harness import Harness
from opencitybrain.adapters.migrate import upgrade
from opencitybrain.adapters.sql import make_engine
from opencitybrain.citypack.loader import load_pack
from opencitybrain.geo.lookup import RegionLocator
from opencitybrain.kernel.clock import ManualClock
from opencitybrain.kernel.events import Context
from opencitybrain.kernel.ids import new_id
from opencitybrain.operations.class_store import SqlClassStore
from opencitybrain.operations.classes import demo_classes
from opencitybrain.operations.corpus import frame, phrases
from opencitybrain.operations.intake import NewReport
from opencitybrain.operations.locate import RegionCaseLocator
from opencitybrain.operations.model import (
    Action,
    Alarm,
    Case,
    CaseStatus,
    Location,
    Report,
    Source,
    Step,
)
from opencitybrain.operations.rows import case_row
from opencitybrain.operations.service import OperationsService
from opencitybrain.operations.store import SqlCaseStore
from opencitybrain.operations.suggest import classifier_for
from opencitybrain.operations.tables import cases as cases_table
from opencitybrain.operations.workflow import ActionInput
from opencitybrain.worktime import TimeLimit, WorkCalendar, deadlines, deadlines_many, from_epoch

START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Nanchang
OPERATOR = Context("bench-operator", "command-centre", frozenset({"operator"}))


class _Nowhere:
    """A locator for the scan, which takes no reports."""

    def locate(self, lon: float, lat: float) -> Location | None:
        return None


def _city_points(locator: RegionLocator, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return ``n`` points inside the demo city's street grid (central districts)."""
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(115.80, 115.98, 4 * n), rng.uniform(28.60, 28.74, 4 * n)
    inside = locator.locate(lon, lat).grid != ""
    return lon[inside][:n], lat[inside][:n]


def _service(engine: sa.Engine, locator: RegionLocator, clock: ManualClock) -> OperationsService:
    upgrade(engine)
    ops = OperationsService(
        SqlCaseStore(engine), SqlClassStore(engine), WorkCalendar.china(),
        RegionCaseLocator(locator), clock,
    )  # fmt: skip
    ops.seed_classes()
    return ops


def _intake(h: Harness, folder: Path, locator: RegionLocator) -> None:
    n = 200 if h.quick else 5_000
    lon, lat = _city_points(locator, n, seed=1)
    classes = [c.code for c in demo_classes()]
    rng = np.random.default_rng(2)
    codes = [classes[i] for i in rng.integers(0, len(classes), n)]

    # Baseline: the same number of cases written straight to the store, nothing else.
    engine = make_engine(f"sqlite:///{folder / 'baseline.db'}")
    upgrade(engine)
    store = SqlCaseStore(engine)
    t0 = time.perf_counter()
    for i in range(n):
        loc = Location(float(lon[i]), float(lat[i]), "360102", "", "", "")
        case = Case(new_id(), Source.HOTLINE_12345, codes[i], "t", "d", loc, CaseStatus.REPORTED,
                    False, START, START)  # fmt: skip
        rep = Report(new_id(), case.id, case.source, START, loc.lon, loc.lat, "d")
        store.add_case(case, rep, Step(case.id, 1, "report", None, case.status, "b", None, START))
    base = time.perf_counter() - t0
    engine.dispose()
    h.record("operations intake", "store insert only", n / base, "cases/s",
             higher_is_better=True, note=f"{n:,} cases, one transaction each")  # fmt: skip

    engine = make_engine(f"sqlite:///{folder / 'intake.db'}")
    clock = ManualClock(START)
    ops = _service(engine, locator, clock)
    merged = 0
    t0 = time.perf_counter()
    for i in range(n):
        new = NewReport(
            Source.HOTLINE_12345, codes[i], float(lon[i]), float(lat[i]), "市民来电反映"
        )
        result, _ = ops.intake(OPERATOR, new)
        if result.merged:
            merged += 1
            continue
        ops.act(OPERATOR, result.case.id, Action.FILE, ActionInput())
        ops.act(OPERATOR, result.case.id, Action.DISPATCH, ActionInput())
        clock.advance(1.0)
    spent = time.perf_counter() - t0
    engine.dispose()
    _batched(h, folder, locator, codes)
    h.record("operations intake", "intake + file + dispatch", n / spent, "cases/s",
             higher_is_better=True, baseline="store insert only",
             note=f"locate, duplicate check, 3 transactions; {merged} merged")  # fmt: skip


def _batched(h: Harness, folder: Path, locator: RegionLocator, codes: list[str]) -> None:
    """Batched intake (machine sources): one vectorised lookup and one transaction a batch."""
    n, size = (1_000, 100) if h.quick else (50_000, 1_000)
    lon, lat = _city_points(locator, n, seed=4)
    codes = [codes[i % len(codes)] for i in range(n)]
    engine = make_engine(f"sqlite:///{folder / 'batched.db'}")
    clock = ManualClock(START)
    ops = _service(engine, locator, clock)
    reports = [
        NewReport(
            Source.APP_ALERT,
            codes[i],
            float(lon[i]),
            float(lat[i]),
            "物联感知告警",
            external_id=f"alert-{i}",
        )
        for i in range(n)
    ]
    created = merged = 0
    t0 = time.perf_counter()
    for lo in range(0, n, size):
        result, _ = ops.intake_batch(OPERATOR, reports[lo : lo + size])
        created += len(result.created)
        merged += len(result.merged)
        clock.advance(60.0)
    spent = time.perf_counter() - t0
    engine.dispose()
    h.record("operations intake", "batched intake + dispatch", n / spent, "cases/s",
             higher_is_better=True, baseline="store insert only",
             note=f"{n:,} alerts in batches of {size:,}: {created:,} dispatched, "
                  f"{merged:,} merged")  # fmt: skip


def _classified(h: Harness, folder: Path, locator: RegionLocator) -> None:
    """Batched intake of 12345 texts: classes suggested by the text classifier, then dispatch."""
    n, size = (1_000, 100) if h.quick else (20_000, 1_000)
    lon, lat = _city_points(locator, n, seed=5)
    rng = random.Random(6)
    sample = sorted(phrases().items())
    truth, texts = [], []
    for _ in range(n):
        code, items = rng.choice(sample)
        truth.append(code)
        texts.append(frame(rng.choice(items), rng))
    engine = make_engine(f"sqlite:///{folder / 'classified.db'}")
    clock = ManualClock(START)
    ops = _service(engine, locator, clock)
    t0 = time.perf_counter()
    model = classifier_for(ops.active_classes())  # waits for the fit seeding started
    fit = time.perf_counter() - t0
    right = created = 0
    t0 = time.perf_counter()
    for lo in range(0, n, size):
        found = model.classify_many(texts[lo : lo + size], k=1)
        batch = [
            NewReport(Source.HOTLINE_12345, f.best.code, float(lon[i]), float(lat[i]), texts[i],
                      external_id=f"call-{i}")
            for i, f in zip(range(lo, lo + size), found, strict=True)
        ]  # fmt: skip
        right += sum(
            f.best.code == truth[i] for i, f in zip(range(lo, lo + size), found, strict=True)
        )
        result, _ = ops.intake_batch(OPERATOR, batch)
        created += len(result.created)
        clock.advance(60.0)
    spent = time.perf_counter() - t0
    engine.dispose()
    h.record("operations intake", "batched intake + text classification + dispatch", n / spent,
             "cases/s", higher_is_better=True, baseline="store insert only",
             note=f"{n:,} 12345 texts in batches of {size:,}, class = the classifier's best "
                  f"({right / n:.0%} right on seen phrases); {created:,} dispatched; "
                  f"waited {fit:.1f} s for the classifier's background fit")  # fmt: skip


def _scan(h: Harness, folder: Path) -> None:
    n = 20_000 if h.quick else 1_000_000
    calendar = WorkCalendar.china(provisional_through=2027)  # as the platform wires it
    classes = demo_classes()
    rng = np.random.default_rng(3)
    # Dispatched over the 10 working days before "now"; limits as the class table says.
    now = START + timedelta(days=14)
    starts = np.sort(rng.uniform(START.timestamp(), now.timestamp(), n))
    which = rng.integers(0, len(classes), n)
    t0 = time.perf_counter()
    warn = np.empty(n)
    due = np.empty(n)
    esc = np.empty(n)
    for k, cls in enumerate(classes):
        idx = np.flatnonzero(which == k)
        limit = cls.time_limit
        warn[idx], due[idx], esc[idx] = deadlines_many(
            calendar, starts[idx], limit.value, limit.unit
        )
    vectorised = time.perf_counter() - t0

    sample = 300 if h.quick else 3_000
    t0 = time.perf_counter()
    for i in range(sample):
        limit: TimeLimit = classes[int(which[i])].time_limit
        deadlines(calendar, from_epoch(starts[i]), limit)
    per_case = (time.perf_counter() - t0) / sample
    h.record("operations timers", "per-case calendar math", per_case * n, "s",
             note=f"a scan without stored deadlines: {sample:,} timed, ×{n:,}")  # fmt: skip
    h.record("operations timers", "deadlines, vectorised", vectorised, "s",
             baseline="per-case calendar math", note=f"{n:,} cases in one pass")  # fmt: skip

    engine = make_engine(f"sqlite:///{folder / 'scan.db'}")
    clock = ManualClock(now)
    upgrade(engine)
    loc = Location(115.9, 28.68, "360102", "360102001", "360102001001", "360102001001001")
    template = Case("x", Source.GRID_INSPECTOR, "E0102", "暴露垃圾", "d", loc,
                    CaseStatus.DISPATCHED, False, START, START,
                    department_id="urban-management", clock_running=True)  # fmt: skip
    # Alarms spread so that ~0.1 % are due at "now": a minute's worth for a big city.
    alarm_at = now.timestamp() + rng.uniform(-0.001, 0.999, n) * 30 * 86400
    base = case_row(replace(template, alarm=Alarm.WARNING))
    chunk = 50_000
    t0 = time.perf_counter()
    with engine.begin() as conn:
        for lo in range(0, n, chunk):
            rows = []
            for i in range(lo, min(n, lo + chunk)):
                # The next alarm is a warning at alarm_at; due and escalation follow it.
                at = from_epoch(alarm_at[i])
                rows.append(base | {
                    "id": f"c{i:08d}", "dispatched_at": from_epoch(starts[i]), "warn_at": at,
                    "due_at": max(at, from_epoch(due[i])), "alarm_at": at,
                    "escalate_at": max(at, from_epoch(esc[i])),
                })  # fmt: skip
            conn.execute(cases_table.insert(), rows)
    load = time.perf_counter() - t0
    ops = OperationsService(SqlCaseStore(engine), SqlClassStore(engine), calendar,
                            _Nowhere(), clock)  # fmt: skip
    t0 = time.perf_counter()
    changed, events = ops.scan(now)
    spent = time.perf_counter() - t0
    again = h.time(lambda: ops.scan(now), repeat=3, warmup=0).best  # nothing left due
    engine.dispose()
    h.record("operations timers", "scan(now), stored deadlines", spent, "s",
             baseline="per-case calendar math",
             note=f"{n:,} open cases, {changed:,} alarms raised, {len(events):,} events; "
                  f"loading the table took {load:.0f} s")  # fmt: skip
    h.record("operations timers", "scan(now), nothing due", again, "s",
             baseline="per-case calendar math", note="the common case between alarms")  # fmt: skip


def run(h: Harness) -> None:
    """Measure sustained intake with dispatch, and a timer scan over many open cases."""
    pack = load_pack("nanchang")
    assert pack.divisions is not None
    locator = RegionLocator(pack.counties, pack.divisions)
    with tempfile.TemporaryDirectory(prefix="bench-ops-") as tmp:
        _intake(h, Path(tmp), locator)
        _classified(h, Path(tmp), locator)
        _scan(h, Path(tmp))
