"""Event bus: publish-to-delivery throughput with one subscriber, in-process vs NATS JetStream.

Throughput counts from the first publish until the subscriber has handled the last event,
so it covers encoding, the broker round trip, decoding and the ack. NATS runs on a private
file-backed stream (the production default) that is deleted afterwards.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from benchmarks.harness import Harness
from opencitybrain.adapters.nats_bus import NatsBus
from opencitybrain.kernel.bus import Bus, InProcessBus
from opencitybrain.kernel.errors import Unavailable
from opencitybrain.kernel.events import CloudEvent, Context

NATS_URL = os.environ.get("CITYBRAIN_BENCH_NATS_URL", "nats://127.0.0.1:4222")
GROUP = "bus"
TYPE = "city.bench.sensor.reading"


def _events(n: int) -> list[CloudEvent]:
    ctx = Context.system("benchmark")
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        CloudEvent(
            type=TYPE,
            source="/bench/sensors",
            time=t0,
            subject=f"sensor-{i % 100}",
            data={"seq": i, "speed_kmh": 42.5, "occupancy": 0.31, "lane": i % 4},
            context=ctx,
        )
        for i in range(n)
    ]


async def _throughput(
    bus: Bus, events: list[CloudEvent], send: Callable[[list[CloudEvent]], Awaitable[None]]
) -> float:
    """Return events/s from the first publish until the subscriber has seen them all."""
    done = asyncio.Event()
    seen = 0

    async def handler(_event: CloudEvent) -> None:
        nonlocal seen
        seen += 1
        if seen == len(events):
            done.set()

    sub = await bus.subscribe(TYPE, handler)
    try:
        t0 = time.perf_counter()
        await send(events)
        await asyncio.wait_for(done.wait(), timeout=120)
        return len(events) / (time.perf_counter() - t0)
    finally:
        await sub.unsubscribe()


def _one_by_one(bus: Bus, latencies: list[float] | None = None) -> Callable[..., Awaitable[None]]:
    async def send(events: list[CloudEvent]) -> None:
        for event in events:
            t0 = time.perf_counter()
            await bus.publish(event)
            if latencies is not None:
                latencies.append(time.perf_counter() - t0)

    return send


async def _bench_memory(h: Harness, n: int, rounds: int) -> None:
    bus = InProcessBus()
    try:
        rates = [await _throughput(bus, _events(n), _one_by_one(bus)) for _ in range(rounds)]
    finally:
        await bus.close()
    h.record(GROUP, "in-process", max(rates), "events/s", higher_is_better=True, note=f"N={n}")


async def _bench_nats(h: Harness, n: int, rounds: int) -> None:
    run_id = secrets.token_hex(4)
    stream = f"CBBENCH_{run_id}"
    try:
        bus = await NatsBus.connect(NATS_URL, stream=stream, prefix=f"cbbench_{run_id}")
    except Unavailable as exc:
        h.console.print(f"[yellow]NATS skipped: {exc.message_en}[/yellow]")
        return
    try:
        await _throughput(bus, _events(min(n, 500)), bus.publish_many)  # warm up
        latencies: list[float] = []
        one = [
            await _throughput(bus, _events(n), _one_by_one(bus, latencies)) for _ in range(rounds)
        ]
        many = [await _throughput(bus, _events(n), bus.publish_many) for _ in range(rounds)]
    finally:
        await bus.close()
        await _delete_stream(stream)
    note = f"N={n}, file storage, 1 subscriber"
    h.record(GROUP, "nats: publish one by one", max(one), "events/s",
             baseline="in-process", higher_is_better=True, note=note)  # fmt: skip
    h.record(GROUP, "nats: publish_many", max(many), "events/s",
             baseline="in-process", higher_is_better=True, note=f"{note}, pipelined")  # fmt: skip
    cuts = statistics.quantiles(latencies, n=100)
    h.record(GROUP, "nats publish latency p50", cuts[49] * 1000, "ms", note="until stored (ack)")
    h.record(GROUP, "nats publish latency p99", cuts[98] * 1000, "ms", note="until stored (ack)")


async def _delete_stream(stream: str) -> None:
    import nats

    nc = await nats.connect(NATS_URL, max_reconnect_attempts=1, allow_reconnect=False)
    try:
        await nc.jetstream().delete_stream(stream)
    finally:
        await nc.close()


def run(h: Harness) -> None:
    """Measure bus throughput (and NATS publish latency) with one subscriber."""
    rounds = 1 if h.quick else 3
    asyncio.run(_bench_memory(h, 1_000 if h.quick else 100_000, rounds))
    asyncio.run(_bench_nats(h, 300 if h.quick else 20_000, rounds))
