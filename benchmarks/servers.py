"""What the HTTP benchmarks share: a demo server in its own process, a fresh PostgreSQL
database, and latency percentiles."""

from __future__ import annotations

import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
from psycopg import sql

from tests.conftest import free_port

PG_ADMIN = os.environ.get(
    "CITYBRAIN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def serve_demo(data_dir: Path, database_url: str | None) -> tuple[str, str, subprocess.Popen[str]]:
    """Serve a fresh demo city in its own process; return its URL, operator password, process.

    Its own process, as in production: a client in the same process would share its GIL
    and halve both.
    """
    port = free_port()
    args = [sys.executable, "-m", "benchmarks.demo_server", str(data_dir), str(port)]
    if database_url:
        args.append(database_url)
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    password = proc.stdout.readline().strip()
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.05)
    return base, password, proc


def serve_bare() -> tuple[int, subprocess.Popen[str]]:
    """Serve ``benchmarks.bare_asgi`` in its own process; return its port and process."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.bare_asgi", str(port)], text=True)
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    return port, proc


@contextmanager
def postgres_database(prefix: str) -> Iterator[str | None]:
    """Yield the URL of a fresh PostgreSQL database (dropped after), or None if unreachable."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        yield None
        return
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            drop = "DROP DATABASE IF EXISTS {} WITH (FORCE)"
            admin.execute(sql.SQL(drop).format(sql.Identifier(name)))


def p50_p95_ms(samples: list[float]) -> tuple[float, float]:
    """Return the median and 95th percentile of latencies in seconds, in milliseconds."""
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(0.95 * (len(ordered) - 1))] * 1000
