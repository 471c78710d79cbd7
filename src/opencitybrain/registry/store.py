"""Where the registry keeps its builds: Parquet files for records, SQL for decisions.

A build of one kind (people, companies, vehicles) writes ``golden``, ``links`` and
``review`` as Parquet under ``<root>/<kind>/build-<n>/`` and then points ``current`` at
it (written beside and renamed: a reader sees the old build or the new, never half of
one). Golden records are sorted by key, so a lookup reads one row group. Reviewers'
decisions and the builds' counts and changes live in the operational store.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy as sa

from opencitybrain.registry import tables as t

Kind = Literal["people", "companies", "vehicles"]
KINDS: tuple[Kind, ...] = ("people", "companies", "vehicles")
PARTS = ("golden", "links", "review")


@dataclass(frozen=True, slots=True)
class Build:
    """One kind's current build: its number and its three tables."""

    kind: Kind
    number: int
    golden: pa.Table
    links: pa.Table
    review: pa.Table


@dataclass(frozen=True, slots=True)
class Decision:
    """A reviewer's pick of one attribute's value for one golden record, and why."""

    kind: Kind
    golden_id: str
    attribute: str
    value: str
    reason: str
    decided_by: str
    department_id: str
    decided_at: datetime


class BuildFiles(Protocol):
    """The registry's builds (records): write one, read the current one."""

    def current(self, kind: Kind) -> Build | None:
        """Return the current build of a kind, or None before the first."""
        ...

    def write(self, kind: Kind, golden: pa.Table, links: pa.Table, review: pa.Table) -> int:
        """Store a new build and make it current; return its number."""
        ...

    def next_number(self, kind: Kind) -> int:
        """Return the number the next build of a kind will get."""
        ...


class DecisionStore(Protocol):
    """Reviewers' decisions and the log of builds."""

    def decide(self, decision: Decision) -> None:
        """Record (or replace) the decision on one attribute of one golden record."""
        ...

    def decisions(self, kind: Kind, golden_ids: list[str] | None = None) -> list[Decision]:
        """Return the decisions of a kind (all, or those of some golden records)."""
        ...

    def log_build(
        self, kind: Kind, number: int, at: datetime, counts: dict[str, Any], changes: dict[str, Any]
    ) -> None:
        """Record a build's counts and changes."""
        ...

    def builds(self, kind: Kind, limit: int = 20) -> list[dict[str, Any]]:
        """Return the latest builds of a kind, newest first."""
        ...


class ParquetBuildFiles:
    """Builds as Parquet files under a folder; the current one is cached in memory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[Kind, Build] = {}
        self._lock = threading.Lock()

    def _pointer(self, kind: Kind) -> Path:
        return self.root / kind / "current.json"

    def next_number(self, kind: Kind) -> int:
        """Return one more than the current build's number (1 for the first)."""
        pointer = self._pointer(kind)
        if not pointer.is_file():
            return 1
        return int(json.loads(pointer.read_text())["build"]) + 1

    def write(self, kind: Kind, golden: pa.Table, links: pa.Table, review: pa.Table) -> int:
        """Write a build's three tables, then switch the pointer to it."""
        number = self.next_number(kind)
        folder = self.root / kind / f"build-{number}"
        folder.mkdir(parents=True, exist_ok=True)
        golden = golden.sort_by("golden_id")
        for name, table in zip(PARTS, (golden, links, review), strict=True):
            pq.write_table(table, folder / f"{name}.parquet", row_group_size=64_000)
        pointer = self._pointer(kind)
        temporary = pointer.with_suffix(".tmp")
        temporary.write_text(json.dumps({"build": number}))
        os.replace(temporary, pointer)
        with self._lock:
            self._cache[kind] = Build(kind, number, golden, links, review)
        return number

    def current(self, kind: Kind) -> Build | None:
        """Return the current build (read once, then from memory until the next build)."""
        pointer = self._pointer(kind)
        if not pointer.is_file():
            return None
        number = int(json.loads(pointer.read_text())["build"])
        with self._lock:
            held = self._cache.get(kind)
            if held is not None and held.number == number:
                return held
        folder = self.root / kind / f"build-{number}"
        golden, links, review = (pq.read_table(folder / f"{n}.parquet") for n in PARTS)
        build = Build(kind, number, golden, links, review)
        with self._lock:
            self._cache[kind] = build
        return build


def rows_where(table: pa.Table, column: str, value: str) -> list[dict[str, Any]]:
    """Return the rows of a table whose column equals a value."""
    rows: list[dict[str, Any]] = table.filter(pc.equal(table[column], value)).to_pylist()
    return rows


class SqlDecisionStore:
    """Decisions and builds in the operational store (SQLite or PostgreSQL)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def decide(self, decision: Decision) -> None:
        """Replace any earlier decision on the same attribute."""
        key = (
            (t.decisions.c.kind == decision.kind)
            & (t.decisions.c.golden_id == decision.golden_id)
            & (t.decisions.c.attribute == decision.attribute)
        )
        with self.engine.begin() as conn:
            conn.execute(sa.delete(t.decisions).where(key))
            conn.execute(
                sa.insert(t.decisions).values(
                    kind=decision.kind,
                    golden_id=decision.golden_id,
                    attribute=decision.attribute,
                    value=decision.value,
                    reason=decision.reason,
                    decided_by=decision.decided_by,
                    department_id=decision.department_id,
                    decided_at=decision.decided_at,
                )
            )

    def decisions(self, kind: Kind, golden_ids: list[str] | None = None) -> list[Decision]:
        """Return decisions of a kind, by golden record and attribute."""
        query = sa.select(t.decisions).where(t.decisions.c.kind == kind)
        if golden_ids is not None:
            query = query.where(t.decisions.c.golden_id.in_(golden_ids))
        query = query.order_by(t.decisions.c.golden_id, t.decisions.c.attribute)
        with self.engine.connect() as conn:
            return [
                Decision(
                    r.kind,
                    r.golden_id,
                    r.attribute,
                    r.value,
                    r.reason,
                    r.decided_by,
                    r.department_id,
                    r.decided_at,
                )
                for r in conn.execute(query)
            ]

    def log_build(
        self, kind: Kind, number: int, at: datetime, counts: dict[str, Any], changes: dict[str, Any]
    ) -> None:
        """Insert one build's row."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.insert(t.builds).values(
                    id=number, kind=kind, built_at=at, counts=counts, changes=changes
                )
            )

    def builds(self, kind: Kind, limit: int = 20) -> list[dict[str, Any]]:
        """Return the latest builds, newest first."""
        query = (
            sa.select(t.builds)
            .where(t.builds.c.kind == kind)
            .order_by(t.builds.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [
                {"build": r.id, "built_at": r.built_at, "counts": r.counts, "changes": r.changes}
                for r in conn.execute(query)
            ]
