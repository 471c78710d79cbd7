"""Tests for the vectorised region and grid lookup."""

from __future__ import annotations

import time

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from opencitybrain.geo.divisions import build_divisions
from opencitybrain.geo.lookup import RegionLocator
from opencitybrain.geo.regions import load_counties
from opencitybrain.kernel.errors import InvalidInput

from .nanchang_data import ZHENGZHOU_ADMIN, nanchang_counties_aligned, nanchang_divisions


@pytest.fixture(scope="module")
def locator() -> RegionLocator:
    return _locator()


_cached: list[RegionLocator] = []


def _locator() -> RegionLocator:
    if not _cached:
        _cached.append(RegionLocator(nanchang_counties_aligned(), nanchang_divisions()))
    return _cached[0]


def _assert_consistent(lon: np.ndarray, lat: np.ndarray) -> None:
    found = _locator().locate(lon, lat)
    for code, parent, width in (
        (found.grid, found.community, 12),
        (found.community, found.street, 9),
        (found.street, found.county, 6),
    ):
        present = code != ""
        # Where a finer code is known, its prefix is the coarser code.
        assert np.all(np.char.str_len(code[present]) == width + 3)
        # Casting to a narrower string dtype keeps the first `width` characters.
        assert np.array_equal(code[present].astype(f"<U{width}"), parent[present])


def test_every_grid_reference_point_finds_its_own_grid(locator: RegionLocator) -> None:
    table = nanchang_divisions().grids
    found = locator.locate(table.lon, table.lat)
    np.testing.assert_array_equal(found.grid, table.code)
    assert np.all(np.char.startswith(found.grid, found.community))


def test_matches_a_brute_force_polygon_test(locator: RegionLocator) -> None:
    divisions = nanchang_divisions()
    rng = np.random.default_rng(11)
    x0, y0, x1, y1 = shapely.total_bounds([c.geometry for c in divisions.counties])
    lon = rng.uniform(x0 - 0.05, x1 + 0.05, 20_000)
    lat = rng.uniform(y0 - 0.05, y1 + 0.05, 20_000)
    found = locator.locate(lon, lat)
    expected = np.full(len(lon), "", dtype="<U12")
    for community in divisions.communities:
        expected[shapely.contains_xy(community.geometry, lon, lat)] = community.code
    np.testing.assert_array_equal(found.community, expected)
    county = np.full(len(lon), "", dtype="<U6")
    for region in divisions.counties:
        county[shapely.contains_xy(region.geometry, lon, lat)] = region.code
    np.testing.assert_array_equal(found.county, county)
    assert 0.3 < np.mean(found.county != "") < 0.9


def test_grid_codes_agree_with_cell_arithmetic(locator: RegionLocator) -> None:
    divisions = nanchang_divisions()
    rng = np.random.default_rng(5)
    table = divisions.grids
    pick = rng.choice(len(table), 2000, replace=False)
    # A point inside each chosen grid's polygon, computed afresh from its geometry.
    polygons = divisions.grid_polygons(pick)
    points = shapely.get_coordinates(shapely.point_on_surface(polygons))
    found = locator.locate(points[:, 0], points[:, 1])
    np.testing.assert_array_equal(found.grid, table.code[pick])


def test_outside_and_nan_points_are_blank(locator: RegionLocator) -> None:
    found = locator.locate(np.array([0.0, np.nan, 116.0]), np.array([0.0, 28.7, np.nan]))
    assert found.county.tolist() == ["", "", ""]
    assert found.grid.tolist() == ["", "", ""]
    assert len(found) == 3
    with pytest.raises(InvalidInput):
        locator.locate(np.zeros(3), np.zeros(2))


def test_countryside_has_communities_but_no_grid(locator: RegionLocator) -> None:
    # The centre of 安义县, far from the CBEngine road network.
    found = locator.locate(np.array([115.587]), np.array([28.83]))
    assert found.county[0] == "360123"
    assert found.community[0].startswith("360123")
    assert found.grid[0] == ""


def test_rejects_counties_it_was_not_built_from() -> None:
    with pytest.raises(InvalidInput):
        RegionLocator(nanchang_counties_aligned()[:3], nanchang_divisions())


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=115.4, max_value=116.6, allow_nan=False),
            st.floats(min_value=28.1, max_value=29.2, allow_nan=False),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_codes_are_prefix_consistent(points: list[tuple[float, float]]) -> None:
    lon, lat = np.array(points).T
    _assert_consistent(lon, lat)


def test_consistent_on_the_road_network_area() -> None:
    rng = np.random.default_rng(3)
    lon = rng.uniform(115.75, 115.99, 200_000)
    lat = rng.uniform(28.595, 28.74, 200_000)
    _assert_consistent(lon, lat)


def test_million_points_within_three_seconds(locator: RegionLocator) -> None:
    rng = np.random.default_rng(1)
    n = 1_000_000
    # Half over the built-up road network, half over the whole city's bounding box.
    lon = np.concatenate((rng.uniform(115.75, 115.99, n // 2), rng.uniform(115.4, 116.6, n // 2)))
    lat = np.concatenate((rng.uniform(28.595, 28.74, n // 2), rng.uniform(28.15, 29.13, n // 2)))
    best = np.inf
    for _ in range(2):
        # CPU time: on a machine shared with other jobs the wall clock counts their turns
        # too (CI measured 4.9 s wall at load 6 for what takes about a second of CPU).
        start = time.process_time()
        found = locator.locate(lon, lat)
        best = min(best, time.process_time() - start)
    assert len(found) == n
    assert np.mean(found.grid != "") > 0.2
    # Measured ~0.7-1.5 s on two shared cores; the brief asks for about 3 s.
    assert best < 3.0


def test_city_without_roads_has_no_grids_but_locates() -> None:
    counties = load_counties(ZHENGZHOU_ADMIN, "410100")
    divisions = build_divisions(counties, [])
    locator = RegionLocator(counties, divisions)
    # 二七广场 in central Zhengzhou lies in 二七区 (410103).
    found = locator.locate(np.array([113.665, 0.0]), np.array([34.753, 0.0]))
    assert found.county.tolist() == ["410103", ""]
    assert found.community[0].startswith("410103")
    assert found.grid.tolist() == ["", ""]
