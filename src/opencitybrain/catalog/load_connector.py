"""A SQL connector: rows from a query on the department's own database.

The platform connects with the URL the department gives, so the URL is fenced in:

- PostgreSQL (``postgresql://…``) in a READ ONLY transaction, or SQLite files that lie
  under the platform's connector folder (``<data_dir>/connectors``), opened read-only —
  never an arbitrary file on the server;
- never the platform's own database;
- one statement that starts with SELECT or WITH, at most ``MAX_ROWS`` rows;
- the URL is kept and shown only without its password.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from opencitybrain.catalog.load_model import MAX_ROWS, MAX_SQL_CHARS, SqlSource
from opencitybrain.catalog.load_sources import Decoded, columns_of
from opencitybrain.kernel.errors import FieldError, Forbidden, InvalidInput

_READ_ONLY = re.compile(r"^\s*(select|with)\b", re.IGNORECASE)
_CHUNK = 10_000


def _bad(where: str, zh: str, en: str) -> InvalidInput:
    return InvalidInput("catalog.bad_connector", zh, en, (FieldError(where, en),))


def shown(url: str) -> str:
    """Return the URL without its password (what reports keep)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable url>"


def _same_database(a: URL, b: URL) -> bool:
    if a.get_backend_name() != b.get_backend_name():
        return False
    if a.get_backend_name() == "sqlite":
        return (
            bool(a.database)
            and Path(a.database or "").resolve() == Path(b.database or "").resolve()
        )
    return (a.host or "localhost", a.port or 5432, a.database) == (
        b.host or "localhost",
        b.port or 5432,
        b.database,
    )


def connector_url(url: str, root: Path, platform_url: str) -> URL:
    """Return the URL to connect with, or raise if it points anywhere not allowed."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise _bad("url", "连接串格式错误", "malformed connector URL") from None
    backend = parsed.get_backend_name()
    if backend not in ("postgresql", "sqlite"):
        raise _bad("url", "仅支持 PostgreSQL 和 SQLite", "only postgresql and sqlite are taken")
    if _same_database(parsed, make_url(platform_url)):
        raise Forbidden(
            "catalog.connector_forbidden", "不能连接平台自身的数据库", "not the platform database"
        )
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    path = Path(parsed.database or "")
    inside = root.resolve()
    if not parsed.database or not path.resolve().is_relative_to(inside):
        raise Forbidden(
            "catalog.connector_forbidden",
            f"SQLite 文件须位于连接器目录 {inside} 下",
            f"a SQLite file must lie under the connector folder {inside}",
        )
    if not path.resolve().is_file():
        raise _bad("url", "SQLite 文件不存在", "no such SQLite file")
    return URL.create("sqlite", database=f"file:{path.resolve()}?mode=ro", query={"uri": "true"})


def check_query(query: str) -> str:
    """Return the query if it is one SELECT (or WITH … SELECT) statement."""
    body = query.strip().rstrip(";").strip()
    if not body or len(body) > MAX_SQL_CHARS:
        raise _bad("query", f"查询须为 1–{MAX_SQL_CHARS} 字符", f"1–{MAX_SQL_CHARS} characters")
    if not _READ_ONLY.match(body) or ";" in body:
        raise _bad("query", "只接受一条 SELECT 查询", "one SELECT statement only")
    return body


def read_sql(source: SqlSource, root: Path, platform_url: str) -> Decoded:
    """Run the query read-only and return its rows as text columns."""
    url = connector_url(source.url, root, platform_url)
    query = check_query(source.query)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                conn.exec_driver_sql("SET LOCAL statement_timeout = '300s'")
            result = conn.execution_options(stream_results=True).execute(sa.text(query))
            names = [str(k) for k in result.keys()]  # noqa: SIM118 - a Result, not a dict
            if len(set(names)) != len(names):
                raise _bad("query", "查询结果列名重复", "the query repeats a column name")
            rows: list[tuple[object, ...]] = []
            while chunk := result.fetchmany(_CHUNK):
                rows.extend(tuple(r) for r in chunk)
                if len(rows) > MAX_ROWS:
                    raise _bad("query", f"结果超过 {MAX_ROWS} 行", f"more than {MAX_ROWS} rows")
            conn.rollback()
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).splitlines()[0][:200]
        raise _bad("query", f"查询失败：{reason}", f"the query failed: {reason}") from None
    finally:
        engine.dispose()
    return Decoded(columns_of(names, rows), np.arange(1, len(rows) + 1, dtype=np.int64))
