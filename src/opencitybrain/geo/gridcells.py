"""The GB/T 30428 unit grid: ~100 m square cells over built-up land, one community each.

Cells are squares of the local UTM frame aligned on multiples of the cell size, so a
point's cell is plain arithmetic: ``col = floor(x / size)``, ``row = floor(y / size)``.
A cell that straddles communities is split, and each piece is a grid of its own
community, so a grid code always begins with the code of the community that holds it.
Grids are numbered within their community north to south in rows, west to east in a row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from opencitybrain.geo.projection import LocalProjection
from opencitybrain.kernel.errors import InvalidInput

__all__ = [
    "CELL_SIZE_M",
    "MAX_GRIDS_PER_COMMUNITY",
    "CellPieces",
    "GridTable",
    "RoadProximity",
    "assign_cells",
    "built_up_cells",
    "grid_table",
]

CELL_SIZE_M = 100.0
# Land within this distance of a road centre line counts as built up and gets grids.
ROAD_REACH_M = 150.0
# Pieces of a split cell smaller than this share of a cell are not worth a grid code.
MIN_PIECE_SHARE = 0.01
# Three digits of grid number per community.
MAX_GRIDS_PER_COMMUNITY = 999


class RoadProximity:
    """Answer "is this point within reach of a road?" for many points at once."""

    def __init__(self, roads_m: NDArray[np.object_], reach_m: float = ROAD_REACH_M) -> None:
        # Vertices every reach/8 along each road make the nearest-vertex distance exceed
        # the true distance by under 0.1 %, and a KD-tree answers in microseconds.
        dense = shapely.segmentize(roads_m, reach_m / 8.0) if len(roads_m) else roads_m
        self.vertices = shapely.get_coordinates(dense)
        self.reach_m = reach_m
        self._tree = cKDTree(self.vertices) if len(self.vertices) else None

    def near(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Return True where a point lies within reach of a road."""
        if self._tree is None or len(x) == 0:
            return np.zeros(len(x), dtype=bool)
        distance, _ = self._tree.query(np.column_stack((x, y)), distance_upper_bound=self.reach_m)
        return np.asarray(np.isfinite(distance), dtype=bool)


def built_up_cells(
    roads: RoadProximity, cell_size: float = CELL_SIZE_M
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Return (col, row) of every cell whose centre lies within reach of a road."""
    if len(roads.vertices) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    low = np.floor((roads.vertices.min(axis=0) - roads.reach_m) / cell_size).astype(np.int64)
    high = np.floor((roads.vertices.max(axis=0) + roads.reach_m) / cell_size).astype(np.int64)
    cols, rows = np.meshgrid(
        np.arange(low[0], high[0] + 1), np.arange(low[1], high[1] + 1), indexing="ij"
    )
    col, row = cols.ravel(), rows.ravel()
    keep = roads.near((col + 0.5) * cell_size, (row + 0.5) * cell_size)
    return col[keep], row[keep]


@dataclass(frozen=True, slots=True, eq=False)
class CellPieces:
    """Hold each (cell, community) piece: indices, whether split, an inside point (m)."""

    col: NDArray[np.int64]
    row: NDArray[np.int64]
    community: NDArray[np.int64]
    split: NDArray[np.bool_]
    x: NDArray[np.float64]
    y: NDArray[np.float64]


def _boxes(
    col: NDArray[np.integer], row: NDArray[np.integer], cell_size: float
) -> NDArray[np.object_]:
    boxes: NDArray[np.object_] = shapely.box(
        col * cell_size, row * cell_size, (col + 1) * cell_size, (row + 1) * cell_size
    )
    return boxes


def assign_cells(
    col: NDArray[np.int64],
    row: NDArray[np.int64],
    communities_m: NDArray[np.object_],
    cell_size: float = CELL_SIZE_M,
) -> CellPieces:
    """Cut cells by communities: whole cells keep one owner, straddling cells split."""
    boxes = _boxes(col, row, cell_size)
    tree = shapely.STRtree(communities_m)
    box_in, owner = tree.query(boxes, predicate="within")
    # A cell inside one community needs no geometry work; keep one owner per cell.
    box_in, first = np.unique(box_in, return_index=True)
    owner = owner[first]
    whole = np.zeros(len(boxes), dtype=bool)
    whole[box_in] = True
    hit_box, hit_community = tree.query(boxes, predicate="intersects")
    straddling = ~whole[hit_box]
    hit_box, hit_community = hit_box[straddling], hit_community[straddling]
    pieces = shapely.intersection(boxes[hit_box], communities_m[hit_community])
    big = shapely.area(pieces) >= MIN_PIECE_SHARE * cell_size * cell_size
    hit_box, hit_community, pieces = hit_box[big], hit_community[big], pieces[big]
    inside = shapely.get_coordinates(shapely.point_on_surface(pieces))
    return CellPieces(
        col=np.concatenate((col[box_in], col[hit_box])),
        row=np.concatenate((row[box_in], row[hit_box])),
        community=np.concatenate((owner, hit_community)).astype(np.int64),
        split=np.concatenate((np.zeros(len(box_in), bool), np.ones(len(hit_box), bool))),
        x=np.concatenate(((col[box_in] + 0.5) * cell_size, inside[:, 0])),
        y=np.concatenate(((row[box_in] + 0.5) * cell_size, inside[:, 1])),
    )


@dataclass(frozen=True, slots=True, eq=False)
class GridTable:
    """Hold every grid: code, community index, cell, split flag and an inside point."""

    cell_size: float
    code: NDArray[np.str_]
    community: NDArray[np.int32]
    col: NDArray[np.int32]
    row: NDArray[np.int32]
    split: NDArray[np.bool_]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.code)

    def polygons(
        self,
        indices: NDArray[np.int64],
        communities_m: NDArray[np.object_],
        projection: LocalProjection,
    ) -> NDArray[np.object_]:
        """Return the lon/lat polygons of the given grids, cutting split cells again."""
        boxes = _boxes(self.col[indices].astype(np.int64), self.row[indices], self.cell_size)
        split = self.split[indices]
        if split.any():
            owners = communities_m[self.community[indices][split]]
            boxes[split] = shapely.intersection(boxes[split], owners)
        result: NDArray[np.object_] = projection.unproject(boxes)
        return result


def grid_table(
    pieces: CellPieces,
    community_codes: list[str],
    projection: LocalProjection,
    cell_size: float = CELL_SIZE_M,
) -> GridTable:
    """Number the pieces within each community and give them their 15-digit codes."""
    order = np.lexsort((pieces.col, -pieces.row, pieces.community))
    community = pieces.community[order]
    # Rank within each community: position minus where the community's run begins.
    starts = np.searchsorted(community, community, side="left")
    number = np.arange(len(order)) - starts + 1
    if len(number) and number.max() > MAX_GRIDS_PER_COMMUNITY:
        raise InvalidInput(
            "geo.grid.too_many",
            "有社区的网格数超过 999 个",
            "a community holds more than 999 grids",
        )
    prefixes = np.asarray(community_codes, dtype="<U12")[community]
    codes = (
        np.char.add(prefixes, np.char.zfill(number.astype("<U3"), 3))
        if len(number)
        else np.empty(0, dtype="<U15")
    )
    lon, lat = projection.to_lonlat(pieces.x[order], pieces.y[order])
    return GridTable(
        cell_size=cell_size,
        code=np.asarray(codes, dtype="<U15"),
        community=community.astype(np.int32),
        col=pieces.col[order].astype(np.int32),
        row=pieces.row[order].astype(np.int32),
        split=pieces.split[order],
        lon=lon,
        lat=lat,
    )
