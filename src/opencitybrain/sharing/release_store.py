"""Where releases are kept: metadata in SQL (``open_releases``), tables as Parquet files."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from opencitybrain.catalog.open_extracts import OpenExtract
from opencitybrain.sharing import tables as t
from opencitybrain.sharing.release_model import Release, ReleaseMode

_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class ReleaseStore(Protocol):
    """Keep the releases' metadata."""

    def add(self, r: Release) -> None:
        """Store a new release."""
        ...

    def get(self, release_id: str) -> Release | None:
        """Return a release or None."""
        ...

    def recent(self, limit: int, offset: int = 0, resource_id: str | None = None) -> list[Release]:
        """Return releases, newest first."""
        ...


class ReleaseFiles(Protocol):
    """Keep the released tables."""

    def write(self, release_id: str, table: pa.Table) -> None:
        """Store a released table."""
        ...

    def read(self, release_id: str, offset: int, limit: int) -> list[dict[str, Any]]:
        """Return a page of a released table's rows (JSON-ready values)."""
        ...

    def csv(self, release_id: str) -> str:
        """Return a released table as CSV text (UTF-8, header row)."""
        ...


def _doc(r: Release) -> dict[str, Any]:
    return {
        "resource_code": r.resource_code,
        "resource_name": r.resource_name,
        "title": r.title,
        "params": r.params,
        "outcome": r.outcome,
        "columns": list(r.columns),
        "row_count": r.row_count,
        "created_by": r.created_by,
        "extra": r.extra,
    }


def _release(row: sa.Row[Any]) -> Release:
    d = row.doc
    return Release(
        id=row.id,
        resource_id=row.resource_id,
        resource_code=d["resource_code"],
        resource_name=d["resource_name"],
        department_id=row.department_id,
        title=d["title"],
        mode=ReleaseMode(row.mode),
        params=d["params"],
        outcome=d["outcome"],
        columns=tuple(d["columns"]),
        row_count=d["row_count"],
        created_at=row.created_at,
        created_by=d["created_by"],
        extra=d.get("extra", {}),
    )


class SqlReleaseStore:
    """Releases in the ``open_releases`` table."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def add(self, r: Release) -> None:
        """Store a new release."""
        row = {
            "id": r.id,
            "resource_id": r.resource_id,
            "department_id": r.department_id,
            "mode": r.mode.value,
            "created_at": r.created_at,
            "doc": _doc(r),
        }
        with self.engine.begin() as conn:
            conn.execute(sa.insert(t.releases).values(**row))

    def get(self, release_id: str) -> Release | None:
        """Return a release or None."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.releases).where(t.releases.c.id == release_id)).first()
        return _release(row) if row is not None else None

    def recent(self, limit: int, offset: int = 0, resource_id: str | None = None) -> list[Release]:
        """Return releases, newest first."""
        q = sa.select(t.releases).order_by(t.releases.c.created_at.desc(), t.releases.c.id)
        if resource_id is not None:
            q = q.where(t.releases.c.resource_id == resource_id)
        with self.engine.connect() as conn:
            rows = conn.execute(q.limit(limit).offset(offset)).all()
        return [_release(r) for r in rows]


def open_extract(r: Release) -> OpenExtract:
    """Return a release as the catalogue shows it (the ``OpenExtracts`` port's value)."""
    queries = r.outcome.get("queries") if r.mode is ReleaseMode.DP else None
    return OpenExtract(
        id=r.id,
        resource_id=r.resource_id,
        title=r.title,
        mode=r.mode.value,
        params=r.params,
        queries=tuple(q for q in queries if isinstance(q, dict))
        if isinstance(queries, list)
        else (),
        columns=r.columns,
        row_count=r.row_count,
        created_at=r.created_at,
        open_type=str(r.extra.get("open_type", "")),
        open_condition=str(r.extra.get("open_condition", "")),
    )


class SqlOpenExtracts:
    """The catalogue's ``OpenExtracts`` port over the ``open_releases`` table."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def for_resource(self, resource_id: str) -> list[OpenExtract]:
        """Return one resource's open releases, newest first."""
        return self.for_resources([resource_id]).get(resource_id, [])

    def for_resources(self, resource_ids: Sequence[str]) -> dict[str, list[OpenExtract]]:
        """Return the open releases of several resources (one query), newest first."""
        ids = list(dict.fromkeys(resource_ids))
        if not ids:
            return {}
        q = (
            sa.select(t.releases)
            .where(t.releases.c.resource_id.in_(ids))
            .order_by(t.releases.c.created_at.desc(), t.releases.c.id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        out: dict[str, list[OpenExtract]] = {}
        for row in rows:
            out.setdefault(row.resource_id, []).append(open_extract(_release(row)))
        return out


def _plain(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date | datetime) else v


class ParquetReleaseFiles:
    """Released tables as ``<folder>/<release id>.parquet``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, release_id: str) -> Path:
        if not _ID_RE.match(release_id):  # ids are ours; never a path from outside
            raise ValueError(f"bad release id {release_id[:40]!r}")
        return self.folder / f"{release_id}.parquet"

    def write(self, release_id: str, table: pa.Table) -> None:
        """Store a released table (written to a temporary name, then renamed)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(release_id)
        tmp = path.with_suffix(".tmp")
        pq.write_table(table, tmp)
        tmp.replace(path)

    def _table(self, release_id: str) -> pa.Table:
        return pq.read_table(self._path(release_id))

    def read(self, release_id: str, offset: int, limit: int) -> list[dict[str, Any]]:
        """Return a page of rows (dates as ISO text)."""
        rows = self._table(release_id).slice(offset, limit).to_pylist()
        return [{k: _plain(v) for k, v in r.items()} for r in rows]

    def csv(self, release_id: str) -> str:
        """Return the whole table as CSV text."""
        table = self._table(release_id)
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(table.column_names)
        for batch in table.to_batches(max_chunksize=10_000):
            for r in batch.to_pylist():
                w.writerow(["" if v is None else _plain(v) for v in r.values()])
        return buf.getvalue()
