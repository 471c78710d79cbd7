"""A tiny world for engine tests: one straight road east–west through central Nanchang."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from opencitybrain.apps.fleet.engine import FleetEngine
from opencitybrain.apps.fleet.model import Fleet, Permit, Vehicle, VehicleClass
from opencitybrain.apps.fleet.outcome import Outcome
from opencitybrain.apps.fleet.rules import RuleConfig
from opencitybrain.geo.projection import LocalProjection
from opencitybrain.geo.roadgraph_build import graph_from_edges
from opencitybrain.kernel.clock import CHINA_TZ

LAT = 28.68
LON0, LON1 = 115.85, 115.90
# Metres per degree of longitude at LAT (spherical, close enough for test geometry).
M_PER_DEG_LON = 97_700.0
M_PER_DEG_LAT = 110_900.0
ROAD_LIMIT_KMH = 40.0
# 08:00 Beijing time on a Friday: inside the core's 07:00–21:00 muck ban.
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=CHINA_TZ).timestamp()

GRAPH = graph_from_edges(
    [LON0, LON1], [LAT, LAT], [0, 1], [1, 0], [4885.0, 4885.0], ROAD_LIMIT_KMH / 3.6
)
PROJECTION = LocalProjection(115.875, LAT)


def east(metres: float) -> float:
    """Return the longitude ``metres`` east of LON0 along the road."""
    return LON0 + metres / M_PER_DEG_LON


def north(metres: float) -> float:
    """Return the latitude ``metres`` north of the road."""
    return LAT + metres / M_PER_DEG_LAT


def square(lon: float, lat: float, half_m: float) -> list[tuple[float, float]]:
    """Return a square ring centred on a point."""
    dx, dy = half_m / M_PER_DEG_LON, half_m / M_PER_DEG_LAT
    return [(lon - dx, lat - dy), (lon + dx, lat - dy), (lon + dx, lat + dy), (lon - dx, lat + dy)]


SITE = square(east(4000), north(0), 100)
CORRIDOR = [(LON0, LAT), (LON1, LAT)]
VEHICLES = [
    Vehicle("M1", "赣A12345", VehicleClass.MUCK, permits=[Permit("P-M1", sites=[SITE])]),
    Vehicle("H1", "赣AD12345", VehicleClass.HAZMAT, permits=[Permit("P-H1", corridors=[CORRIDOR])]),
    Vehicle("T1", "赣AT1234", VehicleClass.TAXI),
    Vehicle("S1", "赣A5678学", VehicleClass.SCHOOL_BUS),
]


def msg(
    device: str,
    t: float,
    lon: float,
    lat: float = LAT,
    speed: float = 30.0,
    **extra: Any,
) -> dict[str, Any]:
    """Return one position message for a registered device (epoch-millisecond time)."""
    plate = next(v.plate for v in VEHICLES if v.device_id == device)
    return {
        "device_id": device,
        "plate": plate,
        "time": round(t * 1000),
        "lon": lon,
        "lat": lat,
        "speed": speed,
        **extra,
    }


def engine(rules: RuleConfig | None = None) -> FleetEngine:
    """Return an engine over the tiny world with the test vehicles."""
    return FleetEngine(Fleet(list(VEHICLES)), rules or RuleConfig(), GRAPH, PROJECTION)


def feed(eng: FleetEngine, msgs: list[dict[str, Any]], now: float | None = None) -> Outcome:
    """Send messages as one JSON batch; ``now`` defaults to the latest message time."""
    latest = max((m["time"] / 1000 for m in msgs), default=T0)
    return eng.process(msgspec.json.encode(msgs), latest if now is None else now)


def events(outcomes: list[Outcome]) -> list[tuple[str, str, str | None, float]]:
    """Return (open|close, rule, device, epoch) for every alert change, in order."""
    out = []
    for o in outcomes:
        out += [("open", a.rule.value, a.device_id, a.opened_at.timestamp()) for a in o.opened]
        out += [
            ("close", a.rule.value, a.device_id, a.closed_at.timestamp())
            for a in o.closed
            if a.closed_at
        ]
    return out
