"""A simulated key-vehicle fleet driving real routes, with violations injected on purpose.

Used by the demo (vehicles to watch when no registry is wired), by the tests (ground truth
for precision and recall) and by the benchmark. Deterministic for a given seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from opencitybrain.apps.fleet.model import Permit, TimeWindow, Vehicle, VehicleClass
from opencitybrain.apps.fleet.rules import CLASS_LIMITS_KMH, RuleCode, RuleConfig, Zone, ZoneRule
from opencitybrain.geo.projection import LocalProjection
from opencitybrain.geo.roadgraph import RoadGraph
from opencitybrain.geo.routing import Router
from opencitybrain.kernel.errors import NotFound

__all__ = ["Scenario", "SimVehicle", "plate_for", "simulate", "square_ring"]

F64 = NDArray[np.float64]
DT = 10.0  # seconds between position reports
_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def plate_for(i: int, vclass: VehicleClass) -> str:
    """Return a well-formed Nanchang (赣A) plate number for vehicle number i."""
    if vclass is VehicleClass.SCHOOL_BUS:
        return f"赣A{i % 10000:04d}学"
    return f"赣A{_LETTERS[i // 10000 % len(_LETTERS)]}{i % 10000:04d}"


def square_ring(lon: float, lat: float, half_m: float) -> list[tuple[float, float]]:
    """Return a square ring of half-side ``half_m`` around a point (lon/lat)."""
    dlon = half_m / (111_320.0 * math.cos(math.radians(lat)))
    dlat = half_m / 110_574.0
    return [
        (lon - dlon, lat - dlat),
        (lon + dlon, lat - dlat),
        (lon + dlon, lat + dlat),
        (lon - dlon, lat + dlat),
    ]


@dataclass
class SimVehicle:
    """Hold one simulated vehicle, its messages and the violations injected into them."""

    vehicle: Vehicle
    messages: list[dict[str, Any]] = field(default_factory=list)
    injected: set[RuleCode] = field(default_factory=set)
    silent_until: float | None = None  # for offline: a tick at this time must find it


@dataclass
class Scenario:
    """Hold a simulated fleet, the rules it is judged by, and the injected ground truth."""

    vehicles: list[SimVehicle]
    rules: RuleConfig

    def messages(self) -> list[dict[str, Any]]:
        """Return every message, in time order."""
        out = [m for v in self.vehicles for m in v.messages]
        out.sort(key=lambda m: (m["time"], m["device_id"]))
        return out

    def truth(self) -> set[tuple[str, RuleCode]]:
        """Return the (device, rule) pairs that must raise an alert.

        Zones are placed on guilty vehicles' routes, but another vehicle's random route may
        cross one too: no-go truth is therefore taken from the geometry, for every vehicle.
        """
        out = {(v.vehicle.device_id, r) for v in self.vehicles for r in v.injected}
        for v in self.vehicles:
            if _enters_zone(v, self.rules.zones.zones):
                out.add((v.vehicle.device_id, RuleCode.NO_GO_ZONE))
        return out


def _enters_zone(sim: SimVehicle, zones: list[Zone]) -> bool:
    """Tell whether a vehicle reports from inside a zone that bars its class (all-day test)."""
    barred = [z for z in zones if sim.vehicle.vclass in z.classes]
    if not barred or not sim.messages:
        return False
    lon = np.array([m["lon"] for m in sim.messages])
    lat = np.array([m["lat"] for m in sim.messages])
    area = shapely.union_all(shapely.polygons([np.asarray(z.ring) for z in barred]))
    return bool(shapely.contains_xy(area, lon, lat).any())


class _Driver:
    """Drive along routes on the graph, emitting a position every DT seconds."""

    def __init__(self, graph: RoadGraph, projection: LocalProjection, seed: int) -> None:
        self.graph = graph
        self.router = Router(graph)
        self.proj = projection
        self.rng = np.random.default_rng(seed)
        limit = graph.edge_speed_mps * 3.6
        # The lowest limit of any edge at either end: a vehicle near an intersection may
        # match a crossing road, so a law-abiding one keeps under all of them.
        lowest = np.full(graph.n_nodes, np.inf)
        np.minimum.at(lowest, graph.edge_from, limit)
        np.minimum.at(lowest, graph.edge_to, limit)
        self.safe_kmh = np.minimum(lowest[graph.edge_from], lowest[graph.edge_to]) * 0.8

    def route(self, min_m: float) -> tuple[F64, F64, F64]:
        """Return a random route's vertices (x, y metres) and each leg's safe speed (km/h)."""
        while True:
            src, dst = self.rng.integers(0, self.graph.n_nodes, 2)
            try:
                r = self.router.fastest_path(int(src), int(dst))
            except NotFound:  # unreachable pair: draw again
                continue
            if r.metres >= min_m and len(r.edges) >= 3:
                x, y = self.proj.to_metres(r.line[:, 0], r.line[:, 1])
                return x, y, self.safe_kmh[r.edges]

    def drive(self, x: F64, y: F64, kmh: F64, seconds: float) -> tuple[F64, F64, F64]:
        """Return positions (x, y) and speeds every DT s, back and forth along the route."""
        seg = np.hypot(np.diff(x), np.diff(y))
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        n = int(seconds // DT) + 1
        s, forward = 0.0, True
        xs, ys, vs = np.empty(n), np.empty(n), np.empty(n)
        for i in range(n):
            k = int(np.clip(np.searchsorted(cum, s, side="right") - 1, 0, len(seg) - 1))
            u = (s - cum[k]) / seg[k] if seg[k] > 0 else 0.0
            xs[i], ys[i] = x[k] + u * (x[k + 1] - x[k]), y[k] + u * (y[k + 1] - y[k])
            vs[i] = kmh[k]
            s += (vs[i] / 3.6 * DT) * (1 if forward else -1)
            if s >= cum[-1] or s <= 0:  # turn round at either end
                forward = not forward
                s = float(np.clip(s, 0.0, cum[-1]))
        return xs, ys, vs


def simulate(
    graph: RoadGraph,
    projection: LocalProjection,
    *,
    per_class: int = 6,
    start: float,
    seed: int = 7,
) -> Scenario:
    """Simulate ``per_class`` vehicles of each class for about an hour (fatigue: 4.5 h).

    Every other vehicle gets its class's violation injected; the rest drive clean.
    ``start`` is epoch seconds (choose a time inside the 07:00–21:00 core ban).
    """
    d = _Driver(graph, projection, seed)
    zones: list[Zone] = []
    sims: list[SimVehicle] = []
    i = 0
    for vclass in VehicleClass:
        for j in range(per_class):
            i += 1
            guilty = j % 2 == 0
            sims.append(_one(d, i, vclass, guilty, start, zones))
    return Scenario(sims, RuleConfig(zones=ZoneRule(zones=zones)))


def _one(
    d: _Driver, i: int, vclass: VehicleClass, guilty: bool, start: float, zones: list[Zone]
) -> SimVehicle:
    x, y, kmh = d.route(3000.0)
    lon, lat = d.proj.to_lonlat(x, y)
    line = list(zip(lon.tolist(), lat.tolist(), strict=True))
    device = f"SIM{i:04d}"
    permits: list[Permit] = []
    if vclass is VehicleClass.HAZMAT:
        permits = [Permit(f"HZ-{i}", corridors=[line], windows=[TimeWindow("00:00", "24:00")])]
    if vclass is VehicleClass.MUCK:
        permits = [Permit(f"MK-{i}", sites=[square_ring(float(lon[-1]), float(lat[-1]), 150)])]
    seconds = 4.5 * 3600 if (vclass is VehicleClass.SCHOOL_BUS and guilty) else 3600.0
    kmh = np.minimum(kmh, CLASS_LIMITS_KMH[vclass] * 0.8)
    xs, ys, vs = d.drive(x, y, kmh, seconds)
    t = start + np.arange(len(xs)) * DT
    sim = SimVehicle(Vehicle(device, plate_for(i, vclass), vclass, permits=permits))
    keep = np.ones(len(xs), dtype=np.bool_)
    mid = len(xs) // 2
    if guilty:
        if vclass is VehicleClass.TAXI:  # 12 reports far over the road's limit
            vs[mid : mid + 12] = np.maximum(vs[mid : mid + 12] / 0.8 + 30.0, 60.0)
            sim.injected.add(RuleCode.SPEEDING)
        elif vclass is VehicleClass.HAZMAT:  # leaves its corridor for 2 minutes
            _detour(xs, ys, x, y, mid)
            sim.injected.add(RuleCode.CORRIDOR_DEVIATION)
        elif vclass is VehicleClass.MUCK:  # a 25-minute stop on the way: suspected dumping
            stop = slice(mid, mid + 150)
            xs[stop], ys[stop], vs[stop] = xs[mid], ys[mid], 0.0
            sim.injected.add(RuleCode.UNAUTHORISED_DWELL)
            # and crosses a no-go zone placed on its route a quarter of the way along
            q = len(xs) // 4
            zlon, zlat = d.proj.to_lonlat(xs[q : q + 1], ys[q : q + 1])
            zones.append(
                Zone(
                    id=f"core-{i}",
                    name=f"核心区{i}",
                    ring=square_ring(float(zlon[0]), float(zlat[0]), 120),
                    classes=[VehicleClass.MUCK],
                    windows=[TimeWindow("07:00", "21:00")],
                )
            )
            sim.injected.add(RuleCode.NO_GO_ZONE)
        elif vclass is VehicleClass.SCHOOL_BUS:  # 4.5 hours without a rest
            sim.injected.add(RuleCode.FATIGUE)
        elif vclass is VehicleClass.BUS:  # the terminal goes silent for 15 minutes
            keep[mid : mid + 90] = False
            sim.silent_until = float(t[mid + 89])
            sim.injected.add(RuleCode.TERMINAL_OFFLINE)
    plon, plat = d.proj.to_lonlat(xs, ys)
    last = int(np.flatnonzero(keep)[-1])
    for k in np.flatnonzero(keep):
        sim.messages.append(
            {
                "device_id": device,
                "plate": sim.vehicle.plate,
                "time": round(float(t[k]) * 1000),
                "lon": round(float(plon[k]), 7),
                "lat": round(float(plat[k]), 7),
                "speed": round(float(vs[k]), 1),
                "heading": 0.0,
                # The trip's last report goes off duty, so the silence after it is no alert.
                "status": "off_duty" if k == last else "on_duty",
            }
        )
    return sim


def _detour(xs: F64, ys: F64, x: F64, y: F64, at: int) -> None:
    """Move 12 reports from ``at`` 600 m sideways, where that takes them 400 m off route."""
    route = shapely.LineString(np.column_stack([x, y]))
    for start in range(at, len(xs) - 12, 6):
        k = slice(start, start + 12)
        dx, dy = xs[start + 1] - xs[start], ys[start + 1] - ys[start]
        norm = np.hypot(dx, dy) or 1.0
        for side in (1.0, -1.0):
            nx = xs[k] - side * dy / norm * 600.0
            ny = ys[k] + side * dx / norm * 600.0
            if shapely.distance(shapely.points(nx, ny), route).min() > 400.0:
                xs[k], ys[k] = nx, ny
                return
    raise RuntimeError("no place to detour from the corridor")
