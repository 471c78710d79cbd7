"""A load's rows set aside chunk by chunk as Parquet, then merged in one upsert (and the
merge itself: insert new keys, replace changed rows, count each).

Staging takes no lock: loads into different resources, or from different workers, stage
side by side in folders of their own (``<analytics>/staging/<id>-<n>/``); only the merge
(``DuckRows._land``) waits its turn for the database file. DuckDB reads the staged files
as one relation, so the merge streams them instead of holding a load's rows in memory.
"""

# Paths are quoted as literals; names are field names (checked by the catalogue, quoted).
# ruff: noqa: S608

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq

from opencitybrain.catalog.load_ports import Landed

Register = Callable[[duckdb.DuckDBPyConnection], None]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class ParquetStaging:
    """A load's chunks as Parquet files in a folder of their own (the ``Staging`` port)."""

    def __init__(
        self, folder: Path, names: Sequence[str], land: Callable[[Register], Landed]
    ) -> None:
        self._folder, self._names, self._land = folder, list(names), land
        self._files: list[Path] = []

    def add(self, rows: Any) -> None:
        """Write a chunk (typed per field) to the staging folder."""
        if not rows.num_rows:
            return
        self._folder.mkdir(parents=True, exist_ok=True)
        path = self._folder / f"{len(self._files):06d}.parquet"
        pq.write_table(rows.select(self._names), path, compression="lz4")
        self._files.append(path)

    def merge(self) -> Landed:
        """Upsert every staged row by the key in one transaction (nothing staged: no-op)."""
        if not self._files:
            return Landed()
        files = ", ".join(_lit(str(p)) for p in self._files)
        cols = ", ".join(_q(n) for n in self._names)

        def register(conn: duckdb.DuckDBPyConnection) -> None:
            conn.execute(
                "CREATE OR REPLACE TEMP VIEW incoming AS "
                f"SELECT {cols} FROM read_parquet([{files}])"
            )

        return self._land(register)

    def close(self) -> None:
        """Remove the staging folder."""
        shutil.rmtree(self._folder, ignore_errors=True)
        self._files.clear()


def merge_incoming(
    conn: duckdb.DuckDBPyConnection, table: str, names: Sequence[str], key: Sequence[str]
) -> Landed:
    """Insert new keys, replace changed rows, leave equal rows; count each."""
    on = " AND ".join(f"i.{_q(k)} = t.{_q(k)}" for k in key)
    values = [n for n in names if n not in key]
    differs = " OR ".join(f"i.{_q(v)} IS DISTINCT FROM t.{_q(v)}" for v in values)
    cols = ", ".join(_q(n) for n in names)
    given = int(conn.execute("SELECT count(*) FROM incoming").fetchall()[0][0])
    if not conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchall():  # a first load
        conn.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM incoming")
        return Landed(given, 0, 0)
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE _changed AS "
            f"SELECT i.*, t.{_q(key[0])} IS NULL AS _new FROM incoming i "
            f"LEFT JOIN {table} t ON {on} "
            f"WHERE t.{_q(key[0])} IS NULL{f' OR {differs}' if differs else ''}"
        )
        counted = conn.execute(
            "SELECT count(*) FILTER (WHERE _new), count(*) FILTER (WHERE NOT _new) FROM _changed"
        ).fetchall()[0]
        inserted, updated = int(counted[0]), int(counted[1])
        if updated:
            match = " AND ".join(f"{table}.{_q(k)} = c.{_q(k)}" for k in key)
            conn.execute(f"DELETE FROM {table} USING _changed c WHERE NOT c._new AND {match}")
        conn.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _changed")
        conn.execute("DROP TABLE _changed")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return Landed(inserted, updated, given - inserted - updated)
