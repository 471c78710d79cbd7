"""The Wuxi taxi replay: real trajectories moved onto Nanchang, through the pipeline."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import msgspec
import numpy as np
import pytest

from opencitybrain.apps.fleet.demo import demo_feed
from opencitybrain.apps.fleet.engine import FleetEngine
from opencitybrain.apps.fleet.feed import feed_forever
from opencitybrain.apps.fleet.model import Fleet
from opencitybrain.apps.fleet.replay import load_wuxi, move_onto, wuxi_messages, wuxi_vehicles
from opencitybrain.apps.fleet.rules import RuleCode, RuleConfig
from opencitybrain.apps.fleet.service import FleetService
from opencitybrain.citypack.loader import load_pack
from opencitybrain.citypack.service import CityService
from opencitybrain.geo.projection import LocalProjection
from opencitybrain.kernel.clock import ManualClock
from tests.unit.apps.fleet.support import T0


@pytest.fixture(scope="module")
def city() -> CityService:
    return CityService(load_pack("nanchang"))


def test_the_set_is_moved_onto_the_centre_keeping_distances(city: CityService) -> None:
    tr = load_wuxi()
    assert len(tr.ids) > 400
    assert len(tr) > 17_000
    centre = city.pack.center
    lon, lat = move_onto(tr, centre)
    assert abs(lon.mean() - centre[0]) < 1e-3
    assert abs(lat.mean() - centre[1]) < 1e-3
    src, dst = LocalProjection(*tr.centroid()), LocalProjection(*centre)
    before = np.hypot(*np.diff(np.stack(src.to_metres(tr.lon, tr.lat)), axis=1))
    after = np.hypot(*np.diff(np.stack(dst.to_metres(lon, lat)), axis=1))
    assert np.allclose(before, after, rtol=1e-3, atol=0.5)  # shapes and speeds are kept


def test_every_replayed_point_is_accepted_and_gaps_are_breaks_not_offline(
    city: CityService,
) -> None:
    tr = load_wuxi()
    msgs = wuxi_messages(tr, city.pack.center, T0, rate=1.0)
    assert len(msgs) == len(tr)
    eng = FleetEngine(Fleet(wuxi_vehicles(tr)), RuleConfig(), city.graph, city.projection)
    opened, accepted = [], 0
    for i in range(0, len(msgs), 2000):
        chunk = msgs[i : i + 2000]
        out = eng.process(msgspec.json.encode(chunk), chunk[-1]["time"] / 1000)
        assert out.quarantined == []
        accepted += out.accepted
        opened += out.opened
    assert accepted == len(msgs)
    assert all(a.vclass == "taxi" for a in opened)
    assert not [a for a in opened if a.rule is RuleCode.TERMINAL_OFFLINE]


async def test_the_demo_feed_streams_the_fleet_as_the_clock_reaches_it(city: CityService) -> None:
    feed = demo_feed(city, T0, per_class=2)
    clock = ManualClock(datetime.fromtimestamp(T0, UTC))
    eng = FleetEngine(Fleet(feed.vehicles), feed.rules, city.graph, city.projection)
    svc = FleetService(eng, clock)
    task = asyncio.create_task(feed_forever(svc, feed.messages, every_s=60.0))
    try:
        for _ in range(30):  # half an hour of clock time, a minute a step
            await asyncio.sleep(0)
            clock.advance(60.0)
            for _ in range(20):
                await asyncio.sleep(0.01)
        due = sum(1 for m in feed.messages if m["time"] <= (T0 + 1740) * 1000)
        assert svc.counts["received"] >= due > 0
        assert svc.counts["quarantined"] == 0
        classes = {a.vclass for a in svc.alerts("all")}
        assert "muck" in classes  # the simulated muck truck crossed its no-go zone
    finally:
        task.cancel()
