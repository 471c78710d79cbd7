"""Geo: vectorised batches against the same functions called point by point.

Coordinate conversion (WGS-84 → GCJ-02) and point → (county, street, community, grid)
lookup on the demo city, for a batch of points in one call, with the per-point call of the
same function measured on a sample in the same run as the baseline (per point, scaled).
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.harness import Harness
from opencitybrain.citypack.loader import load_pack
from opencitybrain.geo.coords import wgs84_to_gcj02
from opencitybrain.geo.lookup import RegionLocator


def _points(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    # Over the demo city's road network bbox, where lookups are hardest (dense grids).
    rng = np.random.default_rng(seed)
    return rng.uniform(115.75, 115.99, n), rng.uniform(28.59, 28.74, n)


def run(h: Harness) -> None:
    """Measure batch coordinate conversion and region lookup against per-point calls."""
    n = 20_000 if h.quick else 1_000_000
    sample = 200 if h.quick else 5_000
    lon, lat = _points(n)

    t0 = time.perf_counter()
    for x, y in zip(lon[:sample].tolist(), lat[:sample].tolist(), strict=True):
        wgs84_to_gcj02(x, y)
    per_point = (time.perf_counter() - t0) / sample
    h.record(
        "geo coords",
        "per-point calls",
        1 / per_point,
        "points/s",
        higher_is_better=True,
        note=f"{sample:,} scalar calls",
    )
    best = h.time(lambda: wgs84_to_gcj02(lon, lat), repeat=3).best
    h.record(
        "geo coords",
        "wgs84→gcj02 batch",
        n / best,
        "points/s",
        higher_is_better=True,
        baseline="per-point calls",
        note=f"{n:,} points in one call",
    )

    pack = load_pack("nanchang")
    assert pack.divisions is not None
    locator = RegionLocator(pack.counties, pack.divisions)
    t0 = time.perf_counter()
    for x, y in zip(lon[:sample].tolist(), lat[:sample].tolist(), strict=True):
        locator.locate(np.array([x]), np.array([y]))
    per_point = (time.perf_counter() - t0) / sample
    h.record(
        "geo locate",
        "per-point calls",
        1 / per_point,
        "points/s",
        higher_is_better=True,
        note=f"{sample:,} single-point calls",
    )
    best = h.time(lambda: locator.locate(lon, lat), repeat=3).best
    found = locator.locate(lon, lat)
    h.record(
        "geo locate",
        "batch locate",
        n / best,
        "points/s",
        higher_is_better=True,
        baseline="per-point calls",
        note=f"{n:,} points → county/street/community/grid; "
        f"{(found.grid != '').mean():.0%} in a grid",
    )
