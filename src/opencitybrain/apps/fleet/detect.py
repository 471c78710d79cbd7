"""Rule conditions over a time-sorted batch: whole-array functions, one per rule.

Each function returns where its condition holds as pairs (point, key) with the measured
value and the limit broken; :func:`opencitybrain.apps.fleet.alerts.transitions` turns
those into alert opens and closes. Runs of points (a stop, a driving stint) continue
from the per-vehicle state across batches; "forward fill within a vehicle" is done with
``np.maximum.accumulate`` over the indices where a run starts, so no Python loop runs
per point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely
from numpy.typing import NDArray

__all__ = ["Held", "Track", "driving_since", "forward_fill", "stopped_since"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
Bool = NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Held:
    """Hold where one rule's condition holds: pairs (point, key), value and limit."""

    point: I64
    key: I64
    value: F64
    limit: F64
    # Where measuring the value is dear, it is measured only for the points that open an
    # alert: ``exact(points)`` returns the values at those batch points.
    exact: Callable[[I64], F64] | None = None

    @classmethod
    def none(cls) -> Held:
        """Return an empty result."""
        e = np.zeros(0, dtype=np.int64)
        return cls(e, e, np.zeros(0), np.zeros(0))

    @classmethod
    def of_slots(
        cls,
        mask: Bool,
        slot: I64,
        value: F64,
        limit: F64 | float,
        exact: Callable[[I64], F64] | None = None,
    ) -> Held:
        """Return the pairs where ``mask`` holds, keyed by slot."""
        p = np.flatnonzero(mask)
        lim = np.broadcast_to(np.asarray(limit, dtype=np.float64), mask.shape)
        return cls(p, slot[p], value[p], lim[p], exact)

    def values_at(self, pairs: I64) -> F64:
        """Return the value of some pairs (measured now where measuring was deferred)."""
        return self.value[pairs] if self.exact is None else self.exact(self.point[pairs])


@dataclass(frozen=True, eq=False)
class Track:
    """Hold a batch's live points sorted by (slot, time), with per-point context.

    ``prev_t`` is the time of the slot's previous point (from state for its first point).
    """

    slot: I64
    cls: I64
    t: F64
    lon: F64
    lat: F64
    x: F64
    y: F64
    speed: F64
    heading: F64
    on_duty: Bool
    first: Bool
    last: Bool
    prev_t: F64

    def __len__(self) -> int:
        return len(self.t)

    def points_at(self, rows: I64) -> NDArray[np.object_]:
        """Return some points as shapely geometries in metres (only those a rule needs)."""
        points: NDArray[np.object_] = shapely.points(self.x[rows], self.y[rows])
        return points

    @cached_property
    def group_start(self) -> I64:
        """Return, for each point, the index of its slot's first point."""
        return np.maximum.accumulate(np.where(self.first, np.arange(len(self)), 0))


def forward_fill(starts: Bool, values: F64) -> F64:
    """Return, at each index, ``values`` at the latest index where ``starts`` holds."""
    idx = np.maximum.accumulate(np.where(starts, np.arange(len(starts)), 0))
    return values[idx]


def stopped_since(track: Track, stopped: Bool, state_since: F64) -> F64:
    """Return when each stopped point's stop began (nan while moving).

    ``state_since`` is the slot's stop start carried from earlier batches (nan: moving).
    """
    before = np.concatenate([[False], stopped[:-1]])
    run_start = stopped & (track.first | ~before)
    carried = track.first & np.isfinite(state_since)
    start_value = np.where(carried, state_since, track.t)
    since = forward_fill(run_start, start_value)
    return np.where(stopped, since, np.nan)


def driving_since(
    track: Track,
    stopped: Bool,
    stop_since: F64,
    state_stop_since: F64,
    state_driving_since: F64,
    min_rest_s: float,
) -> F64:
    """Return when each point's driving stint began (nan before the slot ever moved).

    A stint ends with a rest: a stop of at least ``min_rest_s`` or silence as long. The
    next moving point starts a new one; shorter stops do not break a stint.
    """
    moving = ~stopped
    prev_stop = np.where(track.first, state_stop_since, np.concatenate([[np.nan], stop_since[:-1]]))
    with np.errstate(invalid="ignore"):
        rested = (track.t - prev_stop >= min_rest_s) | (track.t - track.prev_t >= min_rest_s)
    count = np.cumsum(moving)
    gs = track.group_start
    moves_so_far = count - count[gs] + moving[gs]
    never_drove = np.isnan(state_driving_since) & (moves_so_far == 1)
    stint_start = moving & (rested | never_drove)
    value = np.where(stint_start, track.t, state_driving_since)
    return forward_fill(stint_start | track.first, value)
