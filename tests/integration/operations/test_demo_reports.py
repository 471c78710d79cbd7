"""The demo city's report stream: rates by hour, classes by frequency, points on streets,
and cases moved along the workflow so every status shows in the cockpit."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from opencitybrain.kernel.clock import ManualClock
from opencitybrain.operations.model import CaseStatus, Source
from opencitybrain.operations.ports import CaseQuery
from opencitybrain.operations.service import OperationsService
from opencitybrain.sim.demo_reports import (
    HOTLINE_PER_HOUR,
    INSPECTOR_PER_HOUR,
    DemoReports,
    StreetPoints,
    poisson,
)
from tests.integration.operations.support import TZ
from tests.support import DemoCity


def _box_streets(n: int = 200) -> StreetPoints:
    """Random segments inside the test city's square (lon 115.8–116.0, lat 28.6–28.8)."""
    rng = np.random.default_rng(7)
    lon0, lat0 = rng.uniform(115.81, 115.99, n), rng.uniform(28.61, 28.79, n)
    lon1, lat1 = lon0 + rng.uniform(-0.005, 0.005, n), lat0 + rng.uniform(-0.005, 0.005, n)
    return StreetPoints(lon0, lat0, lon1, lat1, rng.uniform(20, 500, n))


def test_a_day_of_reports_follows_the_hourly_rates_and_the_class_weights(
    ops: OperationsService,
) -> None:
    sim = DemoReports(ops, _box_streets(), seed=1, scale=5.0)
    day = datetime(2026, 11, 23, 0, 0, tzinfo=TZ)
    calls_by_hour: Counter[int] = Counter()
    patrols_by_hour: Counter[int] = Counter()
    classes: Counter[str] = Counter()
    for minute in range(24 * 60):
        now = day + timedelta(minutes=minute)
        calls, patrols = sim.reports(now, 60)
        calls_by_hour[now.hour] += len(calls)
        patrols_by_hour[now.hour] += len(patrols)
        classes.update(r.class_code for r in calls)
        assert all(r.source is Source.HOTLINE_12345 and r.reporter for r in calls)
        assert all(r.source is Source.GRID_INSPECTOR for r in patrols)
    # Within 4 standard deviations of the expected count, hour by hour.
    for hour in range(24):
        for got, per_hour in (
            (calls_by_hour, HOTLINE_PER_HOUR),
            (patrols_by_hour, INSPECTOR_PER_HOUR),
        ):
            mean = per_hour[hour] * 5.0
            assert abs(got[hour] - mean) <= 4 * max(mean, 1) ** 0.5 + 1, (hour, got[hour], mean)
    assert sum(patrols_by_hour[h] for h in (0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 20, 21, 22, 23)) == 0
    assert calls_by_hour[10] > 5 * calls_by_hour[3]
    top = [code for code, _ in classes.most_common(3)]
    assert "E0102" in top  # rubbish, the hotline's commonest complaint


def test_the_stream_lands_and_the_city_moves_cases_along(
    ops: OperationsService, clock: ManualClock
) -> None:
    sim = DemoReports(ops, _box_streets(), seed=2, scale=3.0, tick_s=300)
    for _ in range(12 * 8):  # eight hours of five-minute ticks from 09:00
        events = sim.tick(clock.now())
        clock.advance(300)
    assert sim.made > 300
    assert sim.refused == 0
    assert sim.steps > 100
    assert events  # the cockpit hears of each tick
    statuses = {
        s: ops.cases(CaseQuery(status=(s,), limit=1))[1]
        for s in (CaseStatus.DISPATCHED, CaseStatus.IN_PROGRESS, CaseStatus.EVALUATED,
                  CaseStatus.CLOSED, CaseStatus.HANDLED)
    }  # fmt: skip
    assert statuses[CaseStatus.IN_PROGRESS] > 0
    assert statuses[CaseStatus.DISPATCHED] > 0
    assert statuses[CaseStatus.EVALUATED] + statuses[CaseStatus.CLOSED] > 0
    kpis = ops.kpis("department")
    assert any(k["evaluated"] for k in kpis)


def test_demo_city_reports_fall_on_its_streets_inside_its_grids(demo_city: DemoCity) -> None:
    ops = demo_city.platform.services.get(OperationsService)
    streets = StreetPoints.of_pack(demo_city.platform.pack)
    sim = DemoReports(ops, streets, seed=3, scale=2.0)
    calls, patrols = sim.reports(datetime(2026, 11, 23, 10, 0, tzinfo=TZ), 3600)
    assert len(calls) > 60
    assert len(patrols) > 30
    located = [ops.intake_desk.locator.locate(r.lon, r.lat) for r in calls + patrols]
    inside = [loc for loc in located if loc is not None]
    assert len(inside) >= 0.95 * len(located)
    assert all(len(loc.grid or "") == 15 for loc in inside)


@given(st.floats(min_value=0.0, max_value=60.0), st.integers(0, 2**32))
@settings(max_examples=30, deadline=None)
def test_poisson_draws_are_counts_near_their_mean(mean: float, seed: int) -> None:
    rng = random.Random(seed)
    draws = [poisson(rng, mean) for _ in range(400)]
    assert min(draws) >= 0
    assert abs(sum(draws) / len(draws) - mean) <= 5 * (mean / 400) ** 0.5 + 0.05
