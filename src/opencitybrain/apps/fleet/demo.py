"""The demo city's supervised fleet and rules, used while no vehicle registry is wired."""

from __future__ import annotations

from opencitybrain.apps.fleet.model import TimeWindow, Vehicle, VehicleClass
from opencitybrain.apps.fleet.rules import RuleConfig, Zone, ZoneRule
from opencitybrain.apps.fleet.sim import simulate, square_ring
from opencitybrain.citypack.service import CityService

__all__ = ["demo_fleet"]

# Nanchang's old-city core around 八一广场 (Bayi Square), WGS-84.
CORE_CENTRE = (115.9040, 28.6780)


def demo_fleet(
    city: CityService, start: float, per_class: int = 6
) -> tuple[list[Vehicle], RuleConfig]:
    """Return the demo vehicles and rules: the simulated fleet plus the core muck ban."""
    scenario = simulate(city.graph, city.projection, per_class=per_class, start=start)
    core = Zone(
        id="core",
        name="老城核心区（渣土车 07:00–21:00 禁行）",
        ring=square_ring(*CORE_CENTRE, 1500.0),
        classes=[VehicleClass.MUCK, VehicleClass.HAZMAT],
        windows=[TimeWindow("07:00", "21:00")],
    )
    zones = [core, *scenario.rules.zones.zones]
    return [s.vehicle for s in scenario.vehicles], RuleConfig(zones=ZoneRule(zones=zones))
