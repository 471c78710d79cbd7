"""Fixtures for integration tests: real engines and buses, each test on a clean slate.

``sql_url`` / ``sql_engine`` run a test once on SQLite and once on PostgreSQL; ``bus`` runs
it once on the in-process bus and once on NATS JetStream. A service that cannot be reached
skips its cases locally but fails them when ``CI`` is set, so CI cannot pass by skipping.
Point the suites elsewhere with ``CITYBRAIN_TEST_POSTGRES_URL`` (an admin database URL)
and ``CITYBRAIN_TEST_NATS_URL``.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urlencode, urlsplit, urlunsplit

import nats
import psycopg
import pytest
import sqlalchemy as sa
from nats.js.errors import NotFoundError
from psycopg import sql

from opencitybrain.adapters.nats_bus import NatsBus
from opencitybrain.adapters.sql import make_engine, redact
from opencitybrain.kernel.bus import Bus, InProcessBus

POSTGRES_ADMIN_URL = os.environ.get(
    "CITYBRAIN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
NATS_URL = os.environ.get("CITYBRAIN_TEST_NATS_URL", "nats://127.0.0.1:4222")
# One id per test session names every database, schema and stream it creates, so
# concurrent runs against the same servers never see each other's data.
RUN_ID = secrets.token_hex(4)
_counter = itertools.count(1)
# nats-py retries the first connect forever unless attempts are capped (0 means no cap).
_ONE_TRY: dict[str, Any] = {
    "connect_timeout": 3,
    "max_reconnect_attempts": 1,
    "reconnect_time_wait": 0.1,
    "allow_reconnect": False,
}


def service_missing(service: str, reason: str) -> NoReturn:
    """Skip the test because ``service`` is unreachable, or fail it when ``CI`` is set."""
    message = f"{service} is not reachable: {reason}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set, so a missing service is a failure)", pytrace=False)
    pytest.skip(message)


def _libpq(url: str) -> str:
    # psycopg wants a libpq URL: no SQLAlchemy driver suffix.
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))


# --- PostgreSQL ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """Create a fresh database for this test session and drop it at the end."""
    admin = _libpq(POSTGRES_ADMIN_URL)
    name = f"cb_test_{RUN_ID}"
    try:
        conn = psycopg.connect(admin, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        service_missing(f"PostgreSQL at {redact(admin)}", str(exc).strip())
    with conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _with_database(admin, name)
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def postgres_url(postgres_database: str) -> Iterator[str]:
    """Return a URL whose default schema is new and empty, dropped after the test."""
    schema = f"t_{RUN_ID}_{next(_counter)}"
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    query = urlencode({"options": f"-c search_path={schema}"})
    try:
        yield f"{postgres_database}?{query}"
    finally:
        with psycopg.connect(postgres_database, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


# --- SQL, parametrised over engines -------------------------------------------------------


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def sql_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return the URL of an empty database, once per engine."""
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        return url
    # A folder that does not exist yet: make_engine must create it.
    return f"sqlite:///{tmp_path_factory.mktemp('sql') / 'data' / 'citybrain.db'}"


@pytest.fixture
def sql_engine(sql_url: str) -> Iterator[sa.Engine]:
    """Return an engine on an empty database, once per engine."""
    engine = make_engine(sql_url)
    try:
        yield engine
    finally:
        engine.dispose()


# --- NATS ---------------------------------------------------------------------------------


async def _delete_streams(url: str, *, prefix: str) -> None:
    nc = await nats.connect(url, **_ONE_TRY)
    try:
        js = nc.jetstream()
        for info in await js.streams_info():
            if info.config.name.startswith(prefix):
                await js.delete_stream(info.config.name)
    finally:
        await nc.close()


async def _probe_nats(url: str) -> None:
    nc = await nats.connect(url, **_ONE_TRY)
    try:
        await nc.jetstream().account_info()
    finally:
        await nc.close()


@pytest.fixture(scope="session")
def nats_server() -> Iterator[str]:
    """Return the NATS URL once JetStream answers; remove this run's streams at the end."""
    try:
        asyncio.run(_probe_nats(NATS_URL))
    except Exception as exc:
        service_missing(f"NATS JetStream at {redact(NATS_URL)}", f"{type(exc).__name__} {exc}")
    yield NATS_URL
    asyncio.run(_delete_streams(NATS_URL, prefix=f"CBT_{RUN_ID}_"))


@dataclass(frozen=True)
class NatsTarget:
    """Name a private stream and subject prefix on the test NATS server."""

    url: str
    stream: str
    prefix: str

    async def connect(self) -> NatsBus:
        """Connect a bus to this stream (fast retries, memory storage)."""
        return await NatsBus.connect(
            self.url, stream=self.stream, prefix=self.prefix, storage="memory", retry_delay_s=0.2
        )

    async def cleanup(self) -> None:
        """Delete this target's stream."""
        nc = await nats.connect(self.url, **_ONE_TRY)
        try:
            await nc.jetstream().delete_stream(self.stream)
        except NotFoundError:
            pass
        finally:
            await nc.close()


@pytest.fixture
def nats_target(nats_server: str) -> NatsTarget:
    """Return a stream and subject prefix no other test or run uses."""
    n = next(_counter)
    return NatsTarget(nats_server, f"CBT_{RUN_ID}_{n}", f"cbt_{RUN_ID}_{n}")


# --- Bus, parametrised over implementations -----------------------------------------------


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("nats", id="nats", marks=pytest.mark.nats),
    ]
)
def bus_target(request: pytest.FixtureRequest) -> NatsTarget | None:
    """Return where the bus under test lives (None: in process)."""
    if request.param == "nats":
        target: NatsTarget = request.getfixturevalue("nats_target")
        return target
    return None


@pytest.fixture
async def bus(bus_target: NatsTarget | None) -> AsyncIterator[Bus]:
    """Return a bus, once per implementation; closed (and its stream deleted) afterwards."""
    if bus_target is None:
        memory = InProcessBus()
        yield memory
        await memory.close()
        return
    nats_bus = await bus_target.connect()
    try:
        yield nats_bus
    finally:
        await nats_bus.close()
        await bus_target.cleanup()
