"""Tests for the local UTM projection."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from opencitybrain.geo.projection import LocalProjection, utm_epsg
from opencitybrain.kernel.errors import InvalidInput


def test_zone_of_nanchang_and_zhengzhou() -> None:
    assert utm_epsg(115.89, 28.68) == 32650  # Nanchang, zone 50N (114°E-120°E)
    assert utm_epsg(113.65, 34.76) == 32649  # Zhengzhou, zone 49N
    assert utm_epsg(151.2, -33.9) == 32756  # Sydney, southern hemisphere
    with pytest.raises(InvalidInput):
        utm_epsg(0.0, 89.0)


def test_known_utm_coordinates() -> None:
    # The central meridian of zone 50 (117°E) on the equator is easting 500 km exactly.
    projection = LocalProjection(115.89, 28.68)
    x, y = projection.to_metres(117.0, 0.0)
    assert float(x) == pytest.approx(500_000.0, abs=1e-6)
    assert float(y) == pytest.approx(0.0, abs=1e-6)


def test_one_degree_of_latitude_is_about_111_km() -> None:
    projection = LocalProjection(115.89, 28.68)
    _, y = projection.to_metres(np.array([115.89, 115.89]), np.array([28.0, 29.0]))
    assert y[1] - y[0] == pytest.approx(110_860, rel=2e-3)


def test_geometry_round_trip_and_area() -> None:
    projection = LocalProjection(115.89, 28.68)
    square = shapely.box(115.88, 28.67, 115.89, 28.68)
    metres = projection.project(square)
    # 0.01° × 0.01° at 28.7°N is about 977 m × 1109 m.
    assert metres.area == pytest.approx(977 * 1109, rel=0.01)
    back = projection.unproject(metres)
    np.testing.assert_allclose(
        shapely.get_coordinates(back), shapely.get_coordinates(square), atol=1e-9
    )
    many = projection.project(np.array([square, square]))
    assert many.shape == (2,)


@settings(max_examples=200, deadline=None)
@given(
    lon=st.floats(min_value=115.0, max_value=117.0, allow_nan=False),
    lat=st.floats(min_value=28.0, max_value=29.5, allow_nan=False),
)
def test_round_trip(lon: float, lat: float) -> None:
    projection = LocalProjection(115.89, 28.68)
    back_lon, back_lat = projection.to_lonlat(*projection.to_metres(lon, lat))
    assert float(back_lon) == pytest.approx(lon, abs=1e-9)
    assert float(back_lat) == pytest.approx(lat, abs=1e-9)
