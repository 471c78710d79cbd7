"""One run of the audit chain, walked in a worker process of a parallel verification.

Kept to light imports (the standard library's ``sqlite3`` and ``audit``): a spawned
worker pays for every module it imports before it starts walking. On SQLite the query
builds each record's hashed text itself (one string a record instead of thirteen Python
objects: a quarter less time a record); other databases return the columns, joined here
as ``audit.walk`` does, since their text forms of times differ from Python's.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from opencitybrain.sharing.audit import AuditRecord, Verdict, walk, walk_joined

_HASHED = AuditRecord.__slots__[:13]  # every column but the hash itself
_JOINED = " || char(31) || ".join(f"COALESCE(CAST({c} AS TEXT), 'None')" for c in _HASHED)
BATCH = 50_000


def run_sqlite(
    path: str, after: int, until: int | None, link: str, pinned: dict[int, str]
) -> Verdict:
    """Walk records ``after`` < seq ≤ ``until`` of the chain in an SQLite file, read-only."""
    con = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        upto = "" if until is None else " AND seq <= ?"
        sql = (
            f"SELECT seq, {_JOINED}, prev_hash, hash FROM sharing_audit "  # noqa: S608
            f"WHERE seq > ?{upto} ORDER BY seq"
        )
        cursor = con.execute(sql, (after,) if until is None else (after, until))
        return walk_joined(_batches(cursor), pinned, link, after + 1)
    finally:
        con.close()


def run_sql(url: str, after: int, until: int | None, link: str, pinned: dict[int, str]) -> Verdict:
    """Walk a run of the chain in another SQL database (through the store's row reader)."""
    import sqlalchemy as sa

    from opencitybrain.sharing.audit_store import SqlAuditStore

    engine = sa.create_engine(url)
    try:
        return walk(SqlAuditStore(engine).rows(after, until=until), pinned, link, after + 1)
    finally:
        engine.dispose()


def _batches(cursor: sqlite3.Cursor) -> Iterator[Any]:
    while rows := cursor.fetchmany(BATCH):
        yield from rows
