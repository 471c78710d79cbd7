"""Find the county, street, community and grid codes of many points at once.

Communities tile the city, so one bulk STRtree query against them answers county,
street and community together (their codes are prefixes of the community code). The
grid needs no geometry at all: a point's cell is arithmetic in the projected frame, and
(cell, community) is looked up in a sorted key table with ``searchsorted``. Keying on
the community as well keeps codes consistent by construction: a grid code found for a
point always starts with that point's community code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from opencitybrain.geo.divisions import Divisions
from opencitybrain.geo.regions import Region
from opencitybrain.kernel.errors import InvalidInput

__all__ = ["Located", "RegionLocator"]

# Raster cells for the first, geometry-free pass (~400 m across for a whole city).
RASTER_CELLS = 60_000


@dataclass(frozen=True, slots=True, eq=False)
class Located:
    """Hold the codes found for each point; empty strings where a point is outside."""

    county: NDArray[np.str_]
    street: NDArray[np.str_]
    community: NDArray[np.str_]
    grid: NDArray[np.str_]

    def __len__(self) -> int:
        return len(self.county)


class _CommunityRaster:
    """A coarse lon/lat raster that answers most points without any geometry test.

    A raster cell that crosses no community boundary lies inside one community (or
    outside them all), so every point in it gets that answer by arithmetic alone; only
    points in cells that a boundary crosses need the exact polygon test.
    """

    OUTSIDE = -1
    EXACT = -2

    def __init__(self, tree: shapely.STRtree, geoms: NDArray[np.object_], cells: int) -> None:
        x0, y0, x1, y1 = shapely.total_bounds(geoms)
        self.res = max(math.sqrt(max((x1 - x0) * (y1 - y0), 1e-12) / cells), 1e-5)
        self.x0, self.y0 = x0, y0
        self.nx = max(math.ceil((x1 - x0) / self.res), 1)
        self.ny = max(math.ceil((y1 - y0) / self.res), 1)
        iy, ix = np.divmod(np.arange(self.nx * self.ny), self.nx)
        boxes = shapely.box(
            x0 + ix * self.res,
            y0 + iy * self.res,
            x0 + (ix + 1) * self.res,
            y0 + (iy + 1) * self.res,
        )
        none = np.iinfo(np.int64).max
        label = np.full(len(boxes), none, dtype=np.int64)
        box_index, geom_index = tree.query(boxes, predicate="intersects")
        np.minimum.at(label, box_index, geom_index)
        label[label == none] = self.OUTSIDE
        borders = shapely.STRtree(shapely.boundary(geoms))
        label[np.unique(borders.query(boxes, predicate="intersects")[0])] = self.EXACT
        self.label = label

    def lookup(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.int64]:
        """Return a community index, OUTSIDE, or EXACT (needs a polygon test) per point."""
        fx = (lon - self.x0) / self.res
        fy = (lat - self.y0) / self.res
        # Comparisons are False for NaN, so NaN points come out OUTSIDE.
        valid = (fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny)
        result = np.full(len(lon), self.OUTSIDE, dtype=np.int64)
        cell = fy[valid].astype(np.int64) * self.nx + fx[valid].astype(np.int64)
        result[valid] = self.label[cell]
        return result


def _with_blank(codes: Sequence[str], width: int) -> NDArray[np.str_]:
    """Return the codes plus a trailing "" so index -1 means "outside"."""
    return np.array([*codes, ""], dtype=f"<U{width}")


class RegionLocator:
    """Locate WGS-84 points in a city's counties, streets, communities and grids."""

    def __init__(self, counties: Sequence[Region], divisions: Divisions) -> None:
        own = {c.code for c in divisions.counties}
        if {c.code for c in counties} != own:
            raise InvalidInput(
                "geo.lookup.mismatch",
                "区县与区划数据不一致",
                "the counties do not match those the divisions were built from",
            )
        self.divisions = divisions
        self._counties = sorted(counties, key=lambda c: c.code)
        self._county_tree = shapely.STRtree([c.geometry for c in self._counties])
        community_geoms = np.array([c.geometry for c in divisions.communities], dtype=object)
        self._community_tree = shapely.STRtree(community_geoms)
        self._raster = _CommunityRaster(self._community_tree, community_geoms, RASTER_CELLS)
        communities = [c.code for c in divisions.communities]
        self._county_code = _with_blank([c.code for c in self._counties], 6)
        self._community_code = _with_blank(communities, 12)
        self._community_street = _with_blank([code[:9] for code in communities], 9)
        self._community_county = _with_blank([code[:6] for code in communities], 6)
        grids = divisions.grids
        self._cell_size = grids.cell_size
        self._col0 = int(grids.col.min(initial=0))
        self._row0 = int(grids.row.min(initial=0))
        self._rows = int(grids.row.max(initial=0)) - self._row0 + 1
        self._cols = int(grids.col.max(initial=0)) - self._col0 + 1
        self._n_communities = len(communities) + 1
        keys = self._key(grids.col.astype(np.int64), grids.row.astype(np.int64), grids.community)
        order = np.argsort(keys)
        self._keys = keys[order]
        self._grid_code = grids.code[order]

    def _key(
        self, col: NDArray[np.int64], row: NDArray[np.int64], community: NDArray[np.integer]
    ) -> NDArray[np.int64]:
        cell = (col - self._col0) * self._rows + (row - self._row0)
        return np.asarray(cell * self._n_communities + community, dtype=np.int64)

    def _first_hit(self, tree: shapely.STRtree, points: NDArray[np.object_]) -> NDArray[np.int64]:
        """Return, per point, the lowest index of a geometry it touches, or -1."""
        point_index, geom_index = tree.query(points, predicate="intersects")
        none = np.iinfo(np.int64).max
        found = np.full(len(points), none, dtype=np.int64)
        # A point on a shared border touches two regions; the lower index wins, always.
        np.minimum.at(found, point_index, geom_index)
        found[found == none] = -1
        return found

    def locate(self, lon: ArrayLike, lat: ArrayLike) -> Located:
        """Return county, street, community and grid codes for each lon/lat point."""
        lon_a = np.asarray(lon, dtype=np.float64).ravel()
        lat_a = np.asarray(lat, dtype=np.float64).ravel()
        if lon_a.shape != lat_a.shape:
            raise InvalidInput(
                "geo.lookup.shape",
                "经度与纬度数组长度不一致",
                "lon and lat must have the same length",
            )
        community = self._raster.lookup(lon_a, lat_a)
        exact = np.flatnonzero(community == _CommunityRaster.EXACT)
        points = shapely.points(lon_a[exact], lat_a[exact])
        community[exact] = self._first_hit(self._community_tree, points)
        county = self._community_county[community]
        # Hairline gaps between generated communities still fall inside a county.
        missing = np.flatnonzero(community[exact] < 0)
        if len(missing):
            county_index = self._first_hit(self._county_tree, points[missing])
            county[exact[missing]] = self._county_code[county_index]
        # zeros() of a string dtype is all "" and, unlike full(), a plain memset.
        grid = np.zeros(len(lon_a), dtype="<U15")
        inside = np.flatnonzero(community >= 0)
        if len(inside) and len(self._keys):
            x, y = self.divisions.projection.to_metres(lon_a[inside], lat_a[inside])
            col = np.floor(x / self._cell_size).astype(np.int64)
            row = np.floor(y / self._cell_size).astype(np.int64)
            in_frame = (
                (col >= self._col0) & (col < self._col0 + self._cols)
                & (row >= self._row0) & (row < self._row0 + self._rows)
            )  # fmt: skip
            keys = self._key(col, row, community[inside])
            slot = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
            hit = in_frame & (self._keys[slot] == keys)
            grid[inside[hit]] = self._grid_code[slot[hit]]
        return Located(
            county=county,
            street=self._community_street[community],
            community=self._community_code[community],
            grid=grid,
        )
