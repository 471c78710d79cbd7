"""Convert between WGS-84, GCJ-02 (the Chinese "Mars" datum) and BD-09 (Baidu).

WGS-84 is what GPS receivers report and what the platform stores. GCJ-02 is the
obfuscated datum every map sold in China must use (AMap, Tencent, Google China); BD-09
is Baidu's extra shift on top of GCJ-02. The forward WGS-84 -> GCJ-02 formula is the
published one (Krasovsky 1940 ellipsoid constants); it has no closed-form inverse, so
GCJ-02 -> WGS-84 is solved by fixed-point iteration. Points outside China's bounding
box are left unchanged by the forward transform, as the published algorithm does.

Every function takes ``(lon, lat)`` in that order, as floats or numpy arrays of the
same shape, and returns the same kind it was given.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "out_of_china",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

Coord = TypeVar("Coord", float, NDArray[np.float64])

# Semi-major axis and squared eccentricity of the Krasovsky 1940 ellipsoid, which the
# GCJ-02 formula uses in place of WGS-84's.
_A = 6378245.0
_EE = 0.00669342162296594323
# Baidu's angular constant: pi * 3000 / 180.
_X_PI = np.pi * 3000.0 / 180.0
# Inverse transforms stop once the forward image is this close to the target (degrees).
# The shifts' Jacobians differ from the identity by under 0.02, so the step taken after
# this check shrinks the error at least fifty-fold: results are within ~2e-10 degrees,
# far below the 1e-7 deg (~1 cm) the platform promises.
_TOLERANCE = 1e-8
_MAX_ITERATIONS = 30


def _as_arrays(lon: Any, lat: Any) -> tuple[NDArray[np.float64], NDArray[np.float64], bool]:
    """Return float arrays of at least one dimension, and whether scalars came in."""
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    if lon_a.shape != lat_a.shape:
        lon_a, lat_a = np.broadcast_arrays(lon_a, lat_a)
    scalar = lon_a.ndim == 0
    # In-place numpy updates need real arrays, so scalars travel as one-element arrays.
    return np.atleast_1d(lon_a), np.atleast_1d(lat_a), scalar


def _wrap(lon: NDArray[np.float64], lat: NDArray[np.float64], scalar: bool) -> tuple[Any, Any]:
    if scalar:
        return float(lon[0]), float(lat[0])
    return lon, lat


def out_of_china(lon: Coord, lat: Coord) -> Any:
    """Return True where a point lies outside the box the GCJ-02 shift applies to."""
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    outside = (lon_a < 72.004) | (lon_a > 137.8347) | (lat_a < 0.8293) | (lat_a > 55.8271)
    return bool(outside[0]) if scalar else outside


def _sin_pi(values: NDArray[np.float64], factor: float) -> NDArray[np.float64]:
    """Return sin(pi * factor * values) with one temporary."""
    result = values * (np.pi * factor)
    return np.sin(result, out=result)


def _gcj_offset(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return the GCJ-02 shift (dlon, dlat) in degrees at WGS-84 points, zero outside China.

    The published polynomial-plus-sines formula, written with in-place updates: on a
    million points, numpy temporaries cost as much as the sines themselves.
    """
    x = lon - 105.0
    y = lat - 35.0
    xy = x * y
    sqrt_abs_x = np.sqrt(np.abs(x))
    # The periodic terms shared by both axes: (20 sin 6πx + 20 sin 2πx) * 2/3.
    common = _sin_pi(x, 6.0)
    common += _sin_pi(x, 2.0)
    common *= 40.0 / 3.0
    dlat = 2.0 * x
    dlat += 3.0 * y
    dlat += 0.2 * y * y
    dlat += 0.1 * xy
    dlat += 0.2 * sqrt_abs_x
    dlat += common - 100.0
    dlat += _sin_pi(y, 1.0) * (40.0 / 3.0) + _sin_pi(y, 1.0 / 3.0) * (80.0 / 3.0)
    dlat += _sin_pi(y, 1.0 / 12.0) * (320.0 / 3.0) + _sin_pi(y, 1.0 / 30.0) * (640.0 / 3.0)
    dlon = x + 2.0 * y
    dlon += 0.1 * x * x
    dlon += 0.1 * xy
    dlon += 0.1 * sqrt_abs_x
    dlon += common + 300.0
    dlon += _sin_pi(x, 1.0) * (40.0 / 3.0) + _sin_pi(x, 1.0 / 3.0) * (80.0 / 3.0)
    dlon += _sin_pi(x, 1.0 / 12.0) * 100.0 + _sin_pi(x, 1.0 / 30.0) * 200.0
    # The shifts above are in metres on the Krasovsky ellipsoid; turn them into degrees.
    rad_lat = np.radians(lat)
    sin_lat = np.sin(rad_lat)
    magic = 1.0 - _EE * sin_lat * sin_lat
    sqrt_magic = np.sqrt(magic)
    dlat *= magic * sqrt_magic * (180.0 / (_A * (1.0 - _EE) * np.pi))
    dlon *= sqrt_magic * (180.0 / (_A * np.pi)) / np.cos(rad_lat)
    outside = out_of_china(lon, lat)
    if np.any(outside):
        dlon[outside] = 0.0
        dlat[outside] = 0.0
    return dlon, dlat


