"""NGSI-LD notifications: how many notified entity changes per second reach a receiver.

Three processes, as in production: the demo city's server (``benchmarks.demo_server``:
SQLite, then PostgreSQL when reachable; in-process bus; the notifier in the serving
loop), a notification receiver
(``benchmarks.notify_receiver``, a tiny asyncio HTTP server) and the client (this
process: httpx on loopback). N subscriptions on ParkingSpot ``status`` each notify their
own receiver path. Every update changes a value, so each is a change every subscription
must notify: first single PATCHes, 8 in flight, on 8 spots; then batch updates of
1,000 spots, which bring changes faster than PATCHes can, so the notifier sets the pace.

Figures, all from the same run:

- PATCH updates/s with no subscription (baseline) and with N subscriptions;
- notifications/s of each phase: notified entity changes delivered per second, from
  the first update to the last arrival (a POST may carry several changes: the notifier
  batches what queued up), against the receiver's HTTP floor (one-entity POSTs sent
  straight to it by an httpx client, 8 in flight);
- delivered: the share of the expected notifications that arrived (must be 100 %);
- update → notification latency, p50/p95, one update at a time.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.harness import Harness
from benchmarks.notify_receiver import start_receiver
from benchmarks.servers import p50_p95_ms, postgres_database, serve_demo
from tests.support import bearer

GROUP = "context notify"
FLOOR = "receiver floor: direct POSTs"
FLIPS = ("occupied", "free")
SPOTS = 8
IN_FLIGHT = 8
WAIT_S = 120.0
LINK = (
    "<https://smart-data-models.github.io/dataModel.Parking/context.jsonld>; "
    'rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
)


def _spot(i: int) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:ParkingSpot:notify:{i:07d}",
        "type": "ParkingSpot",
        "status": {"type": "Property", "value": "free"},
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [115.80 + (i % 300) * 0.0005, 28.60]},
        },
    }


# --- the client (this process) -----------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    """How much work each phase does."""

    subs: int  # subscriptions, each notifying its own receiver path
    patches: int  # single-attribute PATCHes per phase
    batch: int  # entities per batch update
    rounds: int  # batch updates
    latency: int  # one-at-a-time updates timed to their notifications


QUICK = Sizes(subs=2, patches=48, batch=20, rounds=2, latency=5)
FULL = Sizes(subs=10, patches=2000, batch=1000, rounds=5, latency=50)


def run(h: Harness) -> None:
    """Measure notifications/s to a local receiver for N subscriptions, on both stores."""
    sizes = QUICK if h.quick else FULL
    with tempfile.TemporaryDirectory() as tmp, postgres_database("cb_notify") as pg_url:
        stores: list[tuple[str, str | None]] = [("SQLite", None)]
        if pg_url is None:
            h.console.print("[yellow]PostgreSQL unreachable: its figures are left out[/yellow]")
        else:
            stores.append(("PostgreSQL", pg_url))
        for label, url in stores:
            base, password, server = serve_demo(Path(tmp) / f"server-{label}", url)
            receiver, receiver_proc = start_receiver()
            try:
                group = f"{GROUP} · {label}"
                asyncio.run(_figures(h, group, base, password, receiver, sizes))
            finally:
                for proc in (server, receiver_proc):
                    proc.terminate()
                    proc.wait(timeout=20)


class _Broker:
    """The client side: PATCHes and batch updates with the operator's token."""

    def __init__(self, client: httpx.AsyncClient, hdr: dict[str, str]) -> None:
        self.client = client
        self.hdr = hdr
        self.urls = [f"/ngsi-ld/v1/entities/{_spot(i)['id']}/attrs/status" for i in range(SPOTS)]

    async def patch(self, i: int, lat: list[float]) -> None:
        """Set spot i % 8 to occupied or free by round: every PATCH changes a value."""
        body = {"value": FLIPS[(i // SPOTS) % 2]}
        t0 = time.perf_counter()
        res = await self.client.patch(self.urls[i % SPOTS], json=body, headers=self.hdr)
        lat.append(time.perf_counter() - t0)
        assert res.status_code < 300, res.text

    async def patches(self, count: int, start: int) -> tuple[float, list[float]]:
        """PATCH ``count`` times, 8 in flight; return updates/s and latencies."""
        lat: list[float] = []
        t0 = time.perf_counter()
        for lo in range(start, start + count, IN_FLIGHT):
            top = min(lo + IN_FLIGHT, start + count)
            await asyncio.gather(*(self.patch(i, lat) for i in range(lo, top)))
        return count / (time.perf_counter() - t0), lat

    async def batch_update(self, first: int, size: int, status: str) -> None:
        """Update the status of spots first … first+size-1 in one batch request."""
        body = [
            {
                "id": _spot(i)["id"],
                "type": "ParkingSpot",
                "status": {"type": "Property", "value": status},
            }
            for i in range(first, first + size)
        ]
        res = await self.client.post(
            "/ngsi-ld/v1/entityOperations/upsert",
            json=body,
            params={"options": "update"},
            headers=self.hdr,
        )
        assert res.status_code < 300, res.text


async def _arrived(recv: httpx.AsyncClient, entities: int = 0, wait_s: float = 0) -> Any:
    """Return the receiver's tallies once ``entities`` arrived (or ``wait_s`` passed)."""
    res = await recv.get("/wait", params={"entities": entities, "timeout": wait_s})
    return json.loads(res.content)


async def _figures(
    h: Harness, group: str, base: str, password: str, receiver: str, sizes: Sizes
) -> None:
    async with (
        httpx.AsyncClient(base_url=base, timeout=60) as client,
        httpx.AsyncClient(base_url=receiver, timeout=WAIT_S + 30) as recv,
    ):
        res = await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": "operator", "password": password},
        )
        broker = _Broker(client, {**bearer(res.json()["access_token"]), "Link": LINK})
        # Every entity exists before any subscription, so creations notify nothing.
        spots = max(SPOTS, sizes.batch)
        res = await client.post(
            "/ngsi-ld/v1/entityOperations/upsert",
            json=[_spot(i) for i in range(spots)],
            headers=broker.hdr,
        )
        assert res.status_code < 300, res.text
        n = sizes.subs

        rate, lat = await broker.patches(sizes.patches, 0)
        p50, p95 = p50_p95_ms(lat)
        note = f"p50 {p50:.2f} ms p95 {p95:.2f} ms, {IN_FLIGHT} in flight"
        h.record(
            group, "PATCH, no subscription", rate, "updates/s", higher_is_better=True, note=note
        )
        floor = await _receiver_floor(recv, sizes.patches * n)
        h.record(
            group,
            FLOOR,
            floor,
            "notifications/s",
            higher_is_better=True,
            note=f"httpx → receiver, one entity per POST, {IN_FLIGHT} in flight",
        )

        for k in range(n):
            await _subscribe(client, broker.hdr, f"{receiver}/s{k}")
        start = first = await _arrived(recv)

        # Phase 1: single PATCHes, 8 in flight.
        t0 = time.perf_counter()
        rate, lat = await broker.patches(sizes.patches, sizes.patches)
        got = await _arrived(recv, start["entities"] + sizes.patches * n, WAIT_S)
        elapsed = time.perf_counter() - t0
        p50, p95 = p50_p95_ms(lat)
        h.record(
            group,
            f"PATCH, {n} subscriptions",
            rate,
            "updates/s",
            baseline="PATCH, no subscription",
            higher_is_better=True,
            note=f"p50 {p50:.2f} ms p95 {p95:.2f} ms, {IN_FLIGHT} in flight",
        )
        _record_delivery(
            h, group, f"notifications of PATCHes, {n} subscriptions", start, got, elapsed
        )

        # Phase 2: batch updates, so changes come faster than PATCHes can bring them.
        start = got
        t0 = time.perf_counter()
        for r in range(sizes.rounds):
            await broker.batch_update(0, sizes.batch, FLIPS[r % 2])
        sent = time.perf_counter() - t0
        changes = sizes.batch * sizes.rounds
        got = await _arrived(recv, start["entities"] + changes * n, WAIT_S)
        elapsed = time.perf_counter() - t0
        h.record(
            group,
            f"batch update, {n} subscriptions",
            changes / sent,
            "entity updates/s",
            higher_is_better=True,
            note=f"{sizes.rounds} upserts (options=update) of {sizes.batch:,} entities",
        )
        _record_delivery(
            h, group, f"notifications of batches, {n} subscriptions", start, got, elapsed
        )
        expected = (sizes.patches + changes) * n
        delivered = got["entities"] - first["entities"]
        h.record(
            group,
            "delivered",
            100 * delivered / expected,
            "%",
            higher_is_better=True,
            note=f"{delivered:,} of {expected:,} notified entity changes, none lost",
        )

        # Latency: one update at a time, until all N notifications arrived.
        latencies: list[float] = []
        seen = got["entities"]
        for i in range(sizes.latency):
            t0 = time.perf_counter()
            await broker.patch(i * SPOTS, [])
            seen = (await _arrived(recv, seen + n, 10))["entities"]
            latencies.append(time.perf_counter() - t0)
        p50, p95 = p50_p95_ms(latencies)
        h.record(
            group,
            f"update → notification, {n} subscriptions",
            p50,
            "ms p50",
            note=f"p95 {p95:.2f} ms, one PATCH at a time, until all {n} notifications arrived",
        )


def _record_delivery(
    h: Harness, group: str, name: str, start: Any, got: Any, elapsed: float
) -> None:
    delivered = got["entities"] - start["entities"]
    posts = got["posts"] - start["posts"]
    h.record(
        group,
        name,
        delivered / elapsed,
        "notifications/s",
        baseline=FLOOR,
        higher_is_better=True,
        note=f"{delivered:,} entity changes in {posts:,} POSTs, "
        f"{elapsed:.2f} s from the first update to the last arrival",
    )


async def _subscribe(client: httpx.AsyncClient, hdr: dict[str, str], uri: str) -> None:
    subscription = {
        "type": "Subscription",
        "entities": [{"type": "ParkingSpot"}],
        "watchedAttributes": ["status"],
        "notification": {
            "endpoint": {"uri": uri},
            "attributes": ["status"],
            "format": "keyValues",
        },
    }
    res = await client.post("/ngsi-ld/v1/subscriptions", json=subscription, headers=hdr)
    assert res.status_code == 201, res.text


async def _receiver_floor(recv: httpx.AsyncClient, n: int) -> float:
    """Return one-entity POSTs/s an httpx client gets through to the receiver, 8 in flight."""
    note = {"id": "urn:ngsi-ld:Notification:floor", "type": "Notification"}
    body = {**note, "data": [{"id": _spot(0)["id"], "type": "ParkingSpot", "status": "free"}]}

    async def one() -> None:
        res = await recv.post("/floor", json=body)
        assert res.status_code == 204

    t0 = time.perf_counter()
    for lo in range(0, n, IN_FLIGHT):
        await asyncio.gather(*(one() for _ in range(min(IN_FLIGHT, n - lo))))
    return n / (time.perf_counter() - t0)
