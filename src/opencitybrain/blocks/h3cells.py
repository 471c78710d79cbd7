"""H3 cells of many points: one cell at the finest resolution asked, per distinct point.

h3 has no vectorised point-to-cell call, so each distinct (lon, lat) pair is converted
once (rows at the same place share it: sensors, addresses) and the result is scattered
back with numpy.
"""

from __future__ import annotations

import h3  # type: ignore[import-untyped]  # ships no type information
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def h3_column(
    lon: pa.ChunkedArray | pa.Array, lat: pa.ChunkedArray | pa.Array, res: int
) -> pa.Array:
    """Return each point's H3 cell at ``res`` as hex text (null where a coordinate is)."""
    x = pc.cast(lon, pa.float64()).to_numpy(zero_copy_only=False)
    y = pc.cast(lat, pa.float64()).to_numpy(zero_copy_only=False)
    ok = np.isfinite(x) & np.isfinite(y) & (np.abs(y) <= 90) & (np.abs(x) <= 180)
    pairs = np.column_stack((x[ok], y[ok]))
    if len(pairs) == 0:
        return pa.nulls(len(x), pa.string())
    unique, inverse = np.unique(pairs, axis=0, return_inverse=True)
    cells = np.array([h3.latlng_to_cell(float(b), float(a), res) for a, b in unique], dtype=object)
    out = np.full(len(x), None, dtype=object)
    out[ok] = cells[inverse.ravel()]
    return pa.array(out, pa.string())
