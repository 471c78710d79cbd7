"""A fake point locator for block tests: a 2×2 city of four counties on a lon/lat square.

County = quadrant, street = tenth of a degree column, community = row, grid = hundredth.
Codes nest by prefix exactly as real ones do, so drill-down sums can be checked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

COUNTIES = ("360102", "360103", "360104", "360111")


@dataclass
class FakeLocated:
    county: NDArray[np.str_]
    street: NDArray[np.str_]
    community: NDArray[np.str_]
    grid: NDArray[np.str_]


class SquareLocator:
    """Locate points in [115, 117) × [28, 30): anything else is outside."""

    def locate(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> FakeLocated:
        inside = (lon >= 115) & (lon < 117) & (lat >= 28) & (lat < 30)
        q = (lon >= 116).astype(int) + 2 * (lat >= 29).astype(int)
        county = np.where(inside, np.array(COUNTIES)[q], "")
        fx = np.where(inside, np.floor((lon % 1) * 10), 0).astype(int)
        fy = np.where(inside, np.floor((lat % 1) * 10), 0).astype(int)
        gx = np.where(inside, np.floor((lon % 0.1) * 100), 0).astype(int)
        street = np.char.add(county, np.char.zfill(fx.astype(str), 3))
        community = np.char.add(street, np.char.zfill(fy.astype(str), 3))
        grid = np.char.add(community, np.char.zfill(gx.astype(str), 3))
        blank = ~inside
        street[blank] = ""
        community[blank] = ""
        grid[blank] = ""
        return FakeLocated(county, street, community, grid)
