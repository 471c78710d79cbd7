"""Alerts and the vectorised edge detection that opens and closes them.

A rule yields, for a time-sorted batch, the (point, key) pairs where its condition holds;
a key names one alert subject (a vehicle, or a vehicle in one zone). An alert opens at
the first point of a run of such pairs and closes at the first point after the run, so a
condition that persists across points and batches raises exactly one alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import msgspec
import numpy as np
from numpy.typing import NDArray

from opencitybrain.apps.fleet.rules import RuleCode, Severity

__all__ = ["Alert", "Transitions", "alert_id", "transitions"]

I64 = NDArray[np.int64]


class Alert(msgspec.Struct, kw_only=True, gc=False):
    """Hold one alert: which vehicle broke which rule, where, when, and when it ended.

    Only scalars inside, so the garbage collector need not track it (``gc=False``):
    thousands of open alerts then cost nothing to each collection.
    ``subject`` names what the rule was about besides the vehicle (a zone id), ``value``
    the measure that broke it (km/h, metres off the corridor, minutes) and ``limit`` the
    threshold it broke.
    """

    id: str
    device_id: str
    plate: str
    vclass: str
    rule: RuleCode
    subject: str | None = None
    severity: Severity
    opened_at: datetime
    lon: float
    lat: float
    value: float | None = None
    limit: float | None = None
    closed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        """Tell whether the condition is still going on."""
        return self.closed_at is None


def alert_id(device_id: str, rule: RuleCode, subject: str | None, opened_epoch_s: float) -> str:
    """Return the alert's id; deterministic, so a replayed stream cannot open it twice."""
    tail = f"{subject}:" if subject else ""
    # A StrEnum formats as its value; reading ``.value`` costs a descriptor call per alert.
    return f"urn:ngsi-ld:Alert:fleet:{device_id}:{rule}:{tail}{int(opened_epoch_s)}"


@dataclass(frozen=True, eq=False)
class Transitions:
    """Hold the opens (as indices into the held pairs) and closes (point, key) of a batch."""

    open_pair: I64
    close_point: I64
    close_key: I64


def transitions(
    first: NDArray[np.bool_],
    last: NDArray[np.bool_],
    first_of_slot: I64,
    point: I64,
    key: I64,
    prior: I64,
    keys_per_slot: int,
) -> Transitions:
    """Return where conditions start and end in a batch sorted by (slot, time).

    ``first``/``last`` mark each slot's first and last point; ``first_of_slot[slot]`` is
    that slot's first point (-1: not in the batch). ``(point, key)`` are the pairs where the
    condition holds; ``prior`` the keys already open before the batch. A key is
    ``slot * keys_per_slot + sub``.
    """
    if keys_per_slot == 1:
        return _slot_transitions(first, last, first_of_slot, point, key, prior)
    n = len(first) + 1
    held = key * n + point
    held_set = np.unique(held)
    # Open where the pair holds and did not hold at the slot's previous point (or before).
    before = np.where(first[point], -1, point - 1)
    held_before = np.isin(key * n + before, held_set) & (before >= 0)
    was_open = np.isin(key, prior) & first[point]
    starts = ~held_before & ~was_open
    # Close at the next point of the slot where the pair no longer holds.
    after = point + 1
    inside = ~last[point]
    held_after = np.isin(key * n + after, held_set)
    ends = inside & ~held_after
    # Keys open before the batch whose slot's first point no longer holds them.
    prior_slot = prior // keys_per_slot
    present = prior_slot < len(first_of_slot)
    prior, prior_slot = prior[present], prior_slot[present]
    f = first_of_slot[prior_slot]
    seen = f >= 0
    prior, f = prior[seen], f[seen]
    lapsed = ~np.isin(prior * n + f, held_set)
    return Transitions(
        open_pair=np.flatnonzero(starts),
        close_point=np.concatenate([after[ends], f[lapsed]]),
        close_key=np.concatenate([key[ends], prior[lapsed]]),
    )


def _slot_transitions(
    first: NDArray[np.bool_],
    last: NDArray[np.bool_],
    first_of_slot: I64,
    point: I64,
    key: I64,
    prior: I64,
) -> Transitions:
    """Return :func:`transitions` where each key is its slot, without sorting.

    A point's neighbour within its slot is the point beside it in the batch, and a
    point holds at most one key (its slot's): membership is a mask over the points,
    not a set of (key, point) pairs, so no sort or ``isin`` runs.
    """
    held = np.zeros(len(first) + 1, dtype=np.bool_)  # one past the end: "after" the last
    held[point] = True
    at_first = first[point]
    # Open where the previous point of the slot did not hold, nor an alert before.
    held_before = ~at_first & held[point - 1]
    was_open = np.zeros(0, dtype=np.bool_)
    if len(prior):
        open_before = np.zeros(max(int(prior.max()), int(key.max(initial=0))) + 1, np.bool_)
        open_before[prior] = True
        was_open = open_before[key] & at_first
    starts = ~held_before if len(prior) == 0 else ~held_before & ~was_open
    # Close at the next point of the slot where it no longer holds.
    after = point + 1
    ends = ~last[point] & ~held[after]
    # Keys open before the batch whose slot's first point no longer holds them.
    present = prior < len(first_of_slot)
    prior = prior[present]
    f = first_of_slot[prior]
    seen = f >= 0
    prior, f = prior[seen], f[seen]
    lapsed = ~held[f]
    return Transitions(
        open_pair=np.flatnonzero(starts),
        close_point=np.concatenate([after[ends], f[lapsed]]),
        close_key=np.concatenate([key[ends], prior[lapsed]]),
    )
