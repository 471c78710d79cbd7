"""SQL engines from a URL: SQLite (embedded default) or PostgreSQL through psycopg 3.

Both engines behave alike where the platform relies on it: foreign keys are enforced,
transactions (DDL included) roll back cleanly, and ``DateTime(timezone=True)`` columns
hand back aware datetimes in UTC. Naive datetimes written to such columns count as UTC.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import DATETIME as SQLITE_DATETIME
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from opencitybrain.kernel.errors import InvalidInput

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 5000
PG_POOL_SIZE = 10
PG_MAX_OVERFLOW = 20
PG_POOL_RECYCLE_S = 1800

_SECRET_KEYS = frozenset({"password", "passwd", "pass", "token", "secret", "sslpassword"})


def redact(url: str) -> str:
    """Return ``url`` with any password or secret query value replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    out = url
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        user = userinfo.partition(":")[0]
        out = out.replace(parts.netloc, f"{user}:***@{hostport}", 1)
    elif at and parts.scheme.startswith(("nats", "tls", "ws")):
        # NATS puts a bare auth token where other schemes put the user name.
        out = out.replace(parts.netloc, f"***@{hostport}", 1)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if any(k.lower() in _SECRET_KEYS for k, _ in pairs):
        safe = [(k, "***" if k.lower() in _SECRET_KEYS else v) for k, v in pairs]
        out = out.replace(parts.query, urlencode(safe, safe="*"), 1)
    return out


def make_engine(url: str) -> sa.Engine:
    """Build an engine for ``sqlite:///path`` or ``postgresql[+psycopg]://…``."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise _unsupported(url) from exc
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        engine = _sqlite_engine(parsed)
    elif backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        engine = _postgres_engine(parsed)
    else:
        raise _unsupported(url)
    log.debug("SQL engine ready for %s", redact(url))
    return engine


def _unsupported(url: str) -> InvalidInput:
    scheme = url.split(":", 1)[0]
    return InvalidInput(
        "sql.unsupported_url",
        f"不支持的数据库地址类型 {scheme!r}（可用 sqlite:/// 或 postgresql://）",
        f"unsupported database URL scheme {scheme!r} (use sqlite:/// or postgresql://)",
    )


def _sqlite_engine(url: URL) -> sa.Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    kwargs: dict[str, Any] = {}
    if in_memory:
        # Every new connection to ":memory:" is a new, empty database; share one.
        kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url.set(drivername="sqlite+pysqlite"), **kwargs)
    _use_utc_datetimes(engine.dialect)
    sa.event.listen(engine, "connect", _on_sqlite_connect)
    sa.event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def _on_sqlite_connect(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy, not the driver, decide where transactions begin: the driver's own
    # implicit BEGIN skips DDL and savepoints, which breaks rollback of migrations.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS:d}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _on_sqlite_begin(conn: sa.Connection) -> None:
    conn.exec_driver_sql("BEGIN")


class _UtcSqliteDateTime(SQLITE_DATETIME):
    """Store aware datetimes as UTC text on SQLite and read them back aware."""

    def bind_processor(self, dialect: Dialect) -> Any:
        """Convert aware values to UTC before the stock formatting."""
        inner = super().bind_processor(dialect)
        if not self.timezone:
            return inner

        def process(value: Any) -> Any:
            if isinstance(value, datetime) and value.tzinfo is not None:
                value = value.astimezone(UTC).replace(tzinfo=None)
            return inner(value) if inner is not None else value

        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """Attach UTC to the stored values of timezone-aware columns."""
        inner = super().result_processor(dialect, coltype)
        if not self.timezone:
            return inner

        def process(value: Any) -> Any:
            value = inner(value) if inner is not None else value
            if isinstance(value, datetime) and value.tzinfo is None:
                return value.replace(tzinfo=UTC)
            return value

        return process


def _use_utc_datetimes(dialect: Dialect) -> None:
    # SQLite has no time zone type and SQLAlchemy's default silently drops the offset,
    # so a +08:00 value would come back as the wrong instant; adapt on this dialect only.
    colspecs = dict(getattr(dialect, "colspecs", {}))
    colspecs[sa.DateTime] = _UtcSqliteDateTime
    dialect.colspecs = colspecs


def _postgres_engine(url: URL) -> sa.Engine:
    # Sessions run in UTC so timestamptz values come back with a UTC offset, as on SQLite.
    options = str(url.query.get("options", "") or "")
    if "timezone" not in options.lower():
        options = f"{options} -c TimeZone=UTC".strip()
    url = url.set(drivername="postgresql+psycopg").update_query_dict({"options": options})
    if "application_name" not in url.query:
        url = url.update_query_dict({"application_name": "opencitybrain"})
    return sa.create_engine(
        url,
        pool_pre_ping=True,
        pool_size=PG_POOL_SIZE,
        max_overflow=PG_MAX_OVERFLOW,
        pool_recycle=PG_POOL_RECYCLE_S,
    )
