"""Snapshots restore by device id; rule edits keep state and drop alerts of removed zones."""

from __future__ import annotations

import msgspec.structs

from opencitybrain.apps.fleet.engine import FleetEngine
from opencitybrain.apps.fleet.model import Fleet, VehicleClass
from opencitybrain.apps.fleet.rules import RuleCode, RuleConfig, Zone, ZoneRule
from tests.unit.apps.fleet.support import (
    GRAPH,
    PROJECTION,
    T0,
    VEHICLES,
    east,
    engine,
    feed,
    msg,
    north,
    square,
)

ZONES = RuleConfig(
    zones=ZoneRule(
        zones=[
            Zone("a", "A", square(east(500), north(0), 100), [VehicleClass.MUCK]),
            Zone("b", "B", square(east(500), north(0), 150), [VehicleClass.MUCK]),
        ]
    )
)


def test_a_snapshot_restores_onto_a_fleet_in_another_order() -> None:
    eng = engine(ZONES)
    feed(eng, [msg("M1", T0, east(500)), msg("T1", T0, east(100), speed=120)])
    snap = eng.snapshot()
    other = FleetEngine(Fleet(list(reversed(VEHICLES))), ZONES, GRAPH, PROJECTION)
    other.restore(snap)
    slot = other.fleet.slot["M1"]
    assert other.state.f("last_t")[slot] == T0
    assert sorted((a.device_id, a.rule.value, a.subject) for a in other.state.open_alerts()) == [
        ("M1", "no_go_zone", "a"),
        ("M1", "no_go_zone", "b"),
        ("T1", "speeding", None),
    ]
    # The restored engine closes what the first one opened, not something new.
    out = feed(other, [msg("M1", T0 + 10, east(2000)), msg("T1", T0 + 10, east(200), speed=30)])
    assert out.opened == []
    assert len(out.closed) == 3


def test_editing_rules_keeps_state_and_drops_alerts_of_removed_zones() -> None:
    eng = engine(ZONES)
    feed(eng, [msg("M1", T0, east(500))])
    only_b = msgspec.structs.replace(ZONES, zones=ZoneRule(zones=[ZONES.zones.zones[1]]))
    eng.set_rules(only_b)
    assert [a.subject for a in eng.state.open[RuleCode.NO_GO_ZONE].values()] == ["b"]
    assert eng.state.f("last_t")[eng.fleet.slot["M1"]] == T0
    out = feed(eng, [msg("M1", T0 + 10, east(500))])  # still inside b: nothing new
    assert out.opened == []


def test_zones_and_corridors_of_different_lengths_compile() -> None:
    pentagon = [(east(0), north(-50)), (east(200), north(-50)), (east(200), north(50)),
                (east(100), north(80)), (east(0), north(50))]  # fmt: skip
    rules = msgspec.structs.replace(
        ZONES,
        zones=ZoneRule(zones=[*ZONES.zones.zones, Zone("p", "P", pentagon, [VehicleClass.MUCK])]),
    )
    eng = engine(rules)
    out = feed(eng, [msg("M1", T0, east(100))])
    assert [a.subject for a in out.opened] == ["p"]
