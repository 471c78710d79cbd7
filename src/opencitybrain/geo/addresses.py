"""A city's standard-address book (标准地址库): named roads per street and their door plates.

Chinese cities keep one register of valid addresses: each street (街道/镇) lists its roads,
each road its door plates. Here every road of the book is a real polyline inside its
street (``address_build.build_address_book`` cuts the city pack's road links by street and
names them) and its door plates are arithmetic along it: door pair k (numbers 2k-1 and 2k)
sits ``(k - 0.5) * SPACING_M`` from the road's start, odd numbers ``OFFSET_M`` to the left
of the road's direction, even numbers as far to the right. A road of length L has
``2 * floor(L / SPACING_M)`` door plates; higher numbers are not valid addresses.

The book is keyed by street code (9 digits) + road name, so a road name may repeat in
other streets, as it does in real cities. A book without lines (``lines=None``) names
roads and door plates but places none: the tests' small geography uses one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray

from opencitybrain.geo.projection import LocalProjection
from opencitybrain.kernel.errors import InvalidInput

__all__ = ["OFFSET_M", "SPACING_M", "AddressBook", "RoadLines"]

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]

SPACING_M = 10.0  # one pair of door plates (odd and even) every 10 m along a road
OFFSET_M = 5.0  # doors stand this far beside the road's centre line
# Consecutive roads are this far apart on the book's one running distance axis.
_GAP_M = 1.0


@dataclass(frozen=True, eq=False)
class RoadLines:
    """Road polylines in a local metric frame, CSR-style: vertices and offsets per road."""

    offsets: I64  # (roads + 1,): road r's vertices are offsets[r]:offsets[r+1]
    x: F64
    y: F64
    projection: LocalProjection

    def __post_init__(self) -> None:
        offsets = np.asarray(self.offsets, dtype=np.int64)
        ok = offsets.ndim == 1 and len(offsets) >= 1 and offsets[0] == 0
        ok = ok and offsets[-1] == len(self.x) == len(self.y)
        if not ok or (len(offsets) > 1 and (np.diff(offsets) < 2).any()):
            raise InvalidInput(
                "geo.addresses.bad_lines",
                "道路折线偏移与坐标不符或少于两点",
                "road line offsets do not match the vertices, or a road has < 2 vertices",
            )

    @cached_property
    def lengths(self) -> F64:
        """Return each road's length in metres."""
        seg = self._segments
        return np.add.reduceat(seg, self.offsets[:-1]) if len(seg) else np.zeros(0)

    @cached_property
    def _segments(self) -> F64:
        """Return the length of the segment that starts at each vertex (0 at a road's end)."""
        seg = np.hypot(np.diff(self.x), np.diff(self.y))
        seg = np.append(seg, 0.0)
        seg[self.offsets[1:] - 1] = 0.0  # a road's last vertex starts no segment
        return seg

    @cached_property
    def _axis(self) -> F64:
        """Return each vertex's distance along all roads laid end to end, with gaps."""
        seg = self._segments
        road = np.repeat(np.arange(len(self.offsets) - 1), np.diff(self.offsets))
        axis: F64 = np.concatenate([[0.0], np.cumsum(seg)[:-1]]) + road * _GAP_M
        return axis

    def points(self, road: I64, along: F64, side: F64) -> tuple[F64, F64]:
        """Return metre points ``along`` metres down each road, ``side`` metres to the left."""
        first = self.offsets[road]
        last_segment = self.offsets[road + 1] - 2
        axis = self._axis
        j = np.searchsorted(axis, axis[first] + along, side="right") - 1
        j = np.clip(j, first, last_segment)
        dx = self.x[j + 1] - self.x[j]
        dy = self.y[j + 1] - self.y[j]
        length = np.maximum(np.hypot(dx, dy), 1e-9)
        t = np.clip(along - (axis[j] - axis[first]), 0.0, None) / length
        x = self.x[j] + t * dx - side * dy / length
        y = self.y[j] + t * dy + side * dx / length
        return x, y


@dataclass(frozen=True, eq=False)
class AddressBook:
    """Roads by street (code, full street name, road name) and their door plates."""

    street: NDArray[np.str_]  # per road: the street's 9-digit code
    street_name: NDArray[np.str_]  # per road: the street's full name (东湖区第02街道)
    road: NDArray[np.str_]  # per road: its name, unique within its street
    doors: I64  # per road: the highest valid door number (numbers 1..doors)
    lines: RoadLines | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        n = len(self.road)
        sizes = {len(self.street), len(self.street_name), len(self.doors)}
        if sizes != {n} or (self.lines is not None and len(self.lines.offsets) != n + 1):
            raise InvalidInput(
                "geo.addresses.bad_book", "地址库各列长度不一致", "address book columns differ"
            )
        if len(set(self.keys)) != n:
            raise InvalidInput(
                "geo.addresses.duplicate_road",
                "同一街道内道路名称重复",
                "a road name repeats within its street",
            )

    def __len__(self) -> int:
        return len(self.road)

    @cached_property
    def keys(self) -> list[str]:
        """Return each road's key: its street code followed by its name."""
        return [s + r for s, r in zip(self.street.tolist(), self.road.tolist(), strict=True)]

    @property
    def door_count(self) -> int:
        """Return how many door plates the book holds."""
        return int(self.doors.sum())

    def door_points(self, road: ArrayLike, number: ArrayLike) -> tuple[F64, F64]:
        """Return WGS-84 lon/lat of door plates (road index, number); NaN where invalid."""
        r = np.asarray(road, dtype=np.int64).ravel()
        n = np.asarray(number, dtype=np.int64).ravel()
        lon = np.full(len(r), np.nan)
        lat = np.full(len(r), np.nan)
        if self.lines is None or len(self.road) == 0:
            return lon, lat
        known = (r >= 0) & (r < len(self.road))
        ok = np.flatnonzero(known)
        ok = ok[(n[ok] >= 1) & (n[ok] <= self.doors[r[ok]])]
        if len(ok) == 0:
            return lon, lat
        pair = (n[ok] + 1) // 2
        side = np.where(n[ok] % 2 == 1, OFFSET_M, -OFFSET_M)
        along = (pair - 0.5).astype(np.float64) * SPACING_M
        x, y = self.lines.points(r[ok], along, side)
        lon[ok], lat[ok] = self.lines.projection.to_lonlat(x, y)
        return lon, lat
