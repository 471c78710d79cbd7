"""A simulated key-vehicle fleet on the real Nanchang roads: every injected violation is
found (recall 1.0) and nothing else is raised (precision 1.0)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from opencitybrain.apps.fleet.alerts import Alert
from opencitybrain.apps.fleet.engine import FleetEngine
from opencitybrain.apps.fleet.model import Fleet
from opencitybrain.apps.fleet.rules import RuleCode
from opencitybrain.apps.fleet.sim import Scenario, simulate
from opencitybrain.citypack.loader import load_pack
from opencitybrain.citypack.service import CityService
from tests.unit.apps.fleet.support import T0


@pytest.fixture(scope="module")
def city() -> CityService:
    return CityService(load_pack("nanchang"))


def stream(eng: FleetEngine, msgs: list[dict[str, Any]], window_ms: int) -> list[Alert]:
    """Feed messages in time windows, as a live feed would arrive; return alerts opened."""
    opened: list[Alert] = []
    i = 0
    while i < len(msgs):
        j = i
        while j < len(msgs) and msgs[j]["time"] < msgs[i]["time"] + window_ms:
            j += 1
        out = eng.process(msgspec.json.encode(msgs[i:j]), msgs[j - 1]["time"] / 1000)
        assert out.quarantined == []
        opened += out.opened
        i = j
    return opened


@pytest.mark.parametrize("seed", [7, 11])
def test_precision_and_recall_are_one(city: CityService, seed: int) -> None:
    scenario: Scenario = simulate(city.graph, city.projection, per_class=6, start=T0, seed=seed)
    fleet = Fleet([v.vehicle for v in scenario.vehicles])
    eng = FleetEngine(fleet, scenario.rules, city.graph, city.projection)
    opened = stream(eng, scenario.messages(), window_ms=60_000)
    found = {(a.device_id, a.rule) for a in opened}
    truth = scenario.truth()
    assert {r for _, r in truth} == set(RuleCode)  # every rule is exercised
    true_positive = found & truth
    precision = len(true_positive) / len(found)
    recall = len(true_positive) / len(truth)
    assert (precision, recall) == (1.0, 1.0), (found - truth, truth - found)
    # Offline alerts open while the terminal is silent, not after it speaks again.
    for a in opened:
        if a.rule is RuleCode.TERMINAL_OFFLINE:
            sim = next(v for v in scenario.vehicles if v.vehicle.device_id == a.device_id)
            assert sim.silent_until is not None
            assert a.opened_at.timestamp() <= sim.silent_until


def test_the_same_stream_in_bigger_batches_gives_the_same_alerts(city: CityService) -> None:
    scenario = simulate(city.graph, city.projection, per_class=4, start=T0, seed=3)

    def run(window_ms: int) -> set[tuple[str, str, float]]:
        eng = FleetEngine(
            Fleet([v.vehicle for v in scenario.vehicles]), scenario.rules, city.graph,
            city.projection,
        )  # fmt: skip
        alerts = stream(eng, scenario.messages(), window_ms)
        return {(a.device_id, a.rule.value, a.opened_at.timestamp()) for a in alerts
                if a.rule is not RuleCode.TERMINAL_OFFLINE}  # fmt: skip

    assert run(10_000) == run(600_000)
