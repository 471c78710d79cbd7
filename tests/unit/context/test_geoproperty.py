"""GeoProperty values: GeoJSON geometries with WGS-84 positions."""

from __future__ import annotations

from typing import Any

import pytest

from opencitybrain.context.geoproperty import geometry_problem, looks_like_geometry

SQUARE = [[[116.0, 39.0], [116.1, 39.0], [116.1, 39.1], [116.0, 39.1], [116.0, 39.0]]]
VALID: list[dict[str, Any]] = [
    {"type": "Point", "coordinates": [115.85, 28.68]},
    {"type": "Point", "coordinates": [115.85, 28.68, 20.5]},
    {"type": "MultiPoint", "coordinates": [[115.85, 28.68], [115.9, 28.7]]},
    {"type": "LineString", "coordinates": [[115.85, 28.68], [115.9, 28.7]]},
    {"type": "MultiLineString", "coordinates": [[[115.85, 28.68], [115.9, 28.7]]]},
    {"type": "Polygon", "coordinates": SQUARE},
    {"type": "MultiPolygon", "coordinates": [SQUARE]},
]
INVALID: list[tuple[Any, str]] = [
    ("POINT (1 2)", "geometry object"),
    ({"type": "Circle", "coordinates": [1, 2]}, "unsupported"),
    ({"type": "Point", "coordinates": [200.0, 10.0]}, "longitude"),
    ({"type": "Point", "coordinates": [10.0, -95.0]}, "latitude"),
    ({"type": "Point", "coordinates": [10.0]}, "position"),
    ({"type": "Point", "coordinates": [True, 1.0]}, "numbers"),
    ({"type": "Point", "coordinates": ["1", 1.0]}, "numbers"),
    ({"type": "LineString", "coordinates": [[1.0, 1.0]]}, "two positions"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "end at"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}, "four positions"),
    (
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
        "Self-intersection",
    ),
    ({"type": "MultiPoint", "coordinates": []}, "at least one"),
]


@pytest.mark.parametrize("geometry", VALID, ids=lambda g: g["type"])
def test_valid_geometries_pass(geometry: dict[str, Any]) -> None:
    assert looks_like_geometry(geometry)
    assert geometry_problem(geometry) is None


@pytest.mark.parametrize(("value", "reason"), INVALID)
def test_invalid_geometries_say_why(value: Any, reason: str) -> None:
    problem = geometry_problem(value)
    assert problem is not None
    assert reason in problem
