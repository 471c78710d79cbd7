"""Display masks (脱敏) as DuckDB expressions: a masked column is masked by the engine.

A governed read asks the row store to mask the columns its grant does not clear. Doing it
in the query means the engine's vectorised string functions do the work and no clear
value is ever turned into a Python object. The expression is the rule of
:class:`~opencitybrain.catalog.rows.MaskRule` exactly: DuckDB's ``length``, ``left`` and
``right`` count code points, as Python's ``len`` and slices do (a property test holds the
two to the same output).

Only text columns are masked in SQL; a column of another type is masked in Python on its
text form (DuckDB's text form of a boolean or a float differs from Python's, and the rule
is defined on Python's).
"""

# Column names are quoted and the source is the row store's own read_parquet term.
# ruff: noqa: S608

from __future__ import annotations

import threading
from collections import OrderedDict

import duckdb
import pyarrow as pa

from opencitybrain.adapters.duckdb_sql import literal, quote
from opencitybrain.catalog.rows import MaskRule


def mask_sql(column: str, rule: MaskRule) -> str:
    """Return the SQL expression masking the (quoted) text ``column`` by ``rule``."""
    n = f"length({column})"
    char = literal(rule.char)
    if rule.hide_last is not None:
        hide = int(rule.hide_last)
        return (
            f"CASE WHEN {column} IS NULL THEN NULL "
            f"WHEN {n} > {hide} THEN left({column}, {n} - {hide}) || repeat({char}, {hide}) "
            f"ELSE repeat({char}, {n}) END"
        )
    head, tail = int(rule.keep_first), int(rule.keep_last)
    keep = head + tail
    end = f" || right({column}, {tail})" if tail else ""
    return (
        f"CASE WHEN {column} IS NULL THEN NULL "
        f"WHEN {n} > {keep} THEN left({column}, {head}) || repeat({char}, {n} - {keep}){end} "
        f"WHEN {n} <= 1 THEN repeat({char}, {n}) "
        f"ELSE left({column}, 1) || repeat({char}, {n} - 1) END"
    )


def mask_python(values: pa.ChunkedArray | pa.Array, rule: MaskRule) -> pa.Array:
    """Return a column of another type masked on its Python text form (as text)."""
    return pa.array(
        [None if v is None else rule.apply(str(v)) for v in values.to_pylist()], pa.string()
    )


Stamp = tuple[str, int, int, int]  # a snapshot file: path, inode, mtime, size


class MaskedColumns:
    """Whole masked columns of small snapshots, kept in memory (least recently used go).

    A governed read of a page then takes the page's rows from the masked column by their
    row numbers in the file instead of masking them again: after the first read of a
    snapshot, masking costs a gather. A new load writes a new snapshot file (a new
    stamp), so a cached column never outlives the rows it was made from. Snapshots over
    ``max_rows`` rows are masked in each page's query instead (see :func:`mask_sql`).
    """

    def __init__(self, max_bytes: int = 256 * 2**20, max_rows: int = 2_000_000) -> None:
        self.max_bytes = max_bytes
        self.max_rows = max_rows
        self._columns: OrderedDict[tuple[Stamp, str, MaskRule], pa.ChunkedArray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def fits(self, rows: int) -> bool:
        """Return whether a snapshot of ``rows`` rows has its masked columns kept."""
        return rows <= self.max_rows

    def column(
        self,
        con: duckdb.DuckDBPyConnection,
        stamp: Stamp,
        source: str,
        name: str,
        rule: MaskRule,
        *,
        text: bool,
    ) -> pa.ChunkedArray:
        """Return the snapshot's whole column masked by ``rule``, in file order."""
        key = (stamp, name, rule)
        with self._lock:
            found = self._columns.get(key)
            if found is not None:
                self._columns.move_to_end(key)
                return found
        quoted = quote(name)
        if text:
            sql = f"SELECT {mask_sql(quoted, rule)} AS m FROM {source}"
            made = con.sql(sql).to_arrow_table().column(0)
        else:
            clear = con.sql(f"SELECT {quoted} FROM {source}").to_arrow_table().column(0)
            made = pa.chunked_array([mask_python(clear, rule)])
        with self._lock:
            if key not in self._columns:
                self._columns[key] = made
                self._bytes += made.nbytes
            while self._bytes > self.max_bytes and len(self._columns) > 1:
                _, old = self._columns.popitem(last=False)
                self._bytes -= old.nbytes
        return made
