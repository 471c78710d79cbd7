"""Tests for the TopoJSON decoder, on the specification's example and real boundaries."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from opencitybrain.geo.projection import LocalProjection
from opencitybrain.geo.topojson import decode_topology, read_topology
from opencitybrain.kernel.errors import InvalidInput

from .nanchang_data import NANCHANG_ADMIN, ZHENGZHOU_ADMIN

# The quantized example of topojson/topojson-specification README.md, section 1.1.
SPEC_EXAMPLE = {
    "type": "Topology",
    "transform": {
        "scale": [0.0005000500050005, 0.00010001000100010001],
        "translate": [100, 0],
    },
    "objects": {
        "example": {
            "type": "GeometryCollection",
            "geometries": [
                {"type": "Point", "properties": {"prop0": "value0"}, "coordinates": [4000, 5000]},
                {"type": "LineString", "properties": {"prop0": "value0", "prop1": 0}, "arcs": [0]},
                {"type": "Polygon", "properties": {"prop1": {"this": "that"}}, "arcs": [[1]]},
            ],
        }
    },
    "arcs": [
        [[4000, 0], [1999, 9999], [2000, -9999], [2000, 9999]],
        [[0, 0], [0, 9999], [2000, 0], [0, -9999], [-2000, 0]],
    ],
}


def test_spec_example_decodes_to_the_unquantized_geometry() -> None:
    point, line, polygon = (f.geometry for f in decode_topology(SPEC_EXAMPLE))
    # The specification gives the same topology unquantized: these are its coordinates.
    np.testing.assert_allclose(shapely.get_coordinates(point), [[102, 0.5]], atol=1e-3)
    np.testing.assert_allclose(
        shapely.get_coordinates(line), [[102, 0], [103, 1], [104, 0], [105, 1]], atol=1e-3
    )
    np.testing.assert_allclose(
        shapely.get_coordinates(polygon),
        [[100, 0], [100, 1], [101, 1], [101, 0], [100, 0]],
        atol=1e-3,
    )


def test_negative_arcs_multipolygon_holes_and_null_geometries() -> None:
    # Two unit squares sharing arc 0 (walked backwards by the second), one with a hole,
    # a MultiPolygon reusing them, and a null geometry that must be skipped.
    topology = {
        "type": "Topology",
        "arcs": [
            [[1, 0], [1, 1]],
            [[1, 1], [0, 1], [0, 0], [1, 0]],
            [[1, 0], [2, 0], [2, 1], [1, 1]],
            [[0.2, 0.2], [0.4, 0.2], [0.4, 0.4], [0.2, 0.4], [0.2, 0.2]],
        ],
        "objects": {
            "squares": {
                "type": "GeometryCollection",
                "geometries": [
                    {"type": "Polygon", "id": "a", "arcs": [[0, 1], [3]]},
                    {"type": "Polygon", "id": "b", "arcs": [[2, -1]]},
                    {"type": "MultiPolygon", "id": "ab", "arcs": [[[0, 1]], [[2, -1]]]},
                    {"type": None, "properties": {"NAME": "elsewhere"}},
                ],
            }
        },
    }
    a, b, ab = decode_topology(topology)
    assert (a.id, b.id, ab.id) == ("a", "b", "ab")
    assert a.geometry.area == pytest.approx(1 - 0.04)
    assert b.geometry.is_valid
    assert b.geometry.area == pytest.approx(1.0)
    # Shared arcs give bit-identical borders, so the pair unions into one clean rectangle.
    assert shapely.union_all([a.geometry, b.geometry]).area == pytest.approx(2 - 0.04)
    assert ab.geometry.geom_type == "MultiPolygon"
    assert len(ab.geometry.geoms) == 2


def test_rejects_what_is_not_a_topology() -> None:
    with pytest.raises(InvalidInput) as info:
        decode_topology({"type": "FeatureCollection", "features": []})
    assert info.value.code == "geo.topojson.invalid"
    with pytest.raises(InvalidInput):
        decode_topology({"type": "Topology", "objects": {"x": {"type": "Polygon", "arcs": [[5]]}}})


def _area_km2(geometry: shapely.Geometry) -> float:
    projection = LocalProjection.around(geometry)
    return float(shapely.area(projection.project(geometry))) / 1e6


def test_nanchang_counties_are_valid_with_plausible_areas() -> None:
    features = read_topology(NANCHANG_ADMIN)
    by_code: dict[str, list[shapely.Geometry]] = {}
    for feature in features:
        by_code.setdefault(feature.properties["QUHUADAIMA"], []).append(feature.geometry)
    assert all(f.geometry.is_valid for f in features)
    # Null geometries (樟树市, 贵溪市, 临川区) are skipped, the rest kept.
    assert "360982" not in by_code
    assert len(by_code["360112"]) == 2  # 新建区 comes in two pieces
    assert 15 < _area_km2(by_code["360102"][0]) < 45  # 东湖区, a small urban district
    assert 1600 < _area_km2(by_code["360121"][0]) < 2000  # 南昌县
    assert 6800 < _area_km2(by_code["360100"][0]) < 7600  # the whole city, 7,195 km²


def test_zhengzhou_has_its_twelve_counties_and_total_area() -> None:
    features = read_topology(ZHENGZHOU_ADMIN, "410100")
    codes = {f.properties["QUHUADAIMA"] for f in features}
    expected = {
        "410102", "410103", "410104", "410105", "410106", "410108",
        "410122", "410181", "410182", "410183", "410184", "410185",
    }  # fmt: skip
    assert expected <= codes
    own = [f.geometry for f in features if f.properties["QUHUADAIMA"] in expected]
    assert all(g.is_valid for g in own)
    assert 7000 < _area_km2(shapely.union_all(own)) < 8000  # about 7,446 km²
