"""A city's sub-county divisions: synthetic streets and communities, and the unit grid.

Real street (街道/乡镇) and community (社区/村) boundaries are not open data, so they are
generated: each county is split into streets and each street into communities, as
Voronoi cells of weighted k-means seeds clipped to the parent, so the parts tile their
parent exactly. Parts are small where there are roads (built-up land) and large in the
countryside. Names say plainly that they are synthetic (``东湖区第03街道``). The GB/T 30428
grid covers built-up land with ~100 m cells, each inside exactly one community.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from opencitybrain.geo.geojson import feature_collection, geometry_dict, region_feature
from opencitybrain.geo.gridcells import (
    CELL_SIZE_M,
    MAX_GRIDS_PER_COMMUNITY,
    GridTable,
    RoadProximity,
    assign_cells,
    built_up_cells,
    grid_table,
)
from opencitybrain.geo.partition import Samples, split_region
from opencitybrain.geo.projection import LocalProjection
from opencitybrain.geo.regions import Level, Polygonal, Region, city_outline, polygonal
from opencitybrain.kernel.errors import InvalidInput

__all__ = ["Divisions", "build_divisions"]

# Target sizes in km², where built up (near roads) and in the countryside. Real Nanchang
# has ~120 streets and towns over 7,195 km²; urban communities cover about 1-3 km².
URBAN_STREET_KM2 = 6.0
RURAL_STREET_KM2 = 90.0
URBAN_COMMUNITY_KM2 = 1.5
RURAL_COMMUNITY_KM2 = 12.0
# Countryside is sampled coarsely; built-up land is sampled by its grid cell centres.
RURAL_SPACING_M = 500.0
# An over-full community is re-split into parts of about this many grids.
REFILL_GRIDS = 600


class Divisions:
    """Hold a city's counties, generated streets and communities, and its grid table."""

    __slots__ = (
        "_communities_m",
        "cache_key",
        "communities",
        "counties",
        "grids",
        "projection",
        "streets",
    )

    def __init__(
        self,
        counties: Sequence[Region],
        streets: Sequence[Region],
        communities: Sequence[Region],
        grids: GridTable,
        projection: LocalProjection,
        cache_key: str = "",
    ) -> None:
        self.counties = tuple(counties)
        self.streets = tuple(streets)
        self.communities = tuple(communities)
        self.grids = grids
        self.projection = projection
        self.cache_key = cache_key
        self._communities_m: NDArray[np.object_] | None = None

    def regions(self, level: Level) -> tuple[Region, ...]:
        """Return the regions of one level, in code order."""
        if level == "county":
            return self.counties
        if level == "street":
            return self.streets
        if level == "community":
            return self.communities
        raise InvalidInput(
            "geo.divisions.bad_level", f"未知的区划层级：{level}", f"unknown level: {level}"
        )

    def counts(self) -> dict[str, int]:
        """Return how many counties, streets, communities and grids there are."""
        return {
            "counties": len(self.counties),
            "streets": len(self.streets),
            "communities": len(self.communities),
            "grids": len(self.grids),
        }

    def communities_m(self) -> NDArray[np.object_]:
        """Return the community geometries in the local projection (metres), cached."""
        if self._communities_m is None:
            geoms = np.array([c.geometry for c in self.communities], dtype=object)
            self._communities_m = self.projection.project(geoms)
        return self._communities_m

    def grid_polygons(self, indices: NDArray[np.int64] | Sequence[int]) -> NDArray[np.object_]:
        """Return the lon/lat polygons of the grids at the given table rows."""
        rows = np.asarray(indices, dtype=np.int64)
        return self.grids.polygons(rows, self.communities_m(), self.projection)

    def to_geojson(self, level: Level) -> dict[str, Any]:
        """Return the regions of one level as a GeoJSON FeatureCollection dict."""
        return feature_collection(region_feature(r) for r in self.regions(level))

    def grids_geojson(
        self, bbox: tuple[float, float, float, float], max_features: int = 5000
    ) -> dict[str, Any]:
        """Return grids whose inside point falls in a lon/lat bbox, at most max_features."""
        min_lon, min_lat, max_lon, max_lat = bbox
        if not (min_lon <= max_lon and min_lat <= max_lat) or max_features < 0:
            raise InvalidInput(
                "geo.divisions.bad_bbox",
                "范围无效：需要 min_lon<=max_lon、min_lat<=max_lat",
                "invalid bbox: need min_lon<=max_lon and min_lat<=max_lat",
            )
        table = self.grids
        hits = np.flatnonzero(
            (table.lon >= min_lon) & (table.lon <= max_lon)
            & (table.lat >= min_lat) & (table.lat <= max_lat)
        )  # fmt: skip
        shown = hits[:max_features]
        polygons = self.grid_polygons(shown)
        features = [
            {
                "type": "Feature",
                "id": str(table.code[i]),
                "properties": {"code": str(table.code[i]), "level": "grid"},
                "geometry": geometry_dict(polygon),
            }
            for i, polygon in zip(shown.tolist(), polygons, strict=True)
        ]
        return feature_collection(features, total=len(hits), truncated=len(hits) > len(shown))


