"""Tests for generated streets, communities and the grid, on real Nanchang data."""

from __future__ import annotations

import json
import re
import time

import numpy as np
import pytest
import shapely

from opencitybrain.geo.divisions import Divisions, build_divisions
from opencitybrain.geo.gridcells import MAX_GRIDS_PER_COMMUNITY
from opencitybrain.geo.regions import Region
from opencitybrain.kernel.errors import InvalidInput

from .nanchang_data import (
    nanchang_counties,
    nanchang_counties_aligned,
    nanchang_divisions,
    nanchang_roads,
)


@pytest.fixture(scope="module")
def divisions() -> Divisions:
    return nanchang_divisions()


def _metres(divisions: Divisions, regions: list[Region]) -> np.ndarray:
    return divisions.projection.project(np.array([r.geometry for r in regions], dtype=object))


def _assert_tiles(divisions: Divisions, parent: Region, children: list[Region]) -> None:
    """Children cover the parent (to 1 m²) and do not overlap (to 1 m²)."""
    parent_m = divisions.projection.project(parent.geometry)
    children_m = _metres(divisions, children)
    union = shapely.union_all(children_m)
    assert shapely.symmetric_difference(union, parent_m).area < 1.0, parent.code
    assert float(np.sum(shapely.area(children_m))) - union.area < 1.0, parent.code
    assert all(c.geometry.is_valid for c in children)


def test_streets_tile_each_county(divisions: Divisions) -> None:
    for county in divisions.counties:
        streets = [s for s in divisions.streets if s.parent_code == county.code]
        assert streets, county.code
        _assert_tiles(divisions, county, streets)


def test_communities_tile_each_street(divisions: Divisions) -> None:
    for street in divisions.streets:
        communities = [c for c in divisions.communities if c.parent_code == street.code]
        assert communities, street.code
        _assert_tiles(divisions, street, communities)


def test_codes_and_names(divisions: Divisions) -> None:
    county_names = {c.code: c.name_zh for c in divisions.counties}
    for county in divisions.counties:
        codes = [s.code for s in divisions.streets if s.parent_code == county.code]
        # Sequential three-digit numbers from 001 within each county.
        assert codes == [f"{county.code}{i:03d}" for i in range(1, len(codes) + 1)]
    for street in divisions.streets:
        assert re.fullmatch(r"\d{9}", street.code)
        number = int(street.code[6:])
        assert street.name_zh == f"{county_names[street.code[:6]]}第{number:02d}街道"
        assert street.level == "street"
    streets = {s.code: s for s in divisions.streets}
    for community in divisions.communities:
        assert re.fullmatch(r"\d{12}", community.code)
        assert community.parent_code == community.code[:9]
        assert community.level == "community"
        number = int(community.code[9:])
        assert community.name_zh == f"{streets[community.code[:9]].name_zh}第{number:02d}社区"
    assert len({c.code for c in divisions.communities}) == len(divisions.communities)


def test_sizes_follow_land_use(divisions: Divisions) -> None:
    counts = divisions.counts()
    assert counts["counties"] == 9
    # Real Nanchang has ~120 streets and towns; a few hundred to a few thousand communities.
    assert 60 <= counts["streets"] <= 250
    assert 300 <= counts["communities"] <= 3000
    area = shapely.area(divisions.communities_m()) / 1e6
    grids = np.bincount(divisions.grids.community, minlength=len(area))
    built_up = grids * 0.01 / area > 0.5
    assert built_up.sum() >= 50
    # Built-up communities are small (~1-3 km²), countryside ones much larger.
    assert 1.0 <= np.median(area[built_up]) <= 3.0
    assert np.median(area[~built_up]) > 3 * np.median(area[built_up])


def test_urban_core_districts_get_several_small_streets(divisions: Divisions) -> None:
    # 东湖区, 西湖区 and 青云谱区 lie under the road network once the boundaries are aligned.
    for code in ("360102", "360103", "360104"):
        streets = [s for s in divisions.streets if s.parent_code == code]
        communities = [c for c in divisions.communities if c.code.startswith(code)]
        assert len(streets) >= 3, code
        areas = shapely.area(_metres(divisions, communities)) / 1e6
        assert 1.0 <= np.median(areas) <= 3.0, code


def test_grid_codes_and_numbering(divisions: Divisions) -> None:
    table = divisions.grids
    assert 10_000 < len(table) < 60_000
    assert np.all(np.char.str_len(table.code) == 15)
    community_codes = np.array([c.code for c in divisions.communities])
    assert np.all(np.char.startswith(table.code, community_codes[table.community]))
    assert len(np.unique(table.code)) == len(table)
    per_community = np.bincount(table.community)
    assert per_community.max() <= MAX_GRIDS_PER_COMMUNITY
    numbers = np.char.ljust(table.code, 15).astype("<U15")
    numbers = np.array([int(code[12:]) for code in numbers])
    for index in np.unique(table.community)[::25]:
        rows = np.flatnonzero(table.community == index)
        # Numbered 1..n, north to south by row, west to east within a row.
        assert numbers[rows].tolist() == list(range(1, len(rows) + 1))
        key = list(zip(-table.row[rows], table.col[rows], strict=True))
        assert key == sorted(key)


