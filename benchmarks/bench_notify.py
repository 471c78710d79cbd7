"""NGSI-LD notifications: how many notified entity changes per second reach a receiver.

Three processes, as in production: the demo city's server (``benchmarks.demo_server``:
SQLite, in-process bus, the notifier in the serving loop), a notification receiver
(a tiny asyncio HTTP server, this module run with ``--receiver PORT``) and the client
(this process: httpx on loopback). N subscriptions on ParkingSpot ``status`` each notify
their own receiver path; 8 updates in flight PATCH the status of 8 spots (each PATCH
changes the value, so each is a change every subscription must notify).

Figures, all from the same run:

- PATCH updates/s with no subscription (baseline) and with N subscriptions;
- notifications/s: notified entity changes delivered per second, from the first PATCH
  to the last arrival (a POST may carry several changes: the notifier batches what
  queued up), against the receiver's HTTP floor (one-entity POSTs sent straight to it
  by an httpx client, 8 in flight);
- delivered: the share of the expected notifications that arrived (must be 100 %);
- update → notification latency, p50/p95, one update at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from benchmarks.bench_context import LINK, _pcts, _serve, _spot, _timed
from benchmarks.harness import Harness
from tests.conftest import free_port
from tests.support import bearer

GROUP = "context notify"
SPOTS = 8
IN_FLIGHT = 8
WAIT_S = 120.0


# --- the receiver (its own process) ------------------------------------------------------


class _Tally:
    """Count notifications and notified entities; wake waiters on each arrival."""

    def __init__(self) -> None:
        self.posts = 0
        self.entities = 0
        self.changed = asyncio.Condition()

    def snapshot(self) -> bytes:
        return json.dumps({"posts": self.posts, "entities": self.entities}).encode()


async def _handle(
    tally: _Tally, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    # HTTP/1.1 with keep-alive, as much of it as a notifier and httpx use: Content-Length
    # bodies, no chunking. POST counts a notification; GET /wait?entities=N&timeout=S
    # answers once N entities were notified (or S seconds passed) with the tallies.
    try:
        while True:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            method, target, _ = head[0].split(" ", 2)
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            body = await reader.readexactly(length) if length else b""
            if method == "POST":
                notified = len(json.loads(body).get("data", ()))
                async with tally.changed:
                    tally.posts += 1
                    tally.entities += notified
                    tally.changed.notify_all()
                writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
            else:
                query = parse_qs(urlsplit(target).query)
                want = int(query.get("entities", ["0"])[0])
                timeout = float(query.get("timeout", ["0"])[0])
                async with tally.changed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            tally.changed.wait_for(lambda n=want: tally.entities >= n), timeout
                        )
                    payload = tally.snapshot()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def _receive(port: int) -> None:
    tally = _Tally()
    server = await asyncio.start_server(
        lambda r, w: _handle(tally, r, w), "127.0.0.1", port, backlog=256
    )
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


def _start_receiver() -> tuple[str, subprocess.Popen[str]]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.bench_notify", "--receiver", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready", "the receiver did not start"
    return f"http://127.0.0.1:{port}", proc


# --- the client (this process) -----------------------------------------------------------


def run(h: Harness) -> None:
    """Measure notifications/s to a local receiver for N subscriptions while PATCHing."""
    n_subs = 2 if h.quick else 10
    n_updates = 48 if h.quick else 2000
    n_latency = 5 if h.quick else 50
    with tempfile.TemporaryDirectory() as tmp:
        base, password, server = _serve(Path(tmp) / "server")
        receiver, receiver_proc = _start_receiver()
        try:
            asyncio.run(_figures(h, base, password, receiver, n_subs, n_updates, n_latency))
        finally:
            for proc in (server, receiver_proc):
                proc.terminate()
                proc.wait(timeout=20)


async def _figures(
    h: Harness,
    base: str,
    password: str,
    receiver: str,
    n_subs: int,
    n_updates: int,
    n_latency: int,
) -> None:
    async with (
        httpx.AsyncClient(base_url=base, timeout=30) as client,
        httpx.AsyncClient(base_url=receiver, timeout=WAIT_S + 30) as recv,
    ):
        res = await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": "operator", "password": password},
        )
        hdr = {**bearer(res.json()["access_token"]), "Link": LINK}
        for i in range(SPOTS):
            res = await client.post("/ngsi-ld/v1/entities", json=_spot(i), headers=hdr)
            assert res.status_code == 201, res.text

        urls = [f"/ngsi-ld/v1/entities/{_spot(i)['id']}/attrs/status" for i in range(SPOTS)]
        flips = [{"value": "occupied"}, {"value": "free"}]

        async def patch(count: int, start: int) -> tuple[float, list[float]]:
            # Request i sets spot i % 8 to flips[round % 2]: every PATCH changes a value.
            lat: list[float] = []
            t0 = time.perf_counter()
            for lo in range(start, start + count, IN_FLIGHT):
                batch = range(lo, min(lo + IN_FLIGHT, start + count))
                done = await asyncio.gather(
                    *(
                        _one(client, urls[i % SPOTS], flips[(i // SPOTS) % 2], hdr, lat)
                        for i in batch
                    )
                )
                assert all(done)
            return count / (time.perf_counter() - t0), lat

        rate, lat = await patch(n_updates, 0)
        p50, p95 = _pcts(lat)
        h.record(
            GROUP,
            "PATCH, no subscription",
            rate,
            "updates/s",
            higher_is_better=True,
            note=f"p50 {p50:.2f} ms p95 {p95:.2f} ms, {IN_FLIGHT} in flight, SQLite",
        )

        floor = await _receiver_floor(recv, n_updates * n_subs)
        h.record(
            GROUP,
            "receiver floor: direct POSTs",
            floor,
            "notifications/s",
            higher_is_better=True,
            note=f"httpx → receiver, one entity per POST, {IN_FLIGHT} in flight",
        )
        before = json.loads((await recv.get("/wait")).content)
        already = before["entities"]

        for k in range(n_subs):
            subscription = {
                "type": "Subscription",
                "entities": [{"type": "ParkingSpot"}],
                "watchedAttributes": ["status"],
                "notification": {
                    "endpoint": {"uri": f"{receiver}/s{k}"},
                    "attributes": ["status"],
                    "format": "keyValues",
                },
            }
            res = await client.post("/ngsi-ld/v1/subscriptions", json=subscription, headers=hdr)
            assert res.status_code == 201, res.text

        expected = already + n_updates * n_subs
        t0 = time.perf_counter()
        rate, lat = await patch(n_updates, n_updates)
        got = json.loads(
            (await recv.get("/wait", params={"entities": expected, "timeout": WAIT_S})).content
        )
        elapsed = time.perf_counter() - t0
        delivered = got["entities"] - already
        p50, p95 = _pcts(lat)
        h.record(
            GROUP,
            f"PATCH, {n_subs} subscriptions",
            rate,
            "updates/s",
            baseline="PATCH, no subscription",
            higher_is_better=True,
            note=f"p50 {p50:.2f} ms p95 {p95:.2f} ms, {IN_FLIGHT} in flight",
        )
        h.record(
            GROUP,
            f"notifications, {n_subs} subscriptions",
            delivered / elapsed,
            "notifications/s",
            baseline="receiver floor: direct POSTs",
            higher_is_better=True,
            note=f"{delivered:,} entity changes in {got['posts'] - before['posts']} "
            f"POSTs, {elapsed:.2f} s from first PATCH to last arrival",
        )
        h.record(
            GROUP,
            "delivered",
            100 * delivered / (n_updates * n_subs),
            "%",
            higher_is_better=True,
            note=f"{delivered:,} of {n_updates * n_subs:,} within {WAIT_S:.0f} s",
        )

        latencies: list[float] = []
        seen = got["entities"]
        for i in range(n_latency):
            one_start = time.perf_counter()
            assert await _one(client, urls[0], flips[i % 2], hdr, [])
            res = await recv.get("/wait", params={"entities": seen + n_subs, "timeout": 10})
            latencies.append(time.perf_counter() - one_start)
            seen = json.loads(res.content)["entities"]
        p50, p95 = _pcts(latencies)
        h.record(
            GROUP,
            f"update → notification, {n_subs} subscriptions",
            p50,
            "ms p50",
            note=f"p95 {p95:.2f} ms, one update at a time, until all {n_subs} arrived",
        )


async def _one(
    client: httpx.AsyncClient, url: str, body: dict[str, Any], hdr: dict[str, str], lat: list[float]
) -> bool:
    t0 = time.perf_counter()
    res = await client.patch(url, json=body, headers=hdr)
    lat.append(time.perf_counter() - t0)
    return res.status_code < 300


async def _receiver_floor(recv: httpx.AsyncClient, n: int) -> float:
    note = {"id": "urn:ngsi-ld:Notification:floor", "type": "Notification"}
    entity = {"id": _spot(0)["id"], "type": "ParkingSpot", "status": "free"}
    rate, _ = await _timed(recv, "POST", "/floor", n, IN_FLIGHT, json={**note, "data": [entity]})
    return rate


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--receiver":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_receive(int(sys.argv[2])))
    else:
        sys.exit("usage: python -m benchmarks.bench_notify --receiver PORT")
