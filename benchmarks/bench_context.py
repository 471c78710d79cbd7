"""NGSI-LD context broker: single PATCH over HTTP, batch upsert, and queries.

A real uvicorn server on 127.0.0.1 with the demo city's wiring (SQLite in a temp folder,
in-process bus); clients are httpx on loopback. The baselines are measured in the same
run: PATCH latency against GET /api/v1/health on the same server (the HTTP floor), and
queries against a plain store scan of the same entities.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.harness import Harness
from opencitybrain.context.geoquery_input import parse_geoquery
from opencitybrain.context.model import to_doc
from opencitybrain.context.parsing import parse_entity
from opencitybrain.context.query import EntityQuery, run_query
from tests.conftest import free_port
from tests.support import DemoCity, bearer, build_demo_city

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


def _serve(data_dir: Path) -> tuple[str, str, subprocess.Popen[str]]:
    # The server runs in its own process, as in production: a client in the same process
    # would share its GIL and halve both.
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.demo_server", str(data_dir), str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
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


def _pcts(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(0.95 * (len(ordered) - 1))] * 1000


async def _timed(
    client: httpx.AsyncClient, method: str, url: str | list[str], n: int, conc: int, **kw: Any
) -> tuple[float, list[float]]:
    lat: list[float] = []
    urls = [url] if isinstance(url, str) else url

    async def one(i: int) -> None:
        t0 = time.perf_counter()
        res = await client.request(method, urls[i % len(urls)], **kw)
        lat.append(time.perf_counter() - t0)
        assert res.status_code < 300, res.text

    t_start = time.perf_counter()
    for lo in range(0, n, conc):
        await asyncio.gather(*(one(i) for i in range(min(conc, n - lo))))
    return n / (time.perf_counter() - t_start), lat


def run(h: Harness) -> None:
    """Measure PATCH/s, batch upsert and query latency on the broker."""
    n_patch = 200 if h.quick else 3000
    sizes = [500] if h.quick else [10_000, 100_000]
    with tempfile.TemporaryDirectory() as tmp:
        base, password, proc = _serve(Path(tmp) / "server")
        try:
            asyncio.run(_http_figures(h, password, base, n_patch))
        finally:
            proc.terminate()
            proc.wait(timeout=20)
        _query_figures(h, build_demo_city(Path(tmp) / "local"), sizes)


async def _http_figures(h: Harness, password: str, base: str, n: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        res = await client.post(
            "/api/v1/auth/token",
            data={
                "grant_type": "password",
                "username": "operator",
                "password": password,
            },
        )
        auth = bearer(res.json()["access_token"])
        hdr = {**auth, "Link": LINK, "Content-Type": "application/json"}
        for i in range(8):
            await client.post("/ngsi-ld/v1/entities", json=_spot(i), headers=hdr)
        rate, lat = await _timed(client, "GET", "/api/v1/health", n, 8)
        p50, p95 = _pcts(lat)
        h.record(
            "context http",
            "GET /health (floor)",
            rate,
            "req/s",
            higher_is_better=True,
            note=f"p50 {p50:.2f} ms p95 {p95:.2f} ms, 8 in flight",
        )
        # Each request in flight updates its own entity, as sensors do; one hot entity
        # would measure optimistic-concurrency retries instead.
        urls = [f"/ngsi-ld/v1/entities/{_spot(i)['id']}/attrs/status" for i in range(8)]
        rate, lat = await _timed(
            client, "PATCH", urls, n, 8, headers=hdr, json={"value": "occupied"}
        )
        p50, p95 = _pcts(lat)
        h.record(
            "context http",
            "PATCH one attribute",
            rate,
            "updates/s",
            baseline="GET /health (floor)",
            higher_is_better=True,
            note=f"p50 {p50:.2f} ms p95 {p95:.2f} ms, 8 in flight, SQLite",
        )


def _query_figures(h: Harness, city: DemoCity, sizes: list[int]) -> None:
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
            f"upsert_many {size:,}",
            size / dt,
            "entities/s",
            higher_is_better=True,
            note="one call, one transaction, SQLite",
        )
        query = EntityQuery(
            context=ctx, types=["ParkingSpot"], q='status=="free"', geo=near, limit=100, count=True
        )
        scan = h.time(lambda t=tenant, q=query: run_query(broker.store, t, q), repeat=1, warmup=0)
        h.record(
            "context query",
            f"type+q+near at {size:,}: store scan",
            scan.median * 1000,
            "ms",
            note="decode every entity of the type, then filter",
        )
        t0 = time.perf_counter()
        broker.query(tenant, query)  # loads the tenant into the index
        h.record(
            "context query",
            f"index load {size:,}",
            (time.perf_counter() - t0) * 1000,
            "ms",
            note="once per tenant and process",
        )
        timing = h.time(lambda t=tenant, q=query: broker.query(t, q), repeat=30)
        found = broker.query(tenant, query).total
        h.record(
            "context query",
            f"type+q+near at {size:,}: index",
            timing.median * 1000,
            "ms",
            baseline=f"type+q+near at {size:,}: store scan",
            note=f"p95 {timing.percentile(95) * 1000:.1f} ms, {found} matches, count=true",
        )
