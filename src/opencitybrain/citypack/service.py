"""The loaded city as a service: summary statistics, map layers, lookup and routing.

GeoJSON layers are encoded once (per zoom band for roads) and served as bytes: the map is
the cockpit's hottest read and never changes while the platform runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import msgspec
import numpy as np
import shapely

from opencitybrain.citypack.geojson import (
    ZoomLevel,
    intersection_features,
    road_features,
    undirected_edges,
    zoom_level,
)
from opencitybrain.citypack.model import CityPack
from opencitybrain.geo.geojson import feature_collection, region_feature
from opencitybrain.geo.lookup import RegionLocator
from opencitybrain.geo.projection import LocalProjection
from opencitybrain.geo.regions import Level, Region
from opencitybrain.geo.roadgraph import RoadClass
from opencitybrain.geo.routing import Router
from opencitybrain.kernel.errors import NotFound

MAX_GRID_FEATURES = 5000
# A point further than this from any intersection is not "on the road network".
MAX_SNAP_M = 2000.0


@dataclass(frozen=True)
class CountyInfo:
    """A county-level division with its English name."""

    code: str
    name_zh: str
    name_en: str


def _json(obj: Any) -> bytes:
    return msgspec.json.encode(obj)


class CityService:
    """Answer questions about the loaded city: what it is, where things are, how to get there."""

    def __init__(self, pack: CityPack) -> None:
        self.pack = pack
        self.graph = pack.graph
        self.router = Router(pack.graph)
        outline = shapely.MultiPoint(np.column_stack([self.graph.node_lon, self.graph.node_lat]))
        self.projection = LocalProjection.around(outline)
        self.locator = (
            RegionLocator(pack.counties, pack.divisions) if pack.divisions is not None else None
        )
        self._roads: dict[ZoomLevel, bytes] = {}
        self._regions: dict[str, bytes] = {}

    # --- what the city is -------------------------------------------------------------

    def counties(self) -> list[CountyInfo]:
        """Return the county-level divisions with Chinese and English names."""
        names_en = self.pack.manifest.county_names_en or {}
        return [
            CountyInfo(c.code, c.name_zh, names_en.get(c.code, c.name_zh))
            for c in self.pack.counties
        ]

    @cached_property
    def summary(self) -> dict[str, Any]:
        """Return the city's identity, extent and statistics (computed once)."""
        g = self.graph
        m = self.pack.manifest
        seg = undirected_edges(g)
        km_seg = g.edge_length_m[seg] / 1000.0
        county_of_node = self._county_of(g.node_lon, g.node_lat)
        mid_lon = (g.node_lon[g.edge_from[seg]] + g.node_lon[g.edge_to[seg]]) / 2
        mid_lat = (g.node_lat[g.edge_from[seg]] + g.node_lat[g.edge_to[seg]]) / 2
        county_of_seg = self._county_of(mid_lon, mid_lat)
        counties = []
        for county in self.counties():
            region = next(r for r in self.pack.counties if r.code == county.code)
            in_county = county_of_node == county.code
            counties.append(
                {
                    "code": county.code,
                    "name_zh": county.name_zh,
                    "name_en": county.name_en,
                    "area_km2": round(self._area_km2(region), 1),
                    "intersections": int(in_county.sum()),
                    "signalized": int((in_county & g.node_signalized).sum()),
                    "road_km": round(float(km_seg[county_of_seg == county.code].sum()), 1),
                }
            )
        classes = [
            {
                "class": cls.en,
                "name_zh": cls.zh,
                "name_en": cls.en,
                "km": round(float(km_seg[g.edge_class[seg] == cls.value].sum()), 1),
            }
            for cls in RoadClass
        ]
        counts = self.pack.divisions.counts() if self.pack.divisions else {}
        lon, lat = g.node_lon, g.node_lat
        return {
            "code": m.city_code,
            "name_zh": m.name_zh,
            "name_en": m.name_en,
            "timezone": m.timezone,
            "center": list(self.pack.center),
            "bbox": [float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())],
            "stats": {
                "counties": len(self.pack.counties),
                "streets": counts.get("streets", 0),
                "communities": counts.get("communities", 0),
                "grids": counts.get("grids", 0),
                "intersections": g.n_nodes,
                "signalized": int(g.node_signalized.sum()),
                "road_edges": g.n_edges,
                "road_km": round(float(km_seg.sum()), 1),
                "area_km2": round(sum(self._area_km2(r) for r in self.pack.counties), 1),
            },
            "counties": counties,
            "road_classes": classes,
        }

    def _area_km2(self, region: Region) -> float:
        return (
            float(shapely.area(LocalProjection.around(region.geometry).project(region.geometry)))
            / 1e6
        )

    def _county_of(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        if self.locator is not None:
            return self.locator.locate(lon, lat).county
        # Without divisions, test against the county polygons directly.
        out = np.full(len(lon), "", dtype="<U6")
        for county in self.pack.counties:
            out[shapely.contains_xy(county.geometry, lon, lat)] = county.code
        return out

    # --- map layers -------------------------------------------------------------------

    def summary_json(self) -> bytes:
        """Return the summary, encoded."""
        return _json(self.summary)

    def regions_geojson(self, level: Level) -> bytes:
        """Return the regions of one level as GeoJSON bytes."""
        if level not in self._regions:
            if level == "county":
                fc = feature_collection(region_feature(r) for r in self.pack.counties)
            elif self.pack.divisions is None:
                raise NotFound("city.no_divisions", "本城市包没有街道社区划分", "no divisions")
            else:
                fc = self.pack.divisions.to_geojson(level)
            self._regions[level] = _json(fc)
        return self._regions[level]

    def roads_geojson(self, zoom: int) -> bytes:
        """Return the roads to draw at a zoom level as GeoJSON bytes."""
        level = zoom_level(zoom)
        if level not in self._roads:
            self._roads[level] = _json(
                feature_collection(road_features(self.graph, self.projection, level))
            )
        return self._roads[level]

    @cached_property
    def _intersections(self) -> bytes:
        return _json(feature_collection(intersection_features(self.graph)))

    def intersections_geojson(self) -> bytes:
        """Return intersections with their signal flag as GeoJSON bytes."""
        return self._intersections

    def grids_geojson(self, bbox: tuple[float, float, float, float]) -> bytes:
        """Return the grids inside a bbox as GeoJSON bytes (at most MAX_GRID_FEATURES)."""
        if self.pack.divisions is None:
            raise NotFound("city.no_divisions", "本城市包没有网格划分", "no grid layer")
        return _json(self.pack.divisions.grids_geojson(bbox, MAX_GRID_FEATURES))

    # --- lookup and routing -------------------------------------------------------------

    def locate(self, lon: float, lat: float) -> dict[str, Any]:
        """Return the county, street, community and grid of a point."""
        if self.locator is None:
            raise NotFound("city.no_divisions", "本城市包没有网格划分", "no grid layer")
        found = self.locator.locate(np.array([lon]), np.array([lat]))
        county = str(found.county[0])
        if not county:
            raise NotFound("city.outside", "该位置不在本市范围内", "the point is outside the city")
        names = self._region_names

        def item(code: str) -> dict[str, str] | None:
            return {"code": code, "name_zh": names.get(code, code)} if code else None

        grid = str(found.grid[0])
        return {
            "lon": lon,
            "lat": lat,
            "county": item(county),
            "street": item(str(found.street[0])),
            "community": item(str(found.community[0])),
            "grid": {"code": grid} if grid else None,
        }

    @cached_property
    def _region_names(self) -> dict[str, str]:
        d = self.pack.divisions
        regions = tuple(self.pack.counties) + ((d.streets + d.communities) if d else ())
        return {r.code: r.name_zh for r in regions}

    def snap(self, lon: float, lat: float, what: tuple[str, str]) -> int:
        """Return the intersection nearest a point; NotFound if no road is near it."""
        nodes, dist = self.graph.nearest_nodes([lon], [lat])
        if float(dist[0]) > MAX_SNAP_M:
            raise NotFound(
                "city.off_network",
                f"{what[0]}附近 {MAX_SNAP_M:.0f} 米内没有道路",
                f"no road within {MAX_SNAP_M:.0f} m of the {what[1]}",
            )
        return int(nodes[0])

    def route(self, origin: tuple[float, float], dest: tuple[float, float]) -> dict[str, Any]:
        """Return the fastest route between two points as a GeoJSON Feature."""
        src = self.snap(*origin, what=("起点", "origin"))
        dst = self.snap(*dest, what=("终点", "destination"))
        route = self.router.fastest_path(src, dst)
        return {
            "type": "Feature",
            "geometry": {
                "type": "LineString",
                "coordinates": np.round(route.line, 6).tolist(),
            },
            "properties": {
                "seconds": round(route.seconds, 1),
                "metres": round(route.metres, 1),
                "intersections": len(route.nodes),
                "from_node": int(self.graph.node_ids[src]),
                "to_node": int(self.graph.node_ids[dst]),
            },
        }
