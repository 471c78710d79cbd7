"""NGSI-LD context broker: single PATCH and batch upsert over HTTP, and queries.

Run on each store: SQLite (a temp folder) and PostgreSQL (a fresh database on
127.0.0.1:5432, dropped afterwards; left out if unreachable). A real uvicorn server in its
own process with the demo city's wiring and the in-process bus; the PATCH client is the
lean keep-alive load generator of ``loadgen.py`` on loopback. The baselines are measured
in the same run: PATCH against a bare ASGI app answering 204 on the same uvicorn with the
same client (``bare_asgi.py``: the ceiling of any Python route here),
batch upsert against single PATCHes, and queries against a plain store scan of the same
entities.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import nats
import nats.js.errors

from benchmarks.harness import Harness
from benchmarks.loadgen import request_bytes, run_load
from benchmarks.servers import p50_p95_ms, postgres_database, serve_bare, serve_demo
from opencitybrain.context.geoquery_input import parse_geoquery
from opencitybrain.context.model import to_doc
from opencitybrain.context.parsing import parse_entity
from opencitybrain.context.query import EntityQuery, run_query
from tests.conftest import free_port
from tests.support import DemoCity, bearer, build_demo_city

NATS = os.environ.get("CITYBRAIN_TEST_NATS_URL", "nats://127.0.0.1:4222")
IN_FLIGHT = 8
BATCH = 1000
CEILING = "bare ASGI 204 on uvicorn (the ceiling)"
LINK = (
    "<https://smart-data-models.github.io/dataModel.Parking/context.jsonld>; "
    'rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
)


def _spot(i: int) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:ParkingSpot:bench:{i:07d}",
        "type": "ParkingSpot",
        "status": {"type": "Property", "value": "free" if i % 4 else "occupied"},
        "category": {"type": "Property", "value": ["onStreet"]},
        "location": {
            "type": "GeoProperty",
            "value": {
                "type": "Point",
                "coordinates": [115.80 + (i % 300) * 0.0005, 28.60 + (i // 300 % 300) * 0.0005],
            },
        },
    }


def run(h: Harness) -> None:
    """Measure PATCH/s, batch upsert and query latency on SQLite and on PostgreSQL."""
    n_patch = 200 if h.quick else 4000
    n_batches = 2 if h.quick else 10
    sizes = [500] if h.quick else [10_000, 100_000]
    _ceiling(h, n_patch)
    with tempfile.TemporaryDirectory() as tmp, postgres_database("cb_bench") as pg_url:
        stores: list[tuple[str, str | None]] = [("SQLite", None)]
        if pg_url is None:
            h.console.print("[yellow]PostgreSQL unreachable: its figures are left out[/yellow]")
        elif not h.quick:  # --quick proves the bench runs: one store (each start is ~15 s)
            stores.append(("PostgreSQL", pg_url))
        for label, url in stores:
            base, password, proc = serve_demo(Path(tmp) / f"server-{label}", url)
            try:
                asyncio.run(_http_figures(h, password, base, n_patch, n_batches, label))
            finally:
                proc.terminate()
                proc.wait(timeout=20)
            local = build_demo_city(Path(tmp) / f"local-{label}", url)
            try:
                _query_figures(h, local, sizes, label)
            finally:
                asyncio.run(local.platform.close())
        # Production shape: two worker processes sharing the store, the NATS bus between.
        _workers_figure(h, Path(tmp) / "workers-SQLite", None, "SQLite", n_patch)
        with postgres_database("cb_bench") as fresh:
            if fresh is not None and not h.quick:
                _workers_figure(h, Path(tmp) / "workers-pg", fresh, "PostgreSQL", n_patch)


def _ceiling(h: Harness, n: int) -> None:
    """Measure what any Python route could reach here: a bare ASGI app, same client."""
    port, proc = serve_bare()
    try:
        body = json.dumps({"value": "occupied"}).encode()
        hdr = {"Content-Type": "application/json", "Link": LINK}
        patch = [request_bytes("PATCH", f"/x/{i}", hdr, body) for i in range(IN_FLIGHT)]
        load = asyncio.run(run_load(port, patch, n, IN_FLIGHT))
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    p50, p95 = p50_p95_ms(load.latencies)
    note = f"p50 {p50:.2f} ms p95 {p95:.2f} ms, {IN_FLIGHT} in flight, no framework, no work"
    h.record("context http", CEILING, load.rate, "req/s", higher_is_better=True, note=note)


def _workers_figure(h: Harness, data_dir: Path, url: str | None, store: str, n: int) -> None:
    try:
        asyncio.run(_nats_probe())
    except Exception as exc:
        h.console.print(
            f"[yellow]NATS unreachable ({exc}): the 2-worker figure is left out[/yellow]"
        )
        return
    city = build_demo_city(data_dir, url)  # seeds the users; the workers serve its data
    password = city.password("operator")
    asyncio.run(city.platform.close())
    tag = secrets.token_hex(4)
    env = {
        **os.environ,
        "CITYBRAIN_DATA_DIR": str(data_dir),
        "CITYBRAIN_BUS_URL": f"{NATS}?stream=CBBENCH_{tag}&prefix=cbbench_{tag}",
        **({"CITYBRAIN_DATABASE_URL": url} if url else {}),
    }
    port = free_port()
    cmd = [sys.executable, "-m", "opencitybrain.cli", "serve", "--workers", "2"]
    log = data_dir / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([*cmd, "--port", str(port)], env=env, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the 2-worker server did not start:\n{log.read_text()}")
        asyncio.run(_patch_figures(h, password, base, n, f"{store}, 2 workers + NATS"))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        asyncio.run(_nats_drop(f"CBBENCH_{tag}"))


async def _nats_probe() -> None:
    nc = await nats.connect(
        NATS, connect_timeout=2, max_reconnect_attempts=1, allow_reconnect=False
    )
    await nc.close()


async def _nats_drop(stream: str) -> None:
    nc = await nats.connect(
        NATS, connect_timeout=2, max_reconnect_attempts=1, allow_reconnect=False
    )
    try:
        await nc.jetstream().delete_stream(stream)
    except nats.js.errors.NotFoundError:
        pass
    finally:
        await nc.close()


async def _patch_figures(h: Harness, password: str, base: str, n: int, label: str) -> None:
    port = int(base.rsplit(":", 1)[1])
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        res = await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": "operator", "password": password},
        )
        hdr = {
            **bearer(res.json()["access_token"]),
            "Link": LINK,
            "Content-Type": "application/json",
        }
        for i in range(IN_FLIGHT):
            await client.post("/ngsi-ld/v1/entities", json=_spot(i), headers=hdr)
    body = json.dumps({"value": "occupied"}).encode()
    patches = [
        request_bytes("PATCH", f"/ngsi-ld/v1/entities/{_spot(i)['id']}/attrs/status", hdr, body)
        for i in range(IN_FLIGHT)
    ]
    load = await run_load(port, patches, n, IN_FLIGHT)
    p50, p95 = p50_p95_ms(load.latencies)
    h.record(
        "context http",
        f"PATCH one attribute ({label})",
        load.rate,
        "updates/s",
        baseline=CEILING,
        higher_is_better=True,
        note=f"p50 {p50:.2f} ms p95 {p95:.2f} ms, {IN_FLIGHT} in flight",
    )


async def _http_figures(
    h: Harness, password: str, base: str, n: int, n_batches: int, store: str
) -> None:
    port = int(base.rsplit(":", 1)[1])
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        res = await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": "operator", "password": password},
        )
        token = res.json()["access_token"]
        hdr = {**bearer(token), "Link": LINK, "Content-Type": "application/json"}
        for i in range(IN_FLIGHT):
            await client.post("/ngsi-ld/v1/entities", json=_spot(i), headers=hdr)
        health = [request_bytes("GET", "/api/v1/health", {})]
        load = await run_load(port, health, n, IN_FLIGHT)
        p50, p95 = p50_p95_ms(load.latencies)
        floor = f"GET /health, its checks included ({store})"
        note = f"p50 {p50:.2f} ms p95 {p95:.2f} ms, {IN_FLIGHT} in flight"
        h.record("context http", floor, load.rate, "req/s", higher_is_better=True, note=note)
        # Each connection updates its own entity, as sensors do; one hot entity would
        # measure optimistic-concurrency retries instead.
        body = json.dumps({"value": "occupied"}).encode()
        patches = [
            request_bytes("PATCH", f"/ngsi-ld/v1/entities/{_spot(i)['id']}/attrs/status", hdr, body)
            for i in range(IN_FLIGHT)
        ]
        load = await run_load(port, patches, n, IN_FLIGHT)
        p50, p95 = p50_p95_ms(load.latencies)
        h.record(
            "context http",
            f"PATCH one attribute ({store})",
            load.rate,
            "updates/s",
            baseline=CEILING,
            higher_is_better=True,
            note=f"p50 {p50:.2f} ms p95 {p95:.2f} ms, {IN_FLIGHT} in flight",
        )
        batch = [_spot(10_000 + i) for i in range(BATCH)]
        url = "/ngsi-ld/v1/entityOperations/upsert"
        await client.post(url, json=batch, headers=hdr)  # first call creates them
        lat: list[float] = []
        for _ in range(n_batches):
            t0 = time.perf_counter()
            res = await client.post(url, json=batch, headers=hdr)
            lat.append(time.perf_counter() - t0)
            assert res.status_code == 204, res.text
        h.record(
            "context http",
            f"batch upsert of {BATCH:,} ({store})",
            BATCH * len(lat) / sum(lat),
            "entities/s",
            baseline=f"PATCH one attribute ({store})",
            higher_is_better=True,
            note=f"one request after another; p50 {statistics.median(lat) * 1000:.0f} ms a batch",
        )


def _query_figures(h: Harness, city: DemoCity, sizes: list[int], store: str) -> None:
    broker = city.platform.broker
    ctx = broker.resolver.compile(LINK.split(">")[0].lstrip("<"))
    near = parse_geoquery("near;maxDistance==500", "Point", "[115.85,28.605]")
    for size in sizes:
        now = broker.clock.now()
        docs = [to_doc(parse_entity(_spot(i), broker.resolver, ctx, now=now)) for i in range(size)]
        tenant = f"bench{size}"
        t0 = time.perf_counter()
        broker.store.upsert_many(tenant, docs)
        dt = time.perf_counter() - t0
        h.record(
            "context store",
            f"upsert_many {size:,} ({store})",
            size / dt,
            "entities/s",
            higher_is_better=True,
            note="one call, one transaction",
        )
        query = EntityQuery(
            context=ctx, types=["ParkingSpot"], q='status=="free"', geo=near, limit=100, count=True
        )
        scan = h.time(lambda t=tenant, q=query: run_query(broker.store, t, q), repeat=1, warmup=0)
        h.record(
            "context query",
            f"type+q+near at {size:,}: store scan ({store})",
            scan.median * 1000,
            "ms",
            note="decode every entity of the type, then filter",
        )
        t0 = time.perf_counter()
        broker.query(tenant, query)  # loads the tenant into the index
        h.record(
            "context query",
            f"index load {size:,} ({store})",
            (time.perf_counter() - t0) * 1000,
            "ms",
            note="once per tenant and process",
        )
        timing = h.time(lambda t=tenant, q=query: broker.query(t, q), repeat=30)
        found = broker.query(tenant, query).total
        h.record(
            "context query",
            f"type+q+near at {size:,}: index ({store})",
            timing.median * 1000,
            "ms",
            baseline=f"type+q+near at {size:,}: store scan ({store})",
            note=f"p95 {timing.percentile(95) * 1000:.1f} ms, {found} matches, count=true",
        )
