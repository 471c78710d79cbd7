"""Parse the NGSI-LD geo-query parameters: georel, geometry, coordinates, geoproperty.

``georel`` follows the spec grammar (``near;maxDistance==<m>``, ``near;minDistance==<m>``,
``within``, ``contains``, ``intersects``, ``equals``, ``disjoint``, ``overlaps``); ``near``
also takes both limits at once (a ring), an extension. Positions are ``[lon, lat]`` or
``[lon, lat, alt]`` in WGS-84 degrees (altitude is dropped: every relation is
two-dimensional); rings must be closed, polygons valid.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import shapely

from opencitybrain.context.errors import BadRequestData

__all__ = [
    "GEOMETRY_TYPES",
    "GEORELS",
    "MAX_COORDINATES_TEXT",
    "GeoQuery",
    "bad_geoquery",
    "parse_geoq",
    "parse_geoquery",
    "reference_geometry",
]

GEORELS = ("near", "within", "contains", "intersects", "equals", "disjoint", "overlaps")
GEOMETRY_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")
MAX_COORDINATES_TEXT = 1_000_000
# How deep each type nests its positions, and the fewest members each level needs.
_DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2}
_DEPTH |= {"Polygon": 2, "MultiPolygon": 3}


def bad_geoquery(parameter: str, reason_en: str, reason_zh: str = "地理查询参数无效") -> NoReturn:
    """Raise BadRequestData for a malformed geo-query, naming the parameter."""
    raise BadRequestData(
        f"地理查询参数 {parameter} 有误：{reason_zh}",
        f"invalid geo-query parameter {parameter}: {reason_en}",
        field=parameter,
        code="ngsi.bad_geoquery",
    )


def _position(value: Any) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) not in (2, 3):
        bad_geoquery("coordinates", f"a position is [lon, lat] or [lon, lat, alt], got {value!r}")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        bad_geoquery("coordinates", f"positions hold numbers, got {value!r}")
    lon, lat = float(value[0]), float(value[1])
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        bad_geoquery(
            "coordinates", f"longitude {value[0]!r} is outside [-180, 180]", "经度超出范围"
        )
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        bad_geoquery("coordinates", f"latitude {value[1]!r} is outside [-90, 90]", "纬度超出范围")
    return lon, lat


def _positions(value: Any, depth: int) -> Any:
    """Return the nested positions as tuples, checking each level is a non-empty array."""
    if depth == 0:
        return _position(value)
    if not isinstance(value, list) or not value:
        bad_geoquery("coordinates", "expected a non-empty array at every nesting level")
    return [_positions(v, depth - 1) for v in value]


def _check_line(line: list[tuple[float, float]]) -> None:
    if len(line) < 2:
        bad_geoquery("coordinates", "a LineString needs at least two positions")


def _check_ring(ring: list[tuple[float, float]]) -> None:
    if len(ring) < 4:
        bad_geoquery("coordinates", "a polygon ring needs at least four positions")
    if ring[0] != ring[-1]:
        bad_geoquery("coordinates", "a polygon ring must end where it starts", "多边形环未闭合")


def _build(kind: str, nested: Any) -> shapely.Geometry:
    if kind == "Point":
        return shapely.Point(nested)
    if kind == "MultiPoint":
        return shapely.MultiPoint(nested)
    if kind in ("LineString", "MultiLineString"):
        lines = [nested] if kind == "LineString" else nested
        for line in lines:
            _check_line(line)
        return (
            shapely.LineString(nested) if kind == "LineString" else shapely.MultiLineString(nested)
        )
    polygons = [nested] if kind == "Polygon" else nested
    for rings in polygons:
        for ring in rings:
            _check_ring(ring)
    parts = [shapely.Polygon(rings[0], rings[1:]) for rings in polygons]
    geometry = parts[0] if kind == "Polygon" else shapely.MultiPolygon(parts)
    if not shapely.is_valid(geometry):
        reason = shapely.is_valid_reason(geometry)
        bad_geoquery("coordinates", f"invalid {kind}: {reason}", "多边形无效（自相交等）")
    return geometry


def reference_geometry(geometry: str, coordinates: str | list[Any]) -> shapely.Geometry:
    """Return the reference geometry of a geo-query, or raise BadRequestData."""
    if geometry not in GEOMETRY_TYPES:
        bad_geoquery(
            "geometry",
            f"unknown geometry {geometry!r}; expected one of {', '.join(GEOMETRY_TYPES)}",
        )
    if isinstance(coordinates, str):
        if len(coordinates) > MAX_COORDINATES_TEXT:
            bad_geoquery("coordinates", f"longer than {MAX_COORDINATES_TEXT} characters")
        try:
            coordinates = json.loads(coordinates)
        except ValueError:
            bad_geoquery("coordinates", "coordinates must be a JSON array", "坐标须为 JSON 数组")
    nested = _positions(coordinates, _DEPTH[geometry])
    return _build(geometry, nested)


@dataclass(frozen=True, slots=True, eq=False)
class GeoQuery:
    """Hold one parsed geo-query; ``geoproperty`` stays compact for the caller to expand."""

    georel: str
    geometry: shapely.Geometry
    geoproperty: str = "location"
    max_distance: float | None = None
    min_distance: float | None = None


def _distance(token: str) -> tuple[str, float]:
    name, sep, number = token.partition("==")
    if not sep or name not in ("maxDistance", "minDistance"):
        bad_geoquery("georel", f"expected maxDistance==<m> or minDistance==<m>, got {token!r}")
    try:
        metres = float(number)
    except ValueError:
        metres = math.nan
    if not math.isfinite(metres) or metres < 0:
        bad_geoquery("georel", f"{name} must be a non-negative number of metres")
    return name, metres


def _georel(text: str) -> tuple[str, float | None, float | None]:
    relation, *rest = text.strip().split(";")
    if relation not in GEORELS:
        bad_geoquery("georel", f"unknown georel {relation!r}; expected one of {', '.join(GEORELS)}")
    if relation != "near":
        if rest:
            bad_geoquery("georel", f"{relation} takes no modifiers")
        return relation, None, None
    limits = dict(_distance(token) for token in rest)
    if not limits or len(limits) != len(rest):
        bad_geoquery("georel", "near needs one maxDistance==<m> and/or one minDistance==<m>")
    return relation, limits.get("maxDistance"), limits.get("minDistance")


def parse_geoquery(
    georel: str | None,
    geometry: str | None,
    coordinates: str | list[Any] | None,
    geoproperty: str | None = None,
) -> GeoQuery | None:
    """Parse the ``georel``/``geometry``/``coordinates``/``geoproperty`` query parameters.

    Return None when none of the three is given; all three must come together.
    """
    if georel is None and geometry is None and coordinates is None:
        return None
    missing = "{} is required with the other geo-query parameters"
    if not georel:
        bad_geoquery("georel", missing.format("georel"))
    if not geometry:
        bad_geoquery("geometry", missing.format("geometry"))
    if coordinates is None or coordinates == "":
        bad_geoquery("coordinates", missing.format("coordinates"))
    relation, max_distance, min_distance = _georel(georel)
    shape = reference_geometry(geometry, coordinates)
    if geoproperty is not None and not geoproperty.strip():
        bad_geoquery("geoproperty", "geoproperty must name an attribute")
    return GeoQuery(relation, shape, geoproperty or "location", max_distance, min_distance)


def parse_geoq(geoq: Mapping[str, Any]) -> GeoQuery:
    """Parse the ``geoQ`` object of a subscription (same members as the parameters)."""
    if not isinstance(geoq, Mapping):
        bad_geoquery("geoQ", "geoQ must be a JSON object")
    georel, geometry = geoq.get("georel"), geoq.get("geometry")
    coordinates, geoproperty = geoq.get("coordinates"), geoq.get("geoproperty")
    for name, value in (("georel", georel), ("geometry", geometry), ("geoproperty", geoproperty)):
        if value is not None and not isinstance(value, str):
            bad_geoquery(name, f"{name} must be a string")
    if not isinstance(coordinates, str | list):
        bad_geoquery("coordinates", "coordinates must be a JSON array (or its text)")
    parsed = parse_geoquery(georel or "", geometry or "", coordinates, geoproperty)
    if parsed is None:  # cannot happen: coordinates is present
        bad_geoquery("geoQ", "geoQ is empty")
    return parsed
