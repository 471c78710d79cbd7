"""The port block data needs: an analytics engine that groups Arrow rows (DuckDB).

The service keeps each resource's located rows as an Arrow table (one per snapshot
version) and hands it to the engine with a plan; the engine does the GROUP BY. After
locating a version the service asks the engine once for its ``Summary`` (the rows grouped
by county, street, community and grid, and by each categorical field, with every metric's
parts); a plan the summary can answer is cut from those small tables
(``blocks.summary.cut``, in Arrow) instead of scanning the rows. The DuckDB
implementation is ``adapters.duckdb_blocks.DuckBlockEngine``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from opencitybrain.blocks.model import LEVEL_COLUMN, Bucket, Metric, Op

# The located columns a summary groups by, coarse to fine; every level is one of them
# (or the city's block, derived from the county).
CHAIN: tuple[str, ...] = tuple(LEVEL_COLUMN.values())
CITY_KEY = "_city"
# Column names of a summary table besides the chain: the rows of a group, its category
# (a categorical field's value as text), and per numeric field f "sum:f", "count:f",
# "min:f", "max:f" (":" never occurs in a field name, so no field can collide).
ROWS = "n"
CATEGORY = "category"
PARTS = ("sum", "count", "min", "max")


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


@dataclass(frozen=True, slots=True)
class Summary:
    """A version's rows grouped once per level by its chain of places, per metric part.

    ``tables[(None, "_street")]`` has a row per (county, street) group with its rows and,
    per numeric field, its sum, count of values, min and max; ``tables[(f, "_street")]``
    the same per category of the categorical field ``f``. A level's blocks within any
    region above it are its table's groups filtered by the region and summed up by the
    level's column (a street seen in two counties, as a locator's edge may place it,
    adds up as the rows do), so a query reads hundreds or thousands of rows, not millions.
    """

    numeric: frozenset[str]  # fields with sum/count/min/max parts
    integer: frozenset[str]  # the numeric fields whose sums are integers
    categories: frozenset[str]  # categorical fields with tables of their own
    tables: Mapping[tuple[str | None, str], pa.Table]  # (category field, level column)

    @property
    def nbytes(self) -> int:
        """Return the memory the summary tables take."""
        return sum(t.nbytes for t in self.tables.values())

    @property
    def num_rows(self) -> int:
        """Return the rows of all summary tables."""
        return sum(t.num_rows for t in self.tables.values())

    def table_for(self, plan: GroupPlan) -> pa.Table | None:
        """Return the summary table that answers a plan exactly, or None (scan the rows).

        Time windows (any start and end) and distinct counts of fields with no categories
        kept are not summarised; nor are H3 cells (made per resolution on demand).
        """
        level = CHAIN[0] if plan.key == CITY_KEY else plan.key
        if plan.time_field is not None or level not in CHAIN:
            return None
        chain = CHAIN[: CHAIN.index(level) + 1]
        if plan.prefix_column is not None and plan.prefix_column not in chain:
            return None
        metric = plan.metric
        if metric.op is Op.DISTINCT:
            # Distinct values of a categorical field are its categories present.
            return self.tables.get((metric.field, level)) if plan.by is None else None
        if metric.op is not Op.COUNT and metric.field not in self.numeric:
            return None
        return self.tables.get((plan.by, level))


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

    def summarise(self, table: pa.Table) -> Summary:
        """Return the located rows' summary (grouped by the chain of places, per category)."""
        ...
