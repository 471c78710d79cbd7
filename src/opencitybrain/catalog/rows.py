"""The port to a resource's rows: what the load path writes and the sharing layer reads.

A department loads rows into its published resource (CSV, XLSX, JSON lines, SQL); the
rows are kept for analysis (DuckDB over Parquet) and read back only through this port.
No route reads rows except through ``sharing``, which applies grants and masking on top.

Values are plain Python: ``str``, ``int``, ``float``, ``bool``, ``date``, ``datetime``
or ``None``; a geometry field holds GeoJSON text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


MASK_CHAR = "*"


@dataclass(frozen=True, slots=True)
class MaskRule:
    """A display mask (脱敏) for text: keep both ends, or hide the tail; same length.

    ``hide_last`` (address) hides the value's last characters and keeps the rest; the
    others keep ``keep_first`` and ``keep_last`` characters and hide the middle. A value
    too short for its rule keeps at most its first character (one character is hidden
    whole), so a short value never leaves unmasked. Sharing owns the rules per masking
    type; the row store applies them inside its engine when a read asks it to.
    """

    keep_first: int = 0
    keep_last: int = 0
    hide_last: int | None = None
    char: str = MASK_CHAR

    def apply(self, text: str) -> str:
        """Return the text masked by this rule (same length)."""
        n = len(text)
        if self.hide_last is not None:
            keep = n - self.hide_last
            if keep >= 1:
                return text[:keep] + self.char * self.hide_last
            return self.char * n
        head, tail = self.keep_first, self.keep_last
        if head + tail < n:
            return text[:head] + self.char * (n - head - tail) + (text[n - tail :] if tail else "")
        # Too short for the rule: keep at most the first character, hide the rest.
        if n <= 1:
            return self.char * n
        return text[:1] + self.char * (n - 1)


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
        masks: Mapping[str, MaskRule] | None = None,
    ) -> RowPage:
        """Return rows of the resource, projected to ``columns``, in key order.

        A column named in ``masks`` comes back masked by its rule (as text; None stays
        None), applied where the rows are read so no clear value is ever built. A resource
        with no rows loaded yet reads as empty; an unknown column raises ``InvalidInput``
        naming it.
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
