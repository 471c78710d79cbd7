"""Alembic environment: bind to the caller's connection, or build an engine from the URL.

``opencitybrain.adapters.migrate`` passes an open connection in
``config.attributes["connection"]``; the ``alembic`` command line may instead set
``sqlalchemy.url``. SQLite runs in batch mode, since it cannot alter most table parts.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from opencitybrain.adapters.migrate import TARGET_METADATA
from opencitybrain.adapters.sql import make_engine

config = context.config


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=TARGET_METADATA,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _offline() -> None:
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url,
        target_metadata=TARGET_METADATA,
        render_as_batch=bool(url and url.startswith("sqlite")),
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection given and sqlalchemy.url is not set")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    _offline()
else:
    _online()
