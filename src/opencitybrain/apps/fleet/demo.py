"""The demo city's supervised fleet and rules, used while no vehicle registry is wired.

With the live feed on, the demo also streams positions: the simulated key vehicles (with
their injected violations) and the Wuxi taxis moved onto the city (``replay.py``), fed
into the same pipeline as HTTP batches as the platform clock reaches their times.
"""

from __future__ import annotations

from typing import Any

from opencitybrain.apps.fleet.model import TimeWindow, Vehicle, VehicleClass
from opencitybrain.apps.fleet.replay import load_wuxi, wuxi_messages, wuxi_vehicles
from opencitybrain.apps.fleet.rules import RuleConfig, Zone, ZoneRule
from opencitybrain.apps.fleet.sim import Scenario, simulate, square_ring
from opencitybrain.citypack.service import CityService

__all__ = ["CORE_CENTRE", "DemoFeed", "demo_feed", "demo_fleet"]

# Nanchang's old-city core around 八一广场 (Bayi Square), WGS-84.
CORE_CENTRE = (115.9040, 28.6780)


def _rules(scenario: Scenario) -> RuleConfig:
    core = Zone(
        id="core",
        name="老城核心区（渣土车 07:00–21:00 禁行）",
        ring=square_ring(*CORE_CENTRE, 1500.0),
        classes=[VehicleClass.MUCK, VehicleClass.HAZMAT],
        windows=[TimeWindow("07:00", "21:00")],
    )
    return RuleConfig(zones=ZoneRule(zones=[core, *scenario.rules.zones.zones]))


def demo_fleet(
    city: CityService, start: float, per_class: int = 6
) -> tuple[list[Vehicle], RuleConfig]:
    """Return the demo vehicles and rules: the simulated fleet plus the core muck ban."""
    scenario = simulate(city.graph, city.projection, per_class=per_class, start=start)
    return [s.vehicle for s in scenario.vehicles], _rules(scenario)


class DemoFeed:
    """The demo's vehicles, rules and the position messages to stream, in time order."""

    def __init__(
        self, vehicles: list[Vehicle], rules: RuleConfig, messages: list[dict[str, Any]]
    ) -> None:
        self.vehicles = vehicles
        self.rules = rules
        self.messages = messages


def demo_feed(
    city: CityService, start: float, *, per_class: int = 6, wuxi_rate: float = 1.0
) -> DemoFeed:
    """Return the simulated fleet and the Wuxi taxis, both starting at ``start``."""
    scenario = simulate(city.graph, city.projection, per_class=per_class, start=start)
    wuxi = load_wuxi()
    vehicles = [s.vehicle for s in scenario.vehicles] + wuxi_vehicles(wuxi)
    messages = scenario.messages() + wuxi_messages(wuxi, city.pack.center, start, rate=wuxi_rate)
    messages.sort(key=lambda m: (m["time"], m["device_id"]))
    return DemoFeed(vehicles, _rules(scenario), messages)
