"""Each vehicle's own corridor segments on a grid: which points are surely on or off it.

Why: the exact distance to a vehicle's corridors needs a shapely Point per GPS point
(about 1–4 µs each, more than every other rule together for hazmat vehicles). Here the
segments of each vehicle's corridors are listed per grid cell under the key
``(slot, cell)``, so a point finds its own vehicle's nearby segments from bare
coordinates and numpy measures them. A point clearly nearer than the limit is on the
corridor; a point with no own segment within the limit is off it. Only points within a
millimetre of the limit, and the alerts that open (whose value is the distance), are
measured exactly with shapely: the answers are those of the exact test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import shapely
from numpy.typing import NDArray

from opencitybrain.apps.fleet.detect import Held, Track
from opencitybrain.apps.fleet.grid import GridIndex
from opencitybrain.apps.fleet.matching import segment_distance

if TYPE_CHECKING:
    from opencitybrain.apps.fleet.zones import PermitIndex

__all__ = ["SURE_M", "CorridorGrid", "off_corridor"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
# Numpy and GEOS distances agree to about 1e-9 m; a millimetre leaves no doubt.
SURE_M = 1e-3


class CorridorGrid:
    """Index the segments of every vehicle's corridors by (slot, grid cell)."""

    def __init__(self, corridors: NDArray[np.object_], margin_m: float) -> None:
        slots = np.flatnonzero([c is not None for c in corridors])
        parts, owner = shapely.get_parts(corridors[slots], return_index=True)
        coords, line = shapely.get_coordinates(parts, return_index=True)
        same = line[1:] == line[:-1]  # consecutive vertices of one line make a segment
        a, b = coords[:-1][same], coords[1:][same]
        self.ax, self.ay, self.bx, self.by = a[:, 0], a[:, 1], b[:, 0], b[:, 1]
        seg_slot = slots[owner[line[:-1][same]]]
        self.grid = GridIndex(
            np.minimum(self.ax, self.bx),
            np.minimum(self.ay, self.by),
            np.maximum(self.ax, self.bx),
            np.maximum(self.ay, self.by),
            cell_m=max(margin_m, 50.0),
            margin_m=margin_m,
        )
        g = self.grid
        self.n_cells = g.nx * g.ny + 1  # plus the outside cell, which lists nothing
        cells = np.repeat(np.arange(len(g.offsets) - 1), np.diff(g.offsets))
        keys = seg_slot[g.items] * self.n_cells + cells
        order = np.argsort(keys, kind="stable")
        keys, self.segs = keys[order], g.items[order]
        self.keys, self.starts, self.counts = np.unique(keys, return_index=True, return_counts=True)

    def nearest(self, x: F64, y: F64, slots: I64) -> F64:
        """Return each point's distance to its own vehicle's nearest listed segment.

        inf where none is listed in its cell: then no own segment lies within the margin.
        """
        out = np.full(len(x), np.inf)
        if len(x) == 0 or len(self.keys) == 0:
            return out
        q = slots * self.n_cells + self.grid.cell_of(x, y)
        pos = np.minimum(np.searchsorted(self.keys, q), len(self.keys) - 1)
        found = self.keys[pos] == q
        count = np.where(found, self.counts[pos], 0)
        point = np.repeat(np.arange(len(x)), count)
        if len(point) == 0:
            return out
        start = np.repeat(self.starts[pos] - (np.cumsum(count) - count), count)
        seg = self.segs[start + np.arange(len(point))]
        d = segment_distance(x[point], y[point], self.ax[seg], self.ay[seg], self.bx[seg],
                             self.by[seg])  # fmt: skip
        np.minimum.at(out, point, d)
        return out


def off_corridor(tr: Track, listed: NDArray[np.bool_], permits: PermitIndex, max_m: float) -> Held:
    """Return the points off their vehicle's corridors (``listed``: the class is checked).

    The grid's numpy distances settle every point farther than a millimetre from the
    limit; the rest, and the points that open an alert (the alert's value), are measured
    by shapely, so the answers are the exact test's.
    """
    slots = tr.slot
    sel = np.flatnonzero(listed & permits.has_corridor[slots])
    near = permits.corridor_grid(max_m + 2 * SURE_M).nearest(tr.x[sel], tr.y[sel], slots[sel])
    doubt = sel[np.abs(near - max_m) <= SURE_M]
    dist = np.full(len(tr), np.nan)
    dist[doubt] = permits.corridor_distance(tr.points_at(doubt), slots[doubt])
    off = np.zeros(len(tr), dtype=np.bool_)
    off[sel[near > max_m + SURE_M]] = True
    off[doubt] = dist[doubt] > max_m

    def exact(points: I64) -> F64:
        d = dist[points]
        todo = np.flatnonzero(np.isnan(d))
        if len(todo):
            at = points[todo]
            d[todo] = permits.corridor_distance(tr.points_at(at), slots[at])
        return d

    return Held.of_slots(off, slots, dist, max_m, exact)
