"""The port block data needs: an analytics engine that groups Arrow rows (DuckDB).

The service keeps each resource's located rows as an Arrow table (one per snapshot
version) and hands it to the engine with a plan; the engine does the GROUP BY. The
DuckDB implementation is ``adapters.duckdb_blocks.DuckBlockEngine``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from opencitybrain.blocks.model import Bucket, Metric


@dataclass(frozen=True, slots=True)
class GroupPlan:
    """One aggregation: group by ``key`` (and ``by``, and a time bucket), filtered."""

    key: str  # the located column to group by (``_grid``, ``_h3_9``…)
    metric: Metric
    # Names the rows' version (resource and snapshot): an engine may keep them prepared
    # (sorted by region, indexed) under this name until the version changes.
    rows_key: str | None = None
    prefix_column: str | None = None  # rows whose column starts with ``prefix``
    prefix: str = ""
    by: str | None = None
    time_field: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    bucket: Bucket | None = None


@dataclass(frozen=True, slots=True)
class Grouped:
    """Rows of a grouping: (key, category, bucket, value), plus in-scope and unlocated counts."""

    rows: list[tuple[str, str | None, datetime | None, float | int | None]]
    in_scope: int
    unlocated: int


class BlockEngine(Protocol):
    """Read snapshots and group located rows."""

    def read(self, path: Path, columns: Sequence[str] | None = None) -> pa.Table:
        """Return a Parquet snapshot's rows (all columns, or the named ones)."""
        ...

    def fields(self, path: Path) -> list[str]:
        """Return a Parquet snapshot's column names."""
        ...

    def group(self, table: pa.Table, plan: GroupPlan) -> Grouped:
        """Return the plan's groups over the table's rows."""
        ...