def _wgs_to_gcj(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def _gcj_to_bd(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _invert(
    forward: Any,
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    guess_lon: NDArray[np.float64],
    guess_lat: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Solve forward(p) = target by fixed-point iteration from a first guess.

    Both shifts are close to translations (their Jacobians differ from the identity by
    about 1e-3), so each step shrinks the error about a thousandfold; three or four steps
    reach machine precision. The whole array is iterated at once: fewer numpy calls beat
    shrinking the working set.
    """
    out_lon, out_lat = guess_lon.copy(), guess_lat.copy()
    for _ in range(_MAX_ITERATIONS):
        f_lon, f_lat = forward(out_lon, out_lat)
        err_lon = f_lon - lon
        err_lat = f_lat - lat
        out_lon -= err_lon
        out_lat -= err_lat
        worst = np.fmax(np.abs(err_lon), np.abs(err_lat))
        # NaN inputs stay NaN; they must not keep the loop running.
        if worst.size == 0 or not np.nanmax(worst, initial=0.0) > _TOLERANCE:
            break
    return out_lon, out_lat


def wgs84_to_gcj02(lon: Coord, lat: Coord) -> tuple[Coord, Coord]:
    """Convert WGS-84 to GCJ-02; points outside China come back unchanged."""
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    return cast("tuple[Coord, Coord]", _wrap(*_wgs_to_gcj(lon_a, lat_a), scalar))


def gcj02_to_wgs84(lon: Coord, lat: Coord) -> tuple[Coord, Coord]:
    """Convert GCJ-02 to WGS-84 by iterating the forward shift to about 1e-10 degrees."""
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    dlon, dlat = _gcj_offset(lon_a, lat_a)
    result = _invert(_wgs_to_gcj, lon_a, lat_a, lon_a - dlon, lat_a - dlat)
    return cast("tuple[Coord, Coord]", _wrap(*result, scalar))


def gcj02_to_bd09(lon: Coord, lat: Coord) -> tuple[Coord, Coord]:
    """Convert GCJ-02 to BD-09 (Baidu)."""
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    return cast("tuple[Coord, Coord]", _wrap(*_gcj_to_bd(lon_a, lat_a), scalar))


def bd09_to_gcj02(lon: Coord, lat: Coord) -> tuple[Coord, Coord]:
    """Convert BD-09 (Baidu) to GCJ-02, refining Baidu's approximate inverse by iteration."""
    lon_a, lat_a, scalar = _as_arrays(lon, lat)
    # Baidu's published inverse is only good to about 1e-6 degrees; it is the first guess.
    x = lon_a - 0.0065
    y = lat_a - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    result = _invert(_gcj_to_bd, lon_a, lat_a, z * np.cos(theta), z * np.sin(theta))
    return cast("tuple[Coord, Coord]", _wrap(*result, scalar))


def wgs84_to_bd09(lon: Coord, lat: Coord) -> tuple[Coord, Coord]:
    """Convert WGS-84 to BD-09 (Baidu) through GCJ-02."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: Coord, lat: Coord) -> tuple[Coord, Coord]:
    """Convert BD-09 (Baidu) to WGS-84 through GCJ-02."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