def _check_counties(counties: Sequence[Region]) -> None:
    codes = [c.code for c in counties]
    if not counties:
        raise InvalidInput("geo.regions.empty", "区县列表为空", "the list of counties is empty")
    if any(len(code) != 6 or not code.isdigit() for code in codes) or len(set(codes)) != len(codes):
        raise InvalidInput(
            "geo.divisions.bad_counties",
            "区县代码必须是互不相同的 6 位数字",
            "county codes must be distinct 6-digit strings",
        )


def _roads_in_metres(
    road_lines: Sequence[NDArray[np.float64]], projection: LocalProjection
) -> NDArray[np.object_]:
    arrays = [np.asarray(line, dtype=np.float64).reshape(-1, 2) for line in road_lines]
    arrays = [a for a in arrays if len(a) >= 2 and np.isfinite(a).all()]
    if not arrays:
        return np.empty(0, dtype=object)
    coords = np.concatenate(arrays)
    x, y = projection.to_metres(coords[:, 0], coords[:, 1])
    index = np.repeat(np.arange(len(arrays)), [len(a) for a in arrays])
    lines: NDArray[np.object_] = shapely.linestrings(np.column_stack((x, y)), indices=index)
    return lines


def _samples(
    outline_m: Polygonal, roads: RoadProximity, col: NDArray[np.int64], row: NDArray[np.int64]
) -> tuple[Samples, Samples]:
    """Sample the city: grid cell centres where built up, a coarse lattice elsewhere."""
    built = np.column_stack(((col + 0.5) * CELL_SIZE_M, (row + 0.5) * CELL_SIZE_M))
    x0, y0, x1, y1 = shapely.bounds(outline_m)
    xs = np.arange(math.floor(x0 / RURAL_SPACING_M), math.ceil(x1 / RURAL_SPACING_M))
    ys = np.arange(math.floor(y0 / RURAL_SPACING_M), math.ceil(y1 / RURAL_SPACING_M))
    mesh_x, mesh_y = np.meshgrid((xs + 0.5) * RURAL_SPACING_M, (ys + 0.5) * RURAL_SPACING_M)
    gx, gy = mesh_x.ravel(), mesh_y.ravel()
    rural_mask = shapely.contains_xy(outline_m, gx, gy) & ~roads.near(gx, gy)
    rural = np.column_stack((gx[rural_mask], gy[rural_mask]))
    xy = np.concatenate((built, rural))
    area = np.concatenate(
        (np.full(len(built), CELL_SIZE_M**2 / 1e6), np.full(len(rural), RURAL_SPACING_M**2 / 1e6))
    )
    is_built = np.arange(len(xy)) < len(built)
    street_target = np.where(is_built, URBAN_STREET_KM2, RURAL_STREET_KM2)
    community_target = np.where(is_built, URBAN_COMMUNITY_KM2, RURAL_COMMUNITY_KM2)
    return Samples(xy, area, street_target), Samples(xy, area, community_target)


def _too_many(count: int, what_zh: str, what_en: str) -> InvalidInput:
    return InvalidInput(
        "geo.divisions.too_many",
        f"{what_zh}数量 {count} 超过三位编码上限 999",
        f"{count} {what_en} exceed the 3-digit code limit of 999",
    )


