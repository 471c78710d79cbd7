"""The port to a resource's rows: what the load path writes and the sharing layer reads.

A department loads rows into its published resource (CSV, XLSX, JSON lines, SQL); the
rows are kept for analysis (DuckDB over Parquet) and read back only through this port.
No route reads rows except through ``sharing``, which applies grants and masking on top.

Values are plain Python: ``str``, ``int``, ``float``, ``bool``, ``date``, ``datetime``
or ``None``; a geometry field holds GeoJSON text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol

Value = str | int | float | bool | date | datetime | None
Row = dict[str, Value]


class Op(StrEnum):
    """A comparison in a row filter (a grant's row filter, an access query's filter)."""

    EQ = "eq"
    NE = "ne"
    IN = "in"  # value: a tuple of values
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"
    PREFIX = "prefix"  # value: text; e.g. a county code's first digits


@dataclass(frozen=True, slots=True)
class Condition:
    """One term of a row filter: ``field op value``; terms of a filter are ANDed."""

    field: str
    op: Op
    value: Value | tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class RowPage:
    """A page of rows and how many rows match the filter in all."""

    rows: list[Row]
    total: int


class ResourceRows(Protocol):
    """Read access to the rows loaded into resources (the sharing layer's only source)."""

    def read(
        self,
        resource_id: str,
        *,
        columns: Sequence[str],
        where: Sequence[Condition] = (),
        offset: int = 0,
        limit: int = 100,
    ) -> RowPage:
        """Return rows of the resource, projected to ``columns``, in key order.

        A resource with no rows loaded yet reads as empty; an unknown column raises
        ``InvalidInput`` naming it.
        """
        ...

    def count(self, resource_id: str, where: Sequence[Condition] = ()) -> int:
        """Return how many rows of the resource match the filter."""
        ...

    def parquet(self, resource_id: str) -> Path | None:
        """Return a Parquet snapshot of the resource's current rows (None: no rows yet).

        Analysis (block data, the registry) reads this file with DuckDB; the snapshot is
        refreshed by every load that changes the resource.
        """
        ...
