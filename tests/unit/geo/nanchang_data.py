"""Real Nanchang and Zhengzhou data for the geo tests, loaded once per test run."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from opencitybrain.geo.divisions import Divisions, build_divisions
from opencitybrain.geo.regions import Region, load_counties, shifted

ROOT = Path(__file__).resolve().parents[3]
PACK = ROOT / "src" / "opencitybrain" / "citypack" / "packs" / "nanchang"
NANCHANG_ADMIN = PACK / "admin_360100.json"
NANCHANG_ROADNET = PACK / "roadnet_cbengine.txt"
ZHENGZHOU_ADMIN = ROOT / "tests" / "fixtures" / "zhengzhou" / "admin_410100.json"
# The admin polygons sit ~0.125° east and ~0.132° north of the WGS-84 road network; the
# Nanchang city pack (citypack/packs/nanchang/pack.toml) moves them back by this much.
NANCHANG_SHIFT = (-0.125, -0.132)


@cache
def nanchang_counties() -> tuple[Region, ...]:
    """Return Nanchang's county-level regions."""
    return tuple(load_counties(NANCHANG_ADMIN, "360100"))


@cache
def nanchang_counties_aligned() -> tuple[Region, ...]:
    """Return Nanchang's counties moved onto the road network, as the city pack does."""
    return tuple(shifted(nanchang_counties(), *NANCHANG_SHIFT))


@cache
def nanchang_roads() -> tuple[NDArray[np.float64], ...]:
    """Return Nanchang's roads as straight lon/lat segments between intersections.

    A minimal CBEngine reader: N, then N lines ``lat lon id signalized``; then M, then
    per road one line ``from to length speed lanes lanes id id`` and two lane lines.
    """
    lines = NANCHANG_ROADNET.read_text().split("\n")
    n = int(lines[0])
    position: dict[str, tuple[float, float]] = {}
    for line in lines[1 : n + 1]:
        lat, lon, inter_id = line.split()[:3]
        position[inter_id] = (float(lon), float(lat))
    m = int(lines[n + 1])
    roads = []
    for k in range(m):
        start, end = lines[n + 2 + 3 * k].split()[:2]
        roads.append(np.array([position[start], position[end]], dtype=np.float64))
    return tuple(roads)


@cache
def nanchang_divisions() -> Divisions:
    """Return Nanchang's generated divisions (seed 0), built once per test run."""
    return build_divisions(nanchang_counties_aligned(), nanchang_roads(), seed=0)
