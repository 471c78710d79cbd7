"""Tests for loading a city's counties from TopoJSON."""

from __future__ import annotations

import pytest
import shapely

from opencitybrain.geo.projection import LocalProjection
from opencitybrain.geo.regions import city_outline, load_counties, shifted
from opencitybrain.kernel.errors import InvalidInput, NotFound

from .nanchang_data import NANCHANG_ADMIN, ZHENGZHOU_ADMIN, nanchang_counties

NANCHANG_CODES = [
    "360102", "360103", "360104", "360105", "360111",
    "360112", "360121", "360123", "360124",
]  # fmt: skip


def test_nanchang_counties_only_own_codes_and_merged() -> None:
    counties = nanchang_counties()
    assert [c.code for c in counties] == NANCHANG_CODES
    assert all(c.level == "county" and c.parent_code == "360100" for c in counties)
    xinjian = next(c for c in counties if c.code == "360112")
    assert xinjian.name_zh == "新建区"
    # Its two pieces (north and south of 湾里区) become one region of two polygons.
    assert xinjian.geometry.geom_type == "MultiPolygon"
    assert len(xinjian.geometry.geoms) == 2
    assert all(c.geometry.is_valid for c in counties)


def test_counties_tile_the_city_outline() -> None:
    counties = nanchang_counties()
    outline = city_outline(counties)
    projection = LocalProjection.around(outline)
    total = sum(projection.project(c.geometry).area for c in counties)
    assert projection.project(outline).area == pytest.approx(total, rel=1e-6)
    assert 6800e6 < total < 7600e6


def test_zhengzhou_twelve_counties() -> None:
    counties = load_counties(ZHENGZHOU_ADMIN, "410100")
    assert len(counties) == 12
    assert {c.name_zh for c in counties} >= {"金水区", "中原区", "登封市"}
    assert shapely.union_all([c.geometry for c in counties]).is_valid


def test_bad_city_codes() -> None:
    with pytest.raises(InvalidInput):
        load_counties(NANCHANG_ADMIN, "3601")
    with pytest.raises(NotFound):
        load_counties(NANCHANG_ADMIN, "410100")
    with pytest.raises(InvalidInput):
        city_outline([])


def test_shifted_moves_every_vertex() -> None:
    counties = nanchang_counties()
    moved = shifted(counties, -0.125, -0.132)
    assert [c.code for c in moved] == [c.code for c in counties]
    for before, after in zip(counties, moved, strict=True):
        delta = shapely.get_coordinates(after.geometry) - shapely.get_coordinates(before.geometry)
        assert delta[:, 0] == pytest.approx(-0.125)
        assert delta[:, 1] == pytest.approx(-0.132)
        assert after.name_zh == before.name_zh
