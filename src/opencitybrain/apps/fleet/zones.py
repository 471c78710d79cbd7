"""Geometry the rules test points against, compiled once into projected metres.

No-go zones sit in a grid (:mod:`.grid`) queried for the whole batch from bare
coordinates; candidates are confirmed with ``shapely.contains_xy`` on arrays. Which
class each zone bars, and in which minutes of the day, are lookup tables, so the pairs
are filtered without a Python loop. Permits' corridors and sites are per-vehicle
geometry, indexed by the vehicle's slot.
"""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray

from opencitybrain.apps.fleet.corridors import CorridorGrid
from opencitybrain.apps.fleet.grid import GridIndex
from opencitybrain.apps.fleet.model import CLASSES, Fleet, TimeWindow
from opencitybrain.apps.fleet.rules import Zone
from opencitybrain.geo.projection import LocalProjection
from opencitybrain.kernel.errors import FieldError, InvalidInput

__all__ = ["PermitIndex", "ZoneIndex", "minute_of_day_beijing", "minutes_table"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
Geoms = NDArray[np.object_]
MINUTES = 24 * 60
# Beijing time has had no daylight saving since 1991: a fixed offset is exact.
_BEIJING_OFFSET_S = 8 * 3600


def minute_of_day_beijing(t: F64) -> I64:
    """Return the minute of the day in Beijing time for epoch seconds."""
    return ((t + _BEIJING_OFFSET_S) % 86400 // 60).astype(np.int64)


def minutes_table(windows: list[TimeWindow]) -> NDArray[np.bool_]:
    """Return a 1,440-entry mask of the minutes the windows cover (all day if none)."""
    if not windows:
        return np.ones(MINUTES, dtype=np.bool_)
    mask = np.zeros(MINUTES, dtype=np.bool_)
    for w in windows:
        start, end = w.minutes
        if start <= end:
            mask[start:end] = True
        else:  # wraps past midnight, e.g. 22:00–06:00
            mask[start:] = True
            mask[:end] = True
    return mask


REACH_M = 300_000.0  # how far from the city's centre (in projected metres) a zone may lie


def _polygons(
    rings: list[list[tuple[float, float]]], projection: LocalProjection, ids: list[str]
) -> Geoms:
    # One by one: rings differ in length, which shapely's bulk constructor refuses.
    geoms = np.empty(len(rings), dtype=object)
    geoms[:] = [shapely.Polygon(r) for r in rings]
    out: Geoms = projection.project(geoms)
    if len(out):
        # A city's zones and sites lie within its reach; a ring elsewhere (a pole, the
        # antimeridian) is a mistake, and may project to infinities in the city's local
        # metres: refuse it by name rather than fail in the geometry engine.
        cx, cy = projection.to_metres(projection.center_lon, projection.center_lat)
        offset = shapely.bounds(out) - np.array([cx, cy, cx, cy], dtype=np.float64)
        far = ~(np.isfinite(offset).all(axis=1) & (np.abs(offset) <= REACH_M).all(axis=1))
        if far.any():
            bad = [ids[i] for i in np.flatnonzero(far)]
            raise InvalidInput(
                "fleet.zone_out_of_range",
                f"禁行区域离城市太远，无法投影：{', '.join(bad)}",
                f"zones lie too far from the city to be projected: {', '.join(bad)}",
                tuple(FieldError("zones.ring", f"zone {z}: outside the city") for z in bad),
            )
        out = shapely.make_valid(out)
    return out


class ZoneIndex:
    """Answer "which barred zones is each point inside, for its class, at its minute"."""

    def __init__(self, zones: list[Zone], projection: LocalProjection) -> None:
        self.zones = zones
        self.polygons = _polygons([z.ring for z in zones], projection, [z.id for z in zones])
        b = shapely.bounds(self.polygons) if len(zones) else np.zeros((0, 4))
        self.grid = GridIndex(b[:, 0], b[:, 1], b[:, 2], b[:, 3], cell_m=100.0)
        self.bars = np.zeros((len(zones), len(CLASSES)), dtype=np.bool_)
        order = {c: i for i, c in enumerate(CLASSES)}
        for i, z in enumerate(zones):
            self.bars[i, [order[c] for c in z.classes]] = True
        self.when = np.stack([minutes_table(z.windows) for z in zones]) if zones else None

    def violations(self, x: F64, y: F64, cls: I64, minute: I64) -> tuple[I64, I64]:
        """Return (point, zone) pairs where a point is inside a zone barring it then."""
        if not self.zones or len(x) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        assert self.when is not None
        p, z = self.grid.candidates(x, y)
        # Cheap table lookups first; the exact polygon test only for pairs that matter.
        keep = self.bars[z, cls[p]] & self.when[z, minute[p]]
        p, z = p[keep], z[keep]
        inside = shapely.contains_xy(self.polygons[z], x[p], y[p])
        return p[inside], z[inside]


class PermitIndex:
    """Hold each vehicle's approved corridors (one geometry per slot) and sites."""

    def __init__(self, fleet: Fleet, projection: LocalProjection) -> None:
        n = len(fleet)
        corridors: list[object] = [None] * n
        site_rings: list[list[tuple[float, float]]] = []
        site_slot: list[int] = []
        site_ids: list[str] = []
        for slot, vehicle in enumerate(fleet.vehicles):
            lines = [c for p in vehicle.permits for c in p.corridors if len(c) >= 2]
            if lines:
                corridors[slot] = shapely.MultiLineString(lines)
            for permit in vehicle.permits:
                site_rings += permit.sites
                site_slot += [slot] * len(permit.sites)
                site_ids += [f"{vehicle.plate} site"] * len(permit.sites)
        geoms = np.empty(n, dtype=object)
        geoms[:] = corridors
        has = np.fromiter((c is not None for c in corridors), np.bool_, n)
        if has.any():
            geoms[has] = projection.project(geoms[has])
        self.corridor = geoms
        self.has_corridor = has
        self.sites = _polygons(site_rings, projection, site_ids)
        self.site_slot = np.asarray(site_slot, dtype=np.int64)
        self.site_tree = shapely.STRtree(self.sites)
        self._grids: dict[float, CorridorGrid] = {}

    def corridor_grid(self, margin_m: float) -> CorridorGrid:
        """Return the corridors' segments on a grid whose cells list those within a margin."""
        grid = self._grids.get(margin_m)
        if grid is None:
            grid = self._grids[margin_m] = CorridorGrid(self.corridor, margin_m)
        return grid

    def corridor_distance(self, points: Geoms, slots: I64) -> F64:
        """Return each point's distance to its own vehicle's corridors (nan: none)."""
        out = np.full(len(points), np.nan)
        has = self.has_corridor[slots]
        if has.any():
            out[has] = shapely.distance(points[has], self.corridor[slots[has]])
        return out

    def in_own_site(self, points: Geoms, slots: I64) -> NDArray[np.bool_]:
        """Tell for each point whether it lies inside one of its own vehicle's sites."""
        out = np.zeros(len(points), dtype=np.bool_)
        if len(self.site_slot) == 0 or len(points) == 0:
            return out
        p, s = self.site_tree.query(points, predicate="within")
        own = self.site_slot[s] == slots[p]
        out[p[own]] = True
        return out
