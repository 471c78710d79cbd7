"""Turn shapely geometries and regions into plain GeoJSON dicts (RFC 7946)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import shapely

from opencitybrain.geo.regions import Region

__all__ = ["feature_collection", "geometry_dict", "region_feature"]

# Six decimals of a degree is about 0.1 m: finer digits only make payloads bigger.
PRECISION = 6


def _ring(ring: shapely.LinearRing, precision: int) -> list[list[float]]:
    coords: list[list[float]] = np.round(shapely.get_coordinates(ring), precision).tolist()
    return coords


def _polygon(polygon: shapely.Polygon, precision: int) -> list[list[list[float]]]:
    # RFC 7946 asks for counter-clockwise shells and clockwise holes.
    oriented = shapely.orient_polygons(polygon)
    rings = [oriented.exterior, *oriented.interiors]
    return [_ring(ring, precision) for ring in rings]


def geometry_dict(geometry: shapely.Geometry, precision: int = PRECISION) -> dict[str, Any]:
    """Return a GeoJSON geometry dict for a Polygon, MultiPolygon or Point."""
    if isinstance(geometry, shapely.Polygon):
        return {"type": "Polygon", "coordinates": _polygon(geometry, precision)}
    if isinstance(geometry, shapely.MultiPolygon):
        polygons = [_polygon(part, precision) for part in geometry.geoms]
        return {"type": "MultiPolygon", "coordinates": polygons}
    if isinstance(geometry, shapely.GeometryCollection):
        parts = [p for p in shapely.get_parts(geometry) if isinstance(p, shapely.Polygon)]
        return geometry_dict(shapely.MultiPolygon(parts), precision)
    if isinstance(geometry, shapely.Point):
        coords = [round(geometry.x, precision), round(geometry.y, precision)]
        return {"type": "Point", "coordinates": coords}
    raise TypeError(f"unsupported geometry type {geometry.geom_type}")


def region_feature(region: Region) -> dict[str, Any]:
    """Return a GeoJSON Feature for a region, its code as the feature id."""
    return {
        "type": "Feature",
        "id": region.code,
        "properties": {
            "code": region.code,
            "name_zh": region.name_zh,
            "level": region.level,
            "parent_code": region.parent_code,
        },
        "geometry": geometry_dict(region.geometry),
    }


def feature_collection(
    features: Iterable[dict[str, Any]] | Sequence[dict[str, Any]], **members: Any
) -> dict[str, Any]:
    """Return a FeatureCollection dict, with any extra foreign members given."""
    return {"type": "FeatureCollection", "features": list(features), **members}
