"""Recent position history, kept as the batches that brought it (columnar chunks).

A vehicle's track is a masked read over the chunks, so writing a batch of any size costs
one append. The store is bounded by a point budget; the oldest chunks go first. This is
the working set for track playback; durable history belongs in the broker's temporal
store or Parquet (left for later).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["TrackPoint", "TrackStore"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class TrackPoint:
    """Hold one recorded position."""

    t: float
    lon: float
    lat: float
    speed: float
    heading: float


class TrackStore:
    """Keep up to ``max_points`` recent positions of every vehicle."""

    def __init__(self, max_points: int = 5_000_000) -> None:
        self.max_points = max_points
        self._chunks: deque[tuple[I64, F64]] = deque()
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def append(self, slots: I64, t: F64, lon: F64, lat: F64, speed: F64, heading: F64) -> None:
        """Record a batch's points (late ones too: history keeps everything accepted)."""
        if len(slots) == 0:
            return
        cols = np.column_stack([t, lon, lat, speed, heading])
        self._chunks.append((np.asarray(slots, dtype=np.int64).copy(), cols))
        self._size += len(slots)
        while self._size > self.max_points and len(self._chunks) > 1:
            old, _ = self._chunks.popleft()
            self._size -= len(old)

    def track(
        self, slot: int, since: float = -np.inf, until: float = np.inf, limit: int = 10_000
    ) -> list[TrackPoint]:
        """Return a vehicle's points in [since, until], oldest first, at most ``limit``."""
        parts = [cols[slots == slot] for slots, cols in self._chunks]
        rows = np.concatenate(parts) if parts else np.zeros((0, 5))
        rows = rows[(rows[:, 0] >= since) & (rows[:, 0] <= until)]
        rows = rows[np.argsort(rows[:, 0], kind="stable")][-limit:]
        return [TrackPoint(*r) for r in rows.tolist()]
