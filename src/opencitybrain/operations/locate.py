"""Find the divisions of a reported point: the city's regions decide what is "in the city"."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import shapely

from opencitybrain.geo.lookup import RegionLocator
from opencitybrain.geo.regions import Region
from opencitybrain.kernel.errors import FieldError, InvalidInput
from opencitybrain.operations.model import Location

EARTH_RADIUS_M = 6_371_008.8


class CaseLocator(Protocol):
    """Tell which county, street, community and grid a point lies in (None: outside)."""

    def locate(self, lon: float, lat: float) -> Location | None:
        """Return the point's location, or None when it is outside the city."""
        ...


class RegionCaseLocator:
    """Locate points with the city's :class:`RegionLocator` (counties down to grids)."""

    def __init__(self, locator: RegionLocator) -> None:
        self._locator = locator

    def locate(self, lon: float, lat: float) -> Location | None:
        """Return the point's location, or None when it is outside every county."""
        return self.locate_many([lon], [lat])[0]

    def locate_many(self, lon: Sequence[float], lat: Sequence[float]) -> list[Location | None]:
        """Locate many points in one vectorised lookup."""
        found = self._locator.locate(lon, lat)
        return [
            Location(x, y, str(c), str(s), str(m), str(g)) if c else None
            for x, y, c, s, m, g in zip(
                lon, lat, found.county, found.street, found.community, found.grid, strict=True
            )
        ]


def locate_many(
    locator: CaseLocator, lon: Sequence[float], lat: Sequence[float]
) -> list[Location | None]:
    """Locate many points, in one call where the locator can."""
    many = getattr(locator, "locate_many", None)
    if many is not None:
        return list(many(lon, lat))
    return [locator.locate(x, y) for x, y in zip(lon, lat, strict=True)]


def check_point(lon: float, lat: float) -> None:
    """Refuse coordinates that are not a WGS-84 point."""
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput(
            "case.bad_location",
            "位置须为有效的 WGS-84 经纬度",
            "location must be a valid WGS-84 longitude and latitude",
            (FieldError("location", "lon −180…180, lat −90…90"),),
        )


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Return the great-circle distance between two points in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def box_around(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    """Return a lon/lat box (lon0, lat0, lon1, lat1) that holds the circle of ``radius_m``."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat


class CountyCaseLocator:
    """Locate points in county polygons only (for city packs without street divisions)."""

    def __init__(self, counties: Sequence[Region]) -> None:
        self._counties = list(counties)
        self._tree = shapely.STRtree([c.geometry for c in self._counties])

    def locate(self, lon: float, lat: float) -> Location | None:
        """Return the county of a point (street, community and grid left empty), or None."""
        hits = self._tree.query(shapely.Point(lon, lat), predicate="intersects")
        if len(hits) == 0:
            return None
        return Location(lon, lat, self._counties[int(min(hits))].code, "", "", "")
