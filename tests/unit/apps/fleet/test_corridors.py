"""The corridor grid: its numpy distances agree with shapely's wherever it decides."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from opencitybrain.apps.fleet.corridors import SURE_M, CorridorGrid

# Millimetre resolution, as positions are: GEOS measures a segment shorter than ~1e-154 m
# (its squared length underflows) as infinitely far, which no GPS track produces.
metres = st.integers(0, 2_000_000).map(lambda mm: mm / 1000)
line = st.lists(st.tuples(metres, metres), min_size=2, max_size=6)


@settings(max_examples=150, deadline=None)
@given(
    corridors=st.lists(st.one_of(st.none(), st.lists(line, min_size=1, max_size=2)), min_size=1,
                       max_size=4),
    points=st.lists(st.tuples(metres, metres, st.integers(0, 3)), min_size=1, max_size=40),
    limit=st.sampled_from([50.0, 200.0, 400.0]),
)  # fmt: skip
def test_settled_points_are_on_or_off_as_shapely_says(
    corridors: list[list[list[tuple[float, float]]] | None],
    points: list[tuple[float, float, int]],
    limit: float,
) -> None:
    geoms = np.empty(len(corridors), dtype=object)
    geoms[:] = [shapely.MultiLineString(c) if c else None for c in corridors]
    grid = CorridorGrid(geoms, limit + 2 * SURE_M)
    pts = [(x, y, s) for x, y, s in points if s < len(corridors) and geoms[s] is not None]
    if not pts:
        return
    x, y, s = (np.asarray(v) for v in zip(*pts, strict=True))
    near = grid.nearest(x.astype(float), y.astype(float), s.astype(np.int64))
    exact = shapely.distance(shapely.points(x, y), geoms[s].astype(object))
    on = near <= limit - SURE_M
    off = near > limit + SURE_M
    assert (exact[on] <= limit).all()
    assert (exact[off] > limit).all()
    # Where the grid found a segment within its margin, it measured the nearest one.
    listed = np.isfinite(near) & (exact <= limit)
    np.testing.assert_allclose(near[listed], exact[listed], atol=1e-6)
