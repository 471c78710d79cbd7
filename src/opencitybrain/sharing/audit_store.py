"""The audit chain's port and its SQL implementation (append, read back, checkpoints)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import sqlalchemy as sa

from opencitybrain.kernel.errors import Conflict
from opencitybrain.sharing import tables as t
from opencitybrain.sharing.audit import GENESIS, AuditEntry, AuditRecord, Checkpoint, seal


class AuditStore(Protocol):
    """Keep the audit chain and its checkpoints."""

    def append(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        """Append entries at the head of the chain, in order; return their records."""
        ...

    def head(self) -> tuple[int, str]:
        """Return the last record's sequence number and hash (0, genesis when empty)."""
        ...

    def records(self, after: int = 0, batch: int = 50_000) -> Iterator[AuditRecord]:
        """Yield every record after ``after`` in order, reading in batches."""
        ...

    def rows(
        self, after: int = 0, batch: int = 50_000, until: int | None = None
    ) -> Iterator[tuple[Any, ...]]:
        """Yield every record after ``after`` (up to ``until``) as a row of its columns."""
        ...

    def recent(
        self, limit: int, resource_id: str | None = None, department: str | None = None
    ) -> list[AuditRecord]:
        """Return the newest records, optionally of one resource or department."""
        ...

    def add_checkpoint(self, cp: Checkpoint) -> None:
        """Store a signed checkpoint."""
        ...

    def checkpoints(self) -> list[Checkpoint]:
        """Return every checkpoint, oldest first."""
        ...


_AUDIT_COLUMNS = AuditRecord.__slots__
_APPEND_RETRIES = 16


_INSERT_QMARK = (
    f"INSERT INTO sharing_audit ({', '.join(_AUDIT_COLUMNS)}) "  # noqa: S608 - fixed names
    f"VALUES ({', '.join('?' for _ in _AUDIT_COLUMNS)})"
)


def _astuple(r: AuditRecord) -> tuple[object, ...]:
    return tuple(getattr(r, n) for n in _AUDIT_COLUMNS)


_AUDIT_SELECT = sa.select(*(t.audit.c[name] for name in _AUDIT_COLUMNS))


def _record_of(row: sa.Row[Any]) -> AuditRecord:
    return AuditRecord(**row._mapping)


class SqlAuditStore:
    """The audit chain in the operational SQL database.

    Appends in one process are serialised by a lock and keep the head in memory; another
    process appending at the same time makes an insert collide on the sequence number,
    and the loser re-reads the head and seals its records again.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self.engine = engine  # parallel verification opens its own connections from it
        self._lock = threading.Lock()
        self._head: tuple[int, str] | None = None

    def head(self) -> tuple[int, str]:
        """Return the last record's sequence number and hash (0, genesis when empty)."""
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(t.audit.c.seq, t.audit.c.hash).order_by(t.audit.c.seq.desc()).limit(1)
            ).first()
        return (int(row.seq), str(row.hash)) if row is not None else (0, GENESIS)

    def append(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        """Append entries at the head of the chain, in order; return their records."""
        if not entries:
            return []
        with self._lock:
            for _ in range(_APPEND_RETRIES):
                seq, prev = self._head if self._head is not None else self.head()
                sealed: list[AuditRecord] = []
                for entry in entries:
                    seq += 1
                    record = seal(entry, seq, prev)
                    sealed.append(record)
                    prev = record.hash
                try:
                    with self._engine.begin() as conn:
                        self._insert(conn, sealed)
                except sa.exc.IntegrityError:
                    self._head = None  # another process appended: re-read the head
                    continue
                self._head = (seq, prev)
                return sealed
        raise Conflict("audit.busy", "审计日志写入冲突，请重试", "audit log contended; retry")

    def _insert(self, conn: sa.Connection, sealed: list[AuditRecord]) -> None:
        # SQLite: plain tuples through the driver's executemany (twice the rate of the
        # Core insert's dict rows); elsewhere the Core insert (insertmanyvalues batching).
        if self._engine.dialect.paramstyle == "qmark":
            conn.exec_driver_sql(_INSERT_QMARK, [_astuple(r) for r in sealed])
        else:
            conn.execute(
                t.audit.insert(), [{n: getattr(r, n) for n in _AUDIT_COLUMNS} for r in sealed]
            )

    def records(self, after: int = 0, batch: int = 50_000) -> Iterator[AuditRecord]:
        """Yield every record after ``after`` in order, reading in batches."""
        for row in self.rows(after, batch):
            yield AuditRecord(*row)

    def rows(
        self, after: int = 0, batch: int = 50_000, until: int | None = None
    ) -> Iterator[tuple[Any, ...]]:
        """Yield every record after ``after`` (up to ``until``) as a row of its columns.

        Verification reads the whole chain, so this reads through the DB-API cursor of
        the engine's connection: SQLAlchemy's result rows cost three times the fetch
        itself. The statement is fixed text (column names and an integer bound only),
        the same on SQLite and PostgreSQL.
        """
        cols = ", ".join(_AUDIT_COLUMNS)
        last = int(after)
        upto = "" if until is None else f" AND seq <= {int(until)}"
        while True:
            sql = (
                f"SELECT {cols} FROM sharing_audit WHERE seq > {int(last)}{upto} "  # noqa: S608
                f"ORDER BY seq LIMIT {int(batch)}"
            )
            with self._engine.connect() as conn:
                cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                try:
                    cursor.execute(sql)
                    rows: list[tuple[Any, ...]] = cursor.fetchall()
                finally:
                    cursor.close()
            yield from rows
            if len(rows) < batch:
                return
            last = rows[-1][0]

    def recent(
        self, limit: int, resource_id: str | None = None, department: str | None = None
    ) -> list[AuditRecord]:
        """Return the newest records, optionally of one resource or department."""
        q = _AUDIT_SELECT.order_by(t.audit.c.seq.desc()).limit(limit)
        if resource_id is not None:
            q = q.where(t.audit.c.resource_id == resource_id)
        if department is not None:
            q = q.where(t.audit.c.department == department)
        with self._engine.connect() as conn:
            return [_record_of(r) for r in conn.execute(q)]

    def add_checkpoint(self, cp: Checkpoint) -> None:
        """Store a signed checkpoint (a second one for the same record is ignored)."""
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    t.checkpoints.insert().values(
                        seq=cp.seq,
                        hash=cp.hash,
                        signed_at=cp.signed_at,
                        signature=cp.signature,
                        public_key=cp.public_key,
                    )
                )
        except sa.exc.IntegrityError:
            return

    def checkpoints(self) -> list[Checkpoint]:
        """Return every checkpoint, oldest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(t.checkpoints).order_by(t.checkpoints.c.seq))
            return [
                Checkpoint(int(r.seq), r.hash, r.signed_at, r.signature, r.public_key) for r in rows
            ]