def _refill(
    tree: list[list[tuple[Polygonal, list[Polygonal]]]],
    full: dict[int, int],
    samples: Samples,
    seed: int,
    attempt: int,
) -> None:
    """Split each over-full community in place into parts of ~REFILL_GRIDS grids."""
    for ci, county in enumerate(tree):
        for si, (street, communities) in enumerate(county):
            refilled: list[Polygonal] = []
            for mi, community in enumerate(communities):
                if id(community) not in full:
                    refilled.append(community)
                    continue
                # Only built-up samples matter: grids are what overflowed.
                built = samples.inside(community)
                built = built.select(built.area < RURAL_SPACING_M**2 / 1e6)
                parts = math.ceil(full[id(community)] / REFILL_GRIDS)
                rng = np.random.default_rng([seed, ci, si, mi, attempt])
                refilled.extend(split_region(community, built, rng, parts))
            county[si] = (street, refilled)


def build_divisions(
    counties: Sequence[Region], road_lines: Sequence[NDArray[np.float64]], *, seed: int = 0
) -> Divisions:
    """Generate streets, communities and the unit grid for a city; deterministic per seed."""
    _check_counties(counties)
    counties = sorted(counties, key=lambda c: c.code)
    outline = city_outline(counties)
    projection = LocalProjection.around(outline)
    counties_m = projection.project(np.array([c.geometry for c in counties], dtype=object))
    roads = RoadProximity(_roads_in_metres(road_lines, projection))
    col, row = built_up_cells(roads)
    street_samples, community_samples = _samples(projection.project(outline), roads, col, row)

    # tree[county] lists (street, its communities), all in metres, in code order.
    tree: list[list[tuple[Polygonal, list[Polygonal]]]] = []
    for ci, county_m in enumerate(counties_m):
        rng = np.random.default_rng([seed, ci])
        streets = split_region(county_m, street_samples.inside(county_m), rng)
        if len(streets) > 999:
            raise _too_many(len(streets), "街道", "streets")
        tree.append(
            [
                (
                    s,
                    split_region(
                        s, community_samples.inside(s), np.random.default_rng([seed, ci, si])
                    ),
                )
                for si, s in enumerate(streets)
            ]
        )

    for attempt in range(6):
        flat = [c for county in tree for _, communities in county for c in communities]
        communities_m = np.array(flat, dtype=object)
        pieces = assign_cells(col, row, communities_m)
        counts = np.bincount(pieces.community, minlength=len(flat))
        over = np.flatnonzero(counts > MAX_GRIDS_PER_COMMUNITY)
        if len(over) == 0:
            break
        if attempt == 5:
            raise _too_many(int(counts.max()), "社区网格", "grids in one community")
        _refill(tree, {id(flat[i]): int(counts[i]) for i in over}, community_samples, seed, attempt)

    codes: list[tuple[str, str, Level, str]] = []
    geoms_m: list[Polygonal] = []
    for county, streets in zip(counties, tree, strict=True):
        for si, (street, communities) in enumerate(streets, start=1):
            if len(communities) > 999:
                raise _too_many(len(communities), "社区", "communities")
            code = f"{county.code}{si:03d}"
            name = f"{county.name_zh}第{si:02d}街道"
            codes.append((code, name, "street", county.code))
            geoms_m.append(street)
            for mi, community in enumerate(communities, start=1):
                codes.append((f"{code}{mi:03d}", f"{name}第{mi:02d}社区", "community", code))
                geoms_m.append(community)
    # One batch through pyproj for every street and community.
    geoms = projection.unproject(np.array(geoms_m, dtype=object))
    regions = [
        Region(code, name, level, parent, polygonal(geom))
        for (code, name, level, parent), geom in zip(codes, geoms, strict=True)
    ]
    streets_out = [r for r in regions if r.level == "street"]
    communities_out = [r for r in regions if r.level == "community"]
    grids = grid_table(pieces, [c.code for c in communities_out], projection)
    return Divisions(counties, streets_out, communities_out, grids, projection)