def test_grid_cells_are_100_m_and_inside_their_community(divisions: Divisions) -> None:
    table = divisions.grids
    whole = np.flatnonzero(~table.split)[::97]
    areas = shapely.area(divisions.projection.project(divisions.grid_polygons(whole)))
    np.testing.assert_allclose(areas, 10_000.0, rtol=1e-6)
    split = np.flatnonzero(table.split)[::53]
    assert np.all(shapely.area(divisions.projection.project(divisions.grid_polygons(split))) > 0)
    # Every grid's reference point lies in its own community.
    geoms = np.array([c.geometry for c in divisions.communities], dtype=object)
    inside = shapely.intersects_xy(geoms[table.community], table.lon, table.lat)
    assert inside.all()


def test_split_cells_share_their_square_between_communities(divisions: Divisions) -> None:
    table = divisions.grids
    keys, counts = np.unique(np.stack((table.col, table.row)), axis=1, return_counts=True)
    assert counts.max() > 1
    shared = keys[:, counts > 1][:, 0]
    rows = np.flatnonzero((table.col == shared[0]) & (table.row == shared[1]))
    assert table.split[rows].all()
    assert len(set(table.community[rows].tolist())) == len(rows)


def test_deterministic_per_seed_and_fast(divisions: Divisions) -> None:
    start = time.perf_counter()
    again = build_divisions(nanchang_counties_aligned(), nanchang_roads(), seed=0)
    elapsed = time.perf_counter() - start
    assert elapsed < 15.0  # the brief allows ~10 s on two cores; ~2 s measured
    assert [c.code for c in again.communities] == [c.code for c in divisions.communities]
    assert all(
        shapely.equals_exact(a.geometry, b.geometry, tolerance=0.0)
        for a, b in zip(again.communities, divisions.communities, strict=True)
    )
    np.testing.assert_array_equal(again.grids.code, divisions.grids.code)
    other = build_divisions(nanchang_counties_aligned(), nanchang_roads(), seed=1)
    assert not all(
        shapely.equals_exact(a.geometry, b.geometry, tolerance=0.0)
        for a, b in zip(other.streets, divisions.streets, strict=False)
    )


def test_geojson_helpers(divisions: Divisions) -> None:
    for level, expected in (("county", 9), ("street", len(divisions.streets))):
        collection = divisions.to_geojson(level)  # type: ignore[arg-type]
        assert collection["type"] == "FeatureCollection"
        assert len(collection["features"]) == expected
    communities = divisions.to_geojson("community")
    feature = communities["features"][0]
    assert feature["properties"]["level"] == "community"
    assert feature["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    json.dumps(communities)  # plain dicts and lists only
    lon, lat = divisions.grids.lon[0], divisions.grids.lat[0]
    bbox = (lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01)
    grids = divisions.grids_geojson(bbox, max_features=50)
    assert len(grids["features"]) == 50
    assert grids["truncated"] is True
    assert grids["total"] > 50
    assert re.fullmatch(r"\d{15}", grids["features"][0]["properties"]["code"])
    json.dumps(grids)
    with pytest.raises(InvalidInput):
        divisions.grids_geojson((1.0, 1.0, 0.0, 0.0))
    with pytest.raises(InvalidInput):
        divisions.regions("province")  # type: ignore[arg-type]


def test_bad_inputs() -> None:
    with pytest.raises(InvalidInput):
        build_divisions([], [])
    county = nanchang_counties()[0]
    with pytest.raises(InvalidInput):
        build_divisions([county, county], [])


def test_county_without_roads_still_partitions() -> None:
    # 安义县 with no roads: all countryside, a handful of large streets, no grids.
    county = next(c for c in nanchang_counties() if c.code == "360123")
    result = build_divisions([county], [], seed=3)
    assert len(result.grids) == 0
    assert 3 <= len(result.streets) <= 15
    _assert_tiles(result, county, list(result.streets))


def test_over_full_communities_are_split_below_999_grids(monkeypatch: pytest.MonkeyPatch) -> None:
    # An 8 km square county wholly built up (roads every 250 m) and a community target
    # far too large: the first pass gives one community of ~6,400 grids, which must be
    # re-split until every community has at most 999.
    import opencitybrain.geo.divisions as module

    monkeypatch.setattr(module, "URBAN_STREET_KM2", 500.0)
    monkeypatch.setattr(module, "URBAN_COMMUNITY_KM2", 500.0)
    lon0, lat0, size = 115.85, 28.65, 0.08
    county = Region(
        "360102", "东湖区", "county", "360100", shapely.box(lon0, lat0, lon0 + size, lat0 + size)
    )
    steps = np.arange(0.0, size + 1e-9, 0.0025)
    roads = [np.array([[lon0 + s, lat0], [lon0 + s, lat0 + size]]) for s in steps]
    roads += [np.array([[lon0, lat0 + s], [lon0 + size, lat0 + s]]) for s in steps]
    result = build_divisions([county], roads)
    per_community = np.bincount(result.grids.community)
    assert len(result.communities) >= 7
    assert per_community.max() <= MAX_GRIDS_PER_COMMUNITY
    assert per_community.sum() == len(result.grids) > 6000
    street = result.streets[0]
    _assert_tiles(result, street, [c for c in result.communities if c.parent_code == street.code])
