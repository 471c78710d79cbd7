"""The port the loader writes rows through (the read side is :mod:`catalog.rows`).

The loader hands the writer Arrow tables already typed per field (see :func:`arrow_type`)
and free of bad rows and duplicate keys: a load stages them chunk by chunk
(:class:`Staging`) and merges them once at the end, by the key, learning what changed.
``adapters/duckdb_rows.py`` implements both ports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pyarrow as pa

from opencitybrain.catalog.model import DataType, FieldSpec


@dataclass(frozen=True, slots=True)
class Landed:
    """What an upsert did: rows new by key, rows changed, rows already there as they are."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        """Return every row that landed (new, changed or the same)."""
        return self.inserted + self.updated + self.unchanged


def arrow_type(data_type: DataType) -> Any:
    """Return the Arrow type a field's values are stored as."""
    match data_type:
        case DataType.INTEGER:
            return pa.int64()
        case DataType.DECIMAL:
            return pa.float64()
        case DataType.BOOLEAN:
            return pa.bool_()
        case DataType.DATE:
            return pa.date32()
        case DataType.DATETIME:
            return pa.timestamp("us", tz="UTC")
        case _:
            return pa.string()


class Staging(Protocol):
    """The rows of one load, set aside chunk by chunk until they are merged at once."""

    def add(self, rows: Any) -> None:
        """Set aside a chunk (a ``pa.Table`` typed per field, keys unique in the load)."""
        ...

    def merge(self) -> Landed:
        """Upsert every staged row by the key in one transaction and report what changed."""
        ...

    def close(self) -> None:
        """Drop what was staged (after a merge, or instead of one)."""
        ...


class RowWriter(Protocol):
    """Write validated rows into a resource's table, upserting by its key."""

    def upsert(
        self, resource_id: str, fields: Sequence[FieldSpec], key: Sequence[str], rows: Any
    ) -> Landed:
        """Upsert ``rows`` (a ``pa.Table`` with one column per field, typed per
        :func:`arrow_type`) by ``key``; refresh the Parquet snapshot if anything changed.

        Raise ``Conflict`` when the key differs from the one the resource was first
        loaded with (the key is what makes reloads idempotent; it cannot move).
        """
        ...

    def stage(self, resource_id: str, fields: Sequence[FieldSpec], key: Sequence[str]) -> Staging:
        """Return a staging area for a load's rows, merged by ``key`` at the end."""
        ...

    def key_of(self, resource_id: str) -> tuple[str, ...] | None:
        """Return the key the resource's rows were loaded with, or None before any load."""
        ...
