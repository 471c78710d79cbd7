"""Validation of GeoProperty values: GeoJSON geometries in WGS-84 (NGSI-LD clause 4.7)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import shapely.geometry
from shapely.validation import explain_validity

GEOMETRY_TYPES = frozenset(
    {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}
)
_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}


def looks_like_geometry(value: Any) -> bool:
    """Tell whether a value has the shape of a GeoJSON geometry (type and coordinates)."""
    return (
        isinstance(value, Mapping)
        and value.get("type") in GEOMETRY_TYPES
        and "coordinates" in value
    )


def geometry_problem(value: Any) -> str | None:
    """Return why a value is not a valid GeoJSON geometry, or None if it is one."""
    if not isinstance(value, Mapping):
        return "a GeoProperty value must be a GeoJSON geometry object"
    kind = value.get("type")
    if kind not in GEOMETRY_TYPES:
        return f"unsupported geometry type {kind!r}"
    coords = value.get("coordinates")
    problem = _positions_problem(coords, _DEPTH[kind])
    if problem:
        return problem
    problem = _shape_problem(kind, coords)
    if problem:
        return problem
    if kind in ("Polygon", "MultiPolygon"):
        try:
            geometry = shapely.geometry.shape(dict(value))
        except (ValueError, TypeError, AttributeError) as exc:
            return f"invalid {kind}: {exc}"
        if not geometry.is_valid:
            return f"invalid {kind}: {explain_validity(geometry)}"
    return None


def _positions_problem(coords: Any, depth: int) -> str | None:
    if depth == 0:
        return _position_problem(coords)
    if not isinstance(coords, list):
        return "coordinates must be nested arrays of positions"
    for item in coords:
        problem = _positions_problem(item, depth - 1)
        if problem:
            return problem
    return None


def _position_problem(position: Any) -> str | None:
    if not isinstance(position, list) or len(position) not in (2, 3):
        return "a position must be [longitude, latitude] or [longitude, latitude, altitude]"
    for number in position:
        if isinstance(number, bool) or not isinstance(number, int | float):
            return "a position holds numbers only"
        if not math.isfinite(number):
            return "a position holds finite numbers only"
    lon, lat = position[0], position[1]
    if not -180 <= lon <= 180:
        return f"longitude {lon} is outside [-180, 180]"
    if not -90 <= lat <= 90:
        return f"latitude {lat} is outside [-90, 90]"
    return None


def _shape_problem(kind: str, coords: Any) -> str | None:
    # Counts GeoJSON (RFC 7946 §3.1) requires; shapely would accept some of them silently.
    if kind == "LineString":
        return _line_problem(coords)
    if kind == "MultiLineString":
        return _first(_line_problem(line) for line in coords)
    if kind == "Polygon":
        return _polygon_problem(coords)
    if kind == "MultiPolygon":
        return _first(_polygon_problem(polygon) for polygon in coords)
    if kind == "MultiPoint" and not coords:
        return "a MultiPoint needs at least one position"
    return None


def _line_problem(line: list[Any]) -> str | None:
    return None if len(line) >= 2 else "a LineString needs at least two positions"


def _polygon_problem(rings: list[Any]) -> str | None:
    if not rings:
        return "a Polygon needs at least one linear ring"
    for ring in rings:
        if len(ring) < 4:
            return "a linear ring needs at least four positions"
        if ring[0] != ring[-1]:
            return "a linear ring must end at its first position"
    return None


def _first(problems: Any) -> str | None:
    return next((p for p in problems if p), None)
