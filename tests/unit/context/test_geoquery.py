"""Tests for NGSI-LD geo-queries on real Nanchang coordinates (around 115.90°E 28.68°N)."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from pyproj import Geod

from opencitybrain.context.errors import BadRequestData
from opencitybrain.context.geoquery import (
    GeoQuery,
    compile_geoquery,
    filter_entities,
    filter_geo,
    parse_geoq,
    parse_geoquery,
)
from tests.unit.context._entities import Attribute, AttrKind, entity, expand, geo

BAYI_SQUARE = (115.8957, 28.6797)  # 八一广场
TENGWANG_PAVILION = (115.8822, 28.6819)  # 滕王阁
GEOD = Geod(ellps="WGS84")
# A box over the old city centre, and a road-like line across it.
CENTRE_BOX = [[[115.88, 28.67], [115.91, 28.67], [115.91, 28.69], [115.88, 28.69], [115.88, 28.67]]]


def haversine(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Return the great-circle distance in metres on the mean-radius sphere."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


def near(lon: float, lat: float, rel: str) -> GeoQuery:
    query = parse_geoquery(rel, "Point", json.dumps([lon, lat]))
    assert query is not None
    return query


def points(coords: list[tuple[float, float]]) -> NDArray[np.object_]:
    return np.asarray(shapely.points(np.asarray(coords)), dtype=object)


# ---- parsing -------------------------------------------------------------------------------


def test_no_parameters_means_no_geo_query() -> None:
    assert parse_geoquery(None, None, None) is None


def test_parse_near_and_defaults() -> None:
    query = near(*BAYI_SQUARE, "near;maxDistance==2000")
    assert query.georel == "near"
    assert query.max_distance == 2000.0
    assert query.min_distance is None
    assert query.geoproperty == "location"
    assert query.geometry.equals(shapely.Point(BAYI_SQUARE))
    both = parse_geoquery("near;minDistance==10;maxDistance==50", "Point", "[115.9,28.68]", "area")
    assert both is not None
    assert (both.min_distance, both.max_distance, both.geoproperty) == (10.0, 50.0, "area")


def test_parse_each_geometry_type() -> None:
    shapes = {
        "Point": [115.9, 28.68],
        "MultiPoint": [[115.9, 28.68], [115.91, 28.69, 30.0]],
        "LineString": [[115.88, 28.68], [115.92, 28.68]],
        "MultiLineString": [[[115.88, 28.68], [115.92, 28.68]], [[115.9, 28.6], [115.9, 28.7]]],
        "Polygon": CENTRE_BOX,
        "MultiPolygon": [CENTRE_BOX, [[[116, 28], [116.1, 28], [116.1, 28.1], [116, 28]]]],
    }
    for kind, coordinates in shapes.items():
        query = parse_geoquery("intersects", kind, json.dumps(coordinates))
        assert query is not None
        assert query.geometry.geom_type == kind
        assert query.geometry.is_valid


@pytest.mark.parametrize(
    ("georel", "geometry", "coordinates", "parameter"),
    [
        ("near", "Point", "[115.9,28.68]", "georel"),
        ("near;maxDistance==-1", "Point", "[115.9,28.68]", "georel"),
        ("near;maxDistance==abc", "Point", "[115.9,28.68]", "georel"),
        ("near;radius==5", "Point", "[115.9,28.68]", "georel"),
        ("near;maxDistance==5;maxDistance==6", "Point", "[115.9,28.68]", "georel"),
        ("within;maxDistance==5", "Polygon", json.dumps(CENTRE_BOX), "georel"),
        ("around", "Point", "[115.9,28.68]", "georel"),
        ("within", "Circle", "[115.9,28.68]", "geometry"),
        ("within", "Point", "115.9,28.68", "coordinates"),
        ("within", "Point", "[195.9,28.68]", "coordinates"),
        ("within", "Point", "[115.9,98.68]", "coordinates"),
        ("within", "Point", "[115.9]", "coordinates"),
        ("within", "Point", '["115.9", 28.68]', "coordinates"),
        ("within", "LineString", "[[115.9,28.68]]", "coordinates"),
        (
            "within",
            "Polygon",
            "[[[115.88,28.67],[115.91,28.67],[115.91,28.69],[115.88,28.69]]]",
            "coordinates",
        ),
        ("within", "Polygon", "[[[115.88,28.67],[115.91,28.67],[115.88,28.67]]]", "coordinates"),
        # a bow-tie: the ring crosses itself
        (
            "within",
            "Polygon",
            "[[[115.88,28.67],[115.91,28.69],[115.91,28.67],[115.88,28.69],[115.88,28.67]]]",
            "coordinates",
        ),
        ("within", "MultiPolygon", "[]", "coordinates"),
        (None, "Point", "[115.9,28.68]", "georel"),
        ("within", None, "[115.9,28.68]", "geometry"),
        ("within", "Point", None, "coordinates"),
    ],
)
def test_malformed_geo_queries_name_the_parameter(
    georel: str | None, geometry: str | None, coordinates: str | None, parameter: str
) -> None:
    with pytest.raises(BadRequestData) as caught:
        parse_geoquery(georel, geometry, coordinates)
    assert caught.value.code == "ngsi.bad_geoquery"
    assert caught.value.errors[0].field == parameter
    assert parameter in caught.value.message_en


def test_geoq_object_form_of_subscriptions() -> None:
    geoq = {"geometry": "Point", "coordinates": [115.9, 28.68], "georel": "near;maxDistance==500"}
    query = parse_geoq(geoq)
    assert (query.georel, query.max_distance, query.geoproperty) == ("near", 500.0, "location")
    as_text = parse_geoq({**geoq, "coordinates": "[115.9, 28.68]", "geoproperty": "area"})
    assert as_text.geometry.equals(query.geometry)
    assert as_text.geoproperty == "area"
    with pytest.raises(BadRequestData, match="coordinates"):
        parse_geoq({"geometry": "Point", "georel": "within"})
    with pytest.raises(BadRequestData, match="georel"):
        parse_geoq({**geoq, "georel": 5})


# ---- near: distances in metres -------------------------------------------------------------


def test_landmarks_distance_against_haversine() -> None:
    # Bayi Square to Tengwang Pavilion is about 1.34 km.
    metres = haversine(*BAYI_SQUARE, *TENGWANG_PAVILION)
    assert 1_300 < metres < 1_400
    pavilion = points([TENGWANG_PAVILION])
    assert filter_geo(pavilion, near(*BAYI_SQUARE, f"near;maxDistance=={metres * 1.005}"))[0]
    assert not filter_geo(pavilion, near(*BAYI_SQUARE, f"near;maxDistance=={metres * 0.995}"))[0]
    assert filter_geo(pavilion, near(*BAYI_SQUARE, f"near;minDistance=={metres * 0.995}"))[0]


offsets = st.tuples(st.floats(-0.05, 0.05), st.floats(-0.05, 0.05))


@settings(max_examples=60, deadline=None)
@given(st.lists(offsets, min_size=1, max_size=40), st.floats(10, 6_000))
def test_near_matches_exact_geodesic_and_haversine(
    deltas: list[tuple[float, float]], radius: float
) -> None:
    coords = [(BAYI_SQUARE[0] + dx, BAYI_SQUARE[1] + dy) for dx, dy in deltas]
    inside = filter_geo(points(coords), near(*BAYI_SQUARE, f"near;maxDistance=={radius}"))
    outside = filter_geo(points(coords), near(*BAYI_SQUARE, f"near;minDistance=={radius}"))
    for (lon, lat), is_in, is_out in zip(coords, inside, outside, strict=True):
        _, _, exact = GEOD.inv(BAYI_SQUARE[0], BAYI_SQUARE[1], lon, lat)
        sphere = haversine(*BAYI_SQUARE, lon, lat)
        assert abs(sphere - exact) <= 0.005 * exact + 1e-6  # the sphere is within 0.5 %
        if abs(exact - radius) > 1e-3:
            assert is_in == (exact <= radius)
            assert is_out == (exact >= radius)
        if sphere < radius * 0.995:
            assert is_in
        if sphere > radius * 1.005:
            assert not is_in
            assert is_out


@pytest.mark.parametrize("azimuth", [0.0, 45.0, 90.0, 180.0, 270.0])
@pytest.mark.parametrize("metres", [50.0, 1_000.0, 20_000.0])
def test_near_is_exact_to_a_centimetre_at_the_limit(azimuth: float, metres: float) -> None:
    # Put a point at an exact geodesic distance, then move the limit 1 cm either way.
    lon, lat, _ = GEOD.fwd(BAYI_SQUARE[0], BAYI_SQUARE[1], azimuth, metres)
    target = points([(lon, lat)])
    assert filter_geo(target, near(*BAYI_SQUARE, f"near;maxDistance=={metres + 0.01}"))[0]
    assert not filter_geo(target, near(*BAYI_SQUARE, f"near;maxDistance=={metres - 0.01}"))[0]
    assert filter_geo(target, near(*BAYI_SQUARE, f"near;minDistance=={metres - 0.01}"))[0]
    assert not filter_geo(target, near(*BAYI_SQUARE, f"near;minDistance=={metres + 0.01}"))[0]


def test_near_a_line_measures_to_its_nearest_part() -> None:
    # A road running east-west through Bayi Square, and points north of it.
    road = [[115.88, BAYI_SQUARE[1]], [115.92, BAYI_SQUARE[1]]]
    query = parse_geoquery("near;maxDistance==500", "LineString", json.dumps(road))
    assert query is not None
    north = [(115.90, BAYI_SQUARE[1] + d / 110_860) for d in (100, 450, 550, 900)]
    west_end = [(115.88 - 480 / 97_700, BAYI_SQUARE[1]), (115.88 - 530 / 97_700, BAYI_SQUARE[1])]
    assert filter_geo(points(north + west_end), query).tolist() == [
        True,
        True,
        False,
        False,
        True,
        False,
    ]


def test_near_across_the_antimeridian_and_at_large_radius() -> None:
    across = points([(-179.995, 10.0), (179.0, 10.0)])
    assert filter_geo(across, near(179.995, 10.0, "near;maxDistance==2000")).tolist() == [
        True,
        False,
    ]
    far = points([(121.47, 31.23), (-0.13, 51.51)])  # Shanghai, London
    assert filter_geo(far, near(*BAYI_SQUARE, "near;maxDistance==3000000")).tolist() == [
        True,
        False,
    ]


# ---- topological relations ------------------------------------------------------------------

SHAPES = [
    shapely.Point(BAYI_SQUARE),  # inside the centre box
    shapely.Point(116.0, 28.68),  # east of it
    shapely.LineString([(115.87, 28.68), (115.92, 28.68)]),  # crosses it
    shapely.box(115.885, 28.675, 115.905, 28.685),  # inside it
    shapely.box(115.87, 28.66, 115.92, 28.70),  # contains it
    shapely.box(115.90, 28.68, 115.95, 28.72),  # overlaps it
    shapely.Polygon(CENTRE_BOX[0]),  # equals it
    None,  # an entity without the geoproperty
]


@pytest.mark.parametrize(
    ("georel", "expected"),
    [
        ("within", [1, 0, 0, 1, 0, 0, 1, 0]),
        ("contains", [0, 0, 0, 0, 1, 0, 1, 0]),
        ("intersects", [1, 0, 1, 1, 1, 1, 1, 0]),
        ("disjoint", [0, 1, 0, 0, 0, 0, 0, 0]),
        ("overlaps", [0, 0, 0, 0, 0, 1, 0, 0]),
        ("equals", [0, 0, 0, 0, 0, 0, 1, 0]),
    ],
)
def test_relations_with_and_without_a_tree(georel: str, expected: list[int]) -> None:
    query = parse_geoquery(georel, "Polygon", json.dumps(CENTRE_BOX))
    assert query is not None
    geoms = np.asarray(SHAPES, dtype=object)
    assert filter_geo(geoms, query).astype(int).tolist() == expected
    assert filter_geo(geoms, query, shapely.STRtree(geoms)).astype(int).tolist() == expected


def test_contains_a_point_finds_the_zone_around_it() -> None:
    query = parse_geoquery("contains", "Point", json.dumps(list(BAYI_SQUARE)))
    assert query is not None
    zones = np.asarray(
        [shapely.Polygon(CENTRE_BOX[0]), shapely.box(116, 28, 116.1, 28.1)], dtype=object
    )
    assert filter_geo(zones, query).tolist() == [True, False]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(offsets, min_size=1, max_size=60),
    st.sampled_from(["within", "intersects", "disjoint"]),
)
def test_filter_agrees_with_shapely_one_by_one(
    deltas: list[tuple[float, float]], georel: str
) -> None:
    coords = [(115.895 + dx, 28.68 + dy) for dx, dy in deltas]
    geoms = points(coords)
    query = parse_geoquery(georel, "Polygon", json.dumps(CENTRE_BOX))
    assert query is not None
    box = shapely.Polygon(CENTRE_BOX[0])
    expected = [getattr(shapely, georel)(g, box) for g in geoms]
    assert filter_geo(geoms, query).tolist() == expected
    assert filter_geo(geoms, query, shapely.STRtree(geoms)).tolist() == expected


# ---- entity predicates ----------------------------------------------------------------------


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def test_entity_predicate_uses_the_geoproperty_and_any_instance() -> None:
    query = near(*BAYI_SQUARE, "near;maxDistance==1500")
    predicate = compile_geoquery(query, expand)
    assert predicate(entity(location=geo(_point(*TENGWANG_PAVILION))))
    assert not predicate(entity(location=geo(_point(116.0, 28.68))))
    assert not predicate(entity(other=geo(_point(*BAYI_SQUARE))))
    two = [
        geo(_point(116.0, 28.68)),
        Attribute(AttrKind.GEO_PROPERTY, _point(*BAYI_SQUARE), dataset_id="urn:d"),
    ]
    assert predicate(entity(location=two))
    assert not predicate(entity(location=geo({"type": "Point", "coordinates": "bad"})))
    by_area = parse_geoquery("intersects", "Polygon", json.dumps(CENTRE_BOX), "area")
    assert by_area is not None
    polygon = {
        "type": "Polygon",
        "coordinates": [[[115.9, 28.68], [116, 28.68], [116, 28.7], [115.9, 28.68]]],
    }
    assert compile_geoquery(by_area, expand)(entity(area=geo(polygon)))


def test_batch_over_entities_agrees_with_the_predicate() -> None:
    rng = np.random.default_rng(7)
    coords = np.column_stack(
        [115.9 + rng.uniform(-0.03, 0.03, 200), 28.68 + rng.uniform(-0.03, 0.03, 200)]
    )
    population = [
        entity(f"urn:e:{i}", location=geo(_point(float(x), float(y))))
        for i, (x, y) in enumerate(coords)
    ]
    population.append(entity("urn:e:none", other=geo(_point(*BAYI_SQUARE))))
    population.append(
        entity(
            "urn:e:two",
            location=[geo(_point(117.0, 30.0)), geo(_point(*BAYI_SQUARE), dataset_id="urn:d")],
        )
    )
    for rel_, kind, coordinates in [
        ("near;maxDistance==1500", "Point", list(BAYI_SQUARE)),
        ("near;minDistance==1500", "Point", list(BAYI_SQUARE)),
        ("within", "Polygon", CENTRE_BOX),
        ("disjoint", "Polygon", CENTRE_BOX),
    ]:
        query = parse_geoquery(rel_, kind, json.dumps(coordinates))
        assert query is not None
        batch = filter_entities(population, query, expand)
        one_by_one = [compile_geoquery(query, expand)(e) for e in population]
        assert batch.tolist() == one_by_one
        assert not batch[-2]  # no location at all
    empty = near(*BAYI_SQUARE, "near;maxDistance==1")
    assert filter_entities([], empty, expand).tolist() == []
