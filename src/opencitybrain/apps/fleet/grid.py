"""A uniform grid over bounding boxes: candidate (point, item) pairs without geometry objects.

Why not an STRtree for the hot path: querying one needs a shapely Point per GPS point,
and creating them costs more than every rule together (about 2 µs a point, measured).
Here a point's cell is two numpy divisions; each cell lists the items whose box (grown by
a margin) touches it, stored CSR-style. Exact tests then run on the candidate pairs with
coordinate-array functions (``shapely.contains_xy``, numpy segment distance).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["GridIndex"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
# Bounds the grid's size whatever the extent: cells grow if the extent is huge.
_MAX_CELLS = 4_000_000
_MAX_ENTRIES = 8_000_000


class GridIndex:
    """Index axis-aligned boxes on a uniform grid of square cells (metres)."""

    def __init__(
        self, minx: F64, miny: F64, maxx: F64, maxy: F64, *, cell_m: float, margin_m: float = 0.0
    ) -> None:
        # Boxes that did not project to finite metres (a zone drawn on the far side of the
        # globe) can hold no point of the city: they are left out of the grid.
        finite = np.isfinite(minx) & np.isfinite(miny) & np.isfinite(maxx) & np.isfinite(maxy)
        ids = np.flatnonzero(finite)
        minx, miny, maxx, maxy = minx[ids], miny[ids], maxx[ids], maxy[ids]
        n = len(ids)
        self.n_items = n
        if n == 0:
            self.x0 = self.y0 = 0.0
            self.cell = 1.0
            self.nx = self.ny = 1
            self.offsets = np.zeros(2, dtype=np.int64)
            self.items = np.zeros(0, dtype=np.int64)
            return
        lo_x, lo_y = minx - margin_m, miny - margin_m
        hi_x, hi_y = maxx + margin_m, maxy + margin_m
        self.x0, self.y0 = float(lo_x.min()), float(lo_y.min())
        width = float(hi_x.max()) - self.x0
        height = float(hi_y.max()) - self.y0
        cell = max(float(cell_m), np.sqrt(max(width * height, 1.0) / _MAX_CELLS))
        # Huge boxes would list themselves in millions of cells: coarsen until the
        # index stays bounded (a coarser grid only yields more candidates, never fewer).
        w, h = hi_x - lo_x, hi_y - lo_y
        while float(((w / cell + 2) * (h / cell + 2)).sum()) > _MAX_ENTRIES:
            cell *= 2.0
        self.cell = cell
        self.nx = int(width // cell) + 1
        self.ny = int(height // cell) + 1
        ix0 = ((lo_x - self.x0) // cell).astype(np.int64)
        ix1 = ((hi_x - self.x0) // cell).astype(np.int64)
        iy0 = ((lo_y - self.y0) // cell).astype(np.int64)
        iy1 = ((hi_y - self.y0) // cell).astype(np.int64)
        wx, wy = ix1 - ix0 + 1, iy1 - iy0 + 1
        per_item = wx * wy
        item = np.repeat(np.arange(n, dtype=np.int64), per_item)
        k = np.arange(int(per_item.sum()), dtype=np.int64) - np.repeat(
            np.cumsum(per_item) - per_item, per_item
        )
        cx = ix0[item] + k % wx[item]
        cy = iy0[item] + k // wx[item]
        cells = cy * self.nx + cx
        order = np.argsort(cells, kind="stable")
        self.items = ids[item[order]]
        counts = np.bincount(cells, minlength=self.nx * self.ny)
        self.offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    def cell_of(self, x: F64, y: F64) -> I64:
        """Return each point's cell, or the extra empty cell past the end when outside."""
        ix = np.floor((x - self.x0) / self.cell)
        iy = np.floor((y - self.y0) / self.cell)
        inside = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        cell = np.where(inside, iy * self.nx + ix, self.nx * self.ny)
        return cell.astype(np.int64)

    def cell_min(self, item_values: F64) -> F64:
        """Return per cell (plus the outside cell) the least value of its items (inf: none)."""
        out = np.full(self.nx * self.ny + 1, np.inf)
        cells = np.repeat(np.arange(len(self.offsets) - 1), np.diff(self.offsets))
        np.minimum.at(out, cells, item_values[self.items])
        return out

    def candidates(self, x: F64, y: F64) -> tuple[I64, I64]:
        """Return (point, item) pairs whose point lies in a cell the item's box touches."""
        if self.n_items == 0 or len(x) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        ix = np.floor((x - self.x0) / self.cell)
        iy = np.floor((y - self.y0) / self.cell)
        inside = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        pts = np.flatnonzero(inside)
        cell = iy[pts].astype(np.int64) * self.nx + ix[pts].astype(np.int64)
        start = self.offsets[cell]
        count = self.offsets[cell + 1] - start
        point = np.repeat(pts, count)
        rank = np.arange(len(point), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
        return point, self.items[np.repeat(start, count) + rank]
