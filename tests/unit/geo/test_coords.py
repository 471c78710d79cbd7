"""Tests for WGS-84 / GCJ-02 / BD-09 conversions against published coordinate pairs."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencitybrain.geo.coords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    out_of_china,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

TOL = 1e-5  # degrees, about 1 m

# (wgs lon, wgs lat, gcj lon, gcj lat)
WGS_GCJ_PAIRS = [
    # googollee/eviltransform, python/test.py (TESTS): Shanghai, Shenzhen, Beijing.
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),
    # wandergis/coordtransform, test/app.js: wgs84togcj02(116.404, 39.915).
    (116.404, 39.915, 116.41024449916938, 39.91640428150164),
    # madlogos/asesgeo, tests/testthat/test_tranform_coord.R ("wgs 2 gcj", in1/out1).
    (116.39089, 39.90734, 116.39713094, 39.90874107),
    # The same file's value from the online API (out1_), not the formula.
    (116.39089, 39.90734, 116.39713623, 39.90874539),
    # madlogos/asesgeo, tests/testthat/test_conv_coord.R: Baidu geoconv API answer
    # for WGS-84 (39.90105, 116.42079) converted to GCJ-02.
    (116.42079, 39.90105, 116.42702745, 39.90245063),
]

# (gcj lon, gcj lat, bd lon, bd lat)
GCJ_BD_PAIRS = [
    # wandergis/coordtransform, test/app.js: gcj02tobd09(116.404, 39.915).
    (116.404, 39.915, 116.41036949371029, 39.92133699351021),
    # wandergis/coordtransform, test/app.js: bd09togcj02(116.404, 39.915).
    (116.39762729119315, 39.90865673957631, 116.404, 39.915),
    # madlogos/asesgeo, tests/testthat/test_tranform_coord.R ("gcj 2 bd" and "bd 2 gcj").
    (116.397131, 39.908746, 116.40350426, 39.91508839),
    (116.39712692, 39.90874808, 116.40350, 39.91509),
]


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), WGS_GCJ_PAIRS)
def test_wgs_gcj_published_pairs(wlon: float, wlat: float, glon: float, glat: float) -> None:
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    assert lon == pytest.approx(glon, abs=TOL)
    assert lat == pytest.approx(glat, abs=TOL)
    back_lon, back_lat = gcj02_to_wgs84(glon, glat)
    assert back_lon == pytest.approx(wlon, abs=TOL)
    assert back_lat == pytest.approx(wlat, abs=TOL)


@pytest.mark.parametrize(("glon", "glat", "blon", "blat"), GCJ_BD_PAIRS)
def test_gcj_bd_published_pairs(glon: float, glat: float, blon: float, blat: float) -> None:
    lon, lat = gcj02_to_bd09(glon, glat)
    assert lon == pytest.approx(blon, abs=TOL)
    assert lat == pytest.approx(blat, abs=TOL)
    back_lon, back_lat = bd09_to_gcj02(blon, blat)
    assert back_lon == pytest.approx(glon, abs=TOL)
    assert back_lat == pytest.approx(glat, abs=TOL)


def test_formula_pair_matches_to_many_digits() -> None:
    # The published formula output is reproduced to float precision, not merely 1 m.
    lon, lat = wgs84_to_gcj02(121.5272106, 31.1774276)
    assert abs(lon - 121.531541859215) < 1e-12
    assert abs(lat - 31.17530398364597) < 1e-12


def test_wgs_to_bd_goes_through_gcj() -> None:
    lon, lat = wgs84_to_bd09(116.404, 39.915)
    expected = gcj02_to_bd09(*wgs84_to_gcj02(116.404, 39.915))
    assert (lon, lat) == expected
    back = bd09_to_wgs84(lon, lat)
    assert back[0] == pytest.approx(116.404, abs=1e-9)
    assert back[1] == pytest.approx(39.915, abs=1e-9)


def test_outside_china_is_unchanged() -> None:
    # Tokyo and London lie outside the box, so the shift is not applied.
    assert out_of_china(139.7, 35.7)
    assert out_of_china(-0.1, 51.5)
    assert not out_of_china(115.89, 28.68)
    assert wgs84_to_gcj02(139.7, 35.7) == (139.7, 35.7)
    assert gcj02_to_wgs84(-0.1, 51.5) == (-0.1, 51.5)
    mask = out_of_china(np.array([139.7, 115.89]), np.array([35.7, 28.68]))
    assert mask.tolist() == [True, False]


def test_scalars_in_scalars_out_arrays_keep_shape() -> None:
    lon, lat = wgs84_to_gcj02(115.89, 28.68)
    assert isinstance(lon, float)
    assert isinstance(lat, float)
    grid_lon = np.full((3, 4), 115.89)
    grid_lat = np.full((3, 4), 28.68)
    out_lon, out_lat = gcj02_to_wgs84(grid_lon, grid_lat)
    assert out_lon.shape == (3, 4)
    assert out_lat.shape == (3, 4)
    assert np.all(out_lon == out_lon[0, 0])


def test_nan_propagates_without_stalling() -> None:
    lon, lat = gcj02_to_wgs84(np.array([np.nan, 115.89]), np.array([28.68, 28.68]))
    assert np.isfinite(lat[1])
    assert np.isnan(lon[0])
    assert np.isfinite(lon[1])


china_lon = st.floats(min_value=73.0, max_value=135.0, allow_nan=False)
china_lat = st.floats(min_value=18.0, max_value=53.5, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(lon=china_lon, lat=china_lat)
def test_wgs_gcj_round_trip(lon: float, lat: float) -> None:
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert abs(back_lon - lon) < 1e-6
    assert abs(back_lat - lat) < 1e-6


@settings(max_examples=300, deadline=None)
@given(lon=china_lon, lat=china_lat)
def test_gcj_bd_round_trip(lon: float, lat: float) -> None:
    back_lon, back_lat = bd09_to_gcj02(*gcj02_to_bd09(lon, lat))
    assert abs(back_lon - lon) < 1e-6
    assert abs(back_lat - lat) < 1e-6


@settings(max_examples=100, deadline=None)
@given(lon=china_lon, lat=china_lat)
def test_shift_is_real_but_small(lon: float, lat: float) -> None:
    # The GCJ-02 shift is a few hundred metres at most: never zero inside China, never huge.
    glon, glat = wgs84_to_gcj02(lon, lat)
    shift = max(abs(glon - lon), abs(glat - lat))
    assert 0.0 < shift < 0.02


def test_million_points_vectorised() -> None:
    rng = np.random.default_rng(7)
    lon = rng.uniform(73.0, 135.0, 1_000_000)
    lat = rng.uniform(18.0, 53.5, 1_000_000)
    start = time.perf_counter()
    glon, glat = wgs84_to_gcj02(lon, lat)
    forward_s = time.perf_counter() - start
    start = time.perf_counter()
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    inverse_s = time.perf_counter() - start
    assert np.max(np.abs(wlon - lon)) < 1e-7
    assert np.max(np.abs(wlat - lat)) < 1e-7
    # A per-point Python loop takes tens of seconds for a million points.
    assert forward_s < 3.0
    assert inverse_s < 8.0
