"""Tests for GeoJSON dict output."""

from __future__ import annotations

import itertools
import json

import pytest
import shapely

from opencitybrain.geo.geojson import feature_collection, geometry_dict, region_feature
from opencitybrain.geo.regions import Region

from .nanchang_data import nanchang_counties


def _signed_area(ring: list[list[float]]) -> float:
    return 0.5 * sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring))


def test_polygon_rings_follow_rfc_7946_orientation() -> None:
    # Built clockwise with a counter-clockwise hole: the output must flip both.
    shell = [(0, 0), (0, 1), (1, 1), (1, 0), (0, 0)]
    hole = [(0.2, 0.2), (0.4, 0.2), (0.4, 0.4), (0.2, 0.4), (0.2, 0.2)]
    result = geometry_dict(shapely.Polygon(shell, [hole]))
    assert result["type"] == "Polygon"
    exterior, interior = result["coordinates"]
    assert _signed_area(exterior) > 0
    assert _signed_area(interior) < 0


def test_rounding_and_other_types() -> None:
    point = geometry_dict(shapely.Point(115.123456789, 28.987654321))
    assert point == {"type": "Point", "coordinates": [115.123457, 28.987654]}
    multi = geometry_dict(shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)]))
    assert multi["type"] == "MultiPolygon"
    assert len(multi["coordinates"]) == 2
    mixed = shapely.GeometryCollection(
        [shapely.box(0, 0, 1, 1), shapely.LineString([(0, 0), (5, 5)])]
    )
    assert geometry_dict(mixed)["type"] == "MultiPolygon"
    with pytest.raises(TypeError):
        geometry_dict(shapely.LineString([(0, 0), (1, 1)]))


def test_region_feature_of_a_real_county() -> None:
    county = nanchang_counties()[0]
    feature = region_feature(county)
    assert feature["id"] == "360102"
    assert feature["properties"] == {
        "code": "360102",
        "name_zh": "东湖区",
        "level": "county",
        "parent_code": "360100",
    }
    rebuilt = shapely.geometry.shape(feature["geometry"])
    # Rounding to six decimals moves each vertex by at most ~7e-7 degrees.
    assert rebuilt.symmetric_difference(county.geometry).area < 1e-6 * county.geometry.length
    collection = feature_collection([feature], total=1)
    assert collection["type"] == "FeatureCollection"
    assert collection["total"] == 1
    assert json.loads(json.dumps(collection)) == collection


def test_region_without_parent() -> None:
    region = Region("360100", "南昌市", "county", None, shapely.box(0, 0, 1, 1))
    assert region_feature(region)["properties"]["parent_code"] is None
