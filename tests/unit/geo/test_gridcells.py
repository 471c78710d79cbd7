"""Tests for unit grid cells: selection near roads, splitting, numbering."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from opencitybrain.geo.gridcells import (
    CELL_SIZE_M,
    RoadProximity,
    assign_cells,
    built_up_cells,
    grid_table,
)
from opencitybrain.geo.projection import LocalProjection

# A local frame near Nanchang; the tests below work in its metres.
PROJECTION = LocalProjection(115.89, 28.68)
X0, Y0 = 400_000.0, 3_170_000.0


def test_cells_within_reach_of_a_road() -> None:
    road = shapely.LineString([(X0, Y0 + 30), (X0 + 1000, Y0 + 30)])
    col, row = built_up_cells(RoadProximity(np.array([road], dtype=object)))
    # Rows of centres 20, 80 and 120 m from the road; 12 columns each, with the ends.
    assert sorted(set(((row + 0.5) * CELL_SIZE_M - Y0).tolist())) == [-50.0, 50.0, 150.0]
    assert len(col) == 36
    empty = built_up_cells(RoadProximity(np.empty(0, dtype=object)))
    assert len(empty[0]) == 0


def test_cells_match_exact_distances_for_random_roads() -> None:
    rng = np.random.default_rng(4)
    roads = np.array(
        [shapely.LineString(np.add([X0, Y0], rng.uniform(0, 3000, (4, 2)))) for _ in range(6)],
        dtype=object,
    )
    col, row = built_up_cells(RoadProximity(roads))
    got = set(zip(col.tolist(), row.tolist(), strict=True))
    cols, rows = np.meshgrid(np.arange(3990, 4040), np.arange(31690, 31740), indexing="ij")
    centres = shapely.points((cols.ravel() + 0.5) * 100, (rows.ravel() + 0.5) * 100)
    distance = shapely.distance(shapely.union_all(roads), centres)
    clearly_in = {
        (c, r) for c, r, d in zip(cols.ravel(), rows.ravel(), distance, strict=True) if d < 149
    }
    clearly_out = {
        (c, r) for c, r, d in zip(cols.ravel(), rows.ravel(), distance, strict=True) if d > 151
    }
    # Densified vertices stand in for the lines: exact except within a metre of the edge.
    assert len(clearly_in) > 300
    assert clearly_in <= got
    assert not (clearly_out & got)


def test_straddling_cells_split_and_numbering() -> None:
    # Two communities side by side, split along x = X0 + 250: the middle column of
    # cells straddles them and each side gets its own piece.
    west = shapely.box(X0, Y0, X0 + 250, Y0 + 300)
    east = shapely.box(X0 + 250, Y0, X0 + 500, Y0 + 300)
    communities = np.array([west, east], dtype=object)
    cols, rows = np.meshgrid(
        np.arange(X0 / 100, X0 / 100 + 5), np.arange(Y0 / 100, Y0 / 100 + 3), indexing="ij"
    )
    col, row = cols.ravel().astype(np.int64), rows.ravel().astype(np.int64)
    pieces = assign_cells(col, row, communities)
    # 15 cells, the 3 in the middle column split in two: 18 grids.
    assert len(pieces.col) == 18
    assert pieces.split.sum() == 6
    table = grid_table(pieces, ["360102001001", "360102001002"], PROJECTION)
    west_codes = table.code[table.community == 0].tolist()
    assert west_codes == [f"360102001001{k:03d}" for k in range(1, 10)]
    # North row first, west to east within the row.
    west_rows = table.row[table.community == 0]
    west_cols = table.col[table.community == 0]
    assert west_rows.tolist() == sorted(west_rows.tolist(), reverse=True)
    assert west_cols[:3].tolist() == sorted(west_cols[:3].tolist())
    polygons = table.polygons(np.arange(len(table)), communities, PROJECTION)
    total = shapely.area(PROJECTION.project(polygons)).sum()
    assert total == pytest.approx(500 * 300, rel=1e-6)


def test_slivers_are_dropped() -> None:
    # A community edge 0.5 m into a cell leaves a 50 m² sliver: not worth a grid.
    west = shapely.box(X0, Y0, X0 + 100.5, Y0 + 100)
    east = shapely.box(X0 + 100.5, Y0, X0 + 300, Y0 + 100)
    col = np.array([X0 / 100 + 1], dtype=np.int64)
    row = np.array([Y0 / 100], dtype=np.int64)
    pieces = assign_cells(col, row, np.array([west, east], dtype=object))
    assert pieces.community.tolist() == [1]
    assert pieces.split.tolist() == [True]
