"""MQTT half of the fleet benchmark: ingest rate, and publish → alert latency at a set rate.

The publisher runs in its own process (as terminals would), pacing messages in 10 ms
slices; the subscriber batches them into the fleet pipeline in this process. About
200 messages a run report a speed far over the class limit: the time from its publish to
its alert opening is one latency sample. Both processes read ``time.perf_counter`` —
CLOCK_MONOTONIC on Linux, the same clock machine-wide — so the samples are comparable.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import secrets
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
import numpy as np

from benchmarks.harness import Harness
from opencitybrain.adapters.mqtt import (
    MqttBatcher,
    MqttMessage,
    device_topic,
    parse_mqtt_url,
    topic_device,
)
from opencitybrain.apps.fleet.app import gateway_topic_filter, position_topic_filter, vouched_device
from opencitybrain.apps.fleet.engine import FleetEngine
from opencitybrain.apps.fleet.messages import decode_payloads, split_payloads
from opencitybrain.apps.fleet.model import Fleet, Vehicle, VehicleClass
from opencitybrain.apps.fleet.rules import RuleConfig
from opencitybrain.apps.fleet.service import FleetService
from opencitybrain.citypack.service import CityService
from opencitybrain.kernel.clock import ManualClock

GROUP = "fleet mqtt"
START = "start"  # the publisher's first send, among its stamps


@dataclass(frozen=True)
class Plan:
    """Say what the publisher sends: how many, how fast, for which vehicles, from when."""

    url: str
    tenant: str
    n: int
    rate: float  # messages/s; 0: as fast as possible
    devices: list[tuple[str, str]]  # (device id, plate)
    t0: float  # epoch seconds of the first report
    gateway: bool = False  # one array per 10 ms slice on a gateway's channel, not one per point
    qos: int = 0

    @property
    def inject_every(self) -> int:
        """Return the spacing of speeding reports: about 200 per run, never the same
        vehicle twice running (its alert would still be open, and no sample taken)."""
        m = max(2, self.n // 200)
        while len(self.devices) % m == 0:
            m += 1
        return m


def reachable(url: str) -> bool:
    """Tell whether the MQTT broker accepts TCP connections."""
    host, port, _, _ = parse_mqtt_url(url)
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


GATEWAY = "GW-01"
SLICE = 500  # points per gateway publish when publishing flat out


def _payloads(plan: Plan) -> list[tuple[str, bytes, bool]]:
    """Return (topic, payload, injected) per point; the topic is the device's own."""
    out = []
    k = len(plan.devices)
    for i in range(plan.n):
        device, plate = plan.devices[i % k]
        inject = i % plan.inject_every == plan.inject_every - 1
        msg = {
            "device_id": device,
            "plate": plate,
            "time": round((plan.t0 + i // k) * 1000),
            "lon": 115.88 + (i % k) * 1e-5,
            "lat": 28.67,
            "speed": 150.0 if inject else 5.0,
        }
        out.append((device_topic(plan.tenant, "fleet", device, "position"),
                    msgspec.json.encode(msg), inject))  # fmt: skip
    return out


def _publisher(plan: Plan, sent: Any) -> None:
    """Publish the plan's messages, paced in 10 ms slices; report injected send times.

    paho's own client, not aiomqtt: an awaited publish costs an event-loop round trip per
    message, which would make the publisher the bottleneck, not the pipeline. As a
    gateway, each slice's points go out as one JSON array once the slice's last point is
    due, and a point's send time is when it was due: the gateway's wait is counted.
    """
    import paho.mqtt.client as paho  # the publisher process stands in for the terminals
    from paho.mqtt.enums import CallbackAPIVersion

    host, port, _, _ = parse_mqtt_url(plan.url)
    msgs = _payloads(plan)
    stamps: dict[str, float] = {}
    client = paho.Client(CallbackAPIVersion.VERSION2)
    client.max_queued_messages_set(0)  # unbounded: messages wait in memory
    client.max_inflight_messages_set(1000)  # QoS 1: acks in flight, not one at a time
    client.connect(host, port)
    client.loop_start()
    start = stamps[START] = time.perf_counter()
    step = max(1, int(plan.rate / 100)) if plan.rate else (SLICE if plan.gateway else 0)
    gateway = device_topic(plan.tenant, "fleet", GATEWAY, "positions")
    k = len(plan.devices)
    for j in range(0, len(msgs), step or len(msgs)):
        part = msgs[j : j + step] if step else msgs
        due = start + (j + len(part) - 1) / plan.rate if plan.rate else 0.0
        if plan.gateway:
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            now = time.perf_counter()
            for i, (topic, _, inject) in enumerate(part, start=j):
                if inject:
                    at = start + i / plan.rate if plan.rate else now
                    stamps[f"{topic_device(topic)}@{i // k}"] = at
            client.publish(gateway, b"[" + b",".join(p for _, p, _ in part) + b"]", qos=plan.qos)
            continue
        delay = start + j / plan.rate - time.perf_counter() if plan.rate else 0.0
        if delay > 0:
            time.sleep(delay)
        for i, (topic, payload, inject) in enumerate(part, start=j):
            if inject:
                stamps[f"{topic_device(topic)}@{i // k}"] = time.perf_counter()
            client.publish(topic, payload, qos=plan.qos)
    while plan.qos and client.want_write():
        time.sleep(0.05)
    time.sleep(0.5)  # let the network thread flush
    client.loop_stop()
    client.disconnect()
    sent.send(stamps)


async def _run(plan: Plan, city: CityService) -> tuple[float, int, list[float]]:
    vehicles = [Vehicle(d, p, VehicleClass.TAXI) for d, p in plan.devices]
    engine = FleetEngine(Fleet(vehicles), RuleConfig(), city.graph, city.projection)
    # "Now" just after the last report: nobody is offline, nothing is from the future.
    last = plan.t0 + plan.n // len(plan.devices)
    clock = ManualClock(datetime.fromtimestamp(last + 60, UTC))
    svc = FleetService(engine, clock)
    opened_at: dict[str, float] = {}
    handled = [0.0]  # when the last batch was done

    async def handle(batch: Sequence[MqttMessage]) -> None:
        payloads, devices = split_payloads(
            [m.payload for m in batch], [vouched_device(m.topic) for m in batch]
        )
        decoded = decode_payloads(payloads, devices, clock.now().timestamp())
        outcome = await svc.ingest_batch(decoded)
        now = handled[0] = time.perf_counter()
        for a in outcome.opened:
            opened_at[f"{a.device_id}@{round(a.opened_at.timestamp() - plan.t0)}"] = now

    topics = [position_topic_filter(plan.tenant), gateway_topic_filter(plan.tenant)]
    batcher = MqttBatcher(plan.url, topics, handle, max_batch=5000, max_wait_s=0.05, qos=plan.qos)
    task = asyncio.create_task(batcher.run())
    await asyncio.wait_for(batcher.connected.wait(), 10)
    recv, send = mp.Pipe(duplex=False)
    proc = mp.get_context("spawn").Process(target=_publisher, args=(plan, send))
    start = time.perf_counter()  # until the publisher reports its own first send
    proc.start()
    stamps: dict[str, float] = await asyncio.to_thread(recv.recv)
    # QoS 0 may drop messages when the subscriber falls behind (the broker's queue per
    # client is bounded): stop once all came or none came for a second.
    for _ in range(3000):
        quiet = time.perf_counter() - max(handled[0], start) > 1.0
        if svc.counts["received"] >= plan.n or quiet:
            break
        await asyncio.sleep(0.01)
    start = stamps.pop(START)  # counted from the first publish, not the process start
    elapsed = handled[0] - start
    proc.join(5)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    lat = [opened_at[k] - t for k, t in stamps.items() if k in opened_at]
    return elapsed, svc.counts["received"], lat


def run(h: Harness, url: str, city: CityService) -> None:
    """Measure MQTT ingest (as fast as possible) and latency at set rates.

    Two ways in: one publish per point on each device's topic, and an access gateway
    publishing every 10 ms one JSON array of the points it received (docs/fleet.md).
    """
    if not reachable(url):
        h.console.print(f"[yellow]MQTT broker {url} unreachable: fleet MQTT figures skipped")
        return
    k = 200 if h.quick else 5_000
    devices = [(f"M{i:05d}", f"赣B{i % 10000:05d}") for i in range(k)]
    t0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC).timestamp()
    n = 2_000 if h.quick else 100_000
    for gateway, how in ((False, "one publish per point"), (True, f"gateway arrays of {SLICE}")):
        plan = Plan(url, f"b{secrets.token_hex(4)}", n, 0.0, devices, t0, gateway=gateway)
        elapsed, got, _ = asyncio.run(_run(plan, city))
        h.record(GROUP, f"ingest, publisher flat out, {how}", got / elapsed, "points/s",
                 higher_is_better=True, note=f"{got:,} of {n:,} points through the fleet "
                 "pipeline (QoS 0), publisher in its own process")  # fmt: skip
    # The rate, and one this 2-core machine sustains with the publisher beside it.
    cases = [(2_000.0, False, 0)]
    if not h.quick:
        cases = [(50_000.0, False, 0), (50_000.0, True, 0), (50_000.0, True, 1), *cases]
    for rate, gateway, qos in cases:
        seconds = 1 if h.quick else 4
        plan = Plan(url, f"b{secrets.token_hex(4)}", int(rate * seconds), rate, devices, t0,
                    gateway=gateway, qos=qos)  # fmt: skip
        elapsed, got, lat = asyncio.run(_run(plan, city))
        if not lat:
            continue
        arr = np.asarray(lat)
        how = "gateway, 10 ms arrays" if gateway else "one publish per point"
        note = (f"{len(arr)} injected speeding reports; {got / elapsed:,.0f} points/s taken, "
                f"{got:,} of {plan.n:,} delivered (QoS {qos})")  # fmt: skip
        for q in (50, 99):
            h.record(GROUP, f"publish → alert p{q} at {rate:,.0f} points/s, {how}, QoS {qos}",
                     float(np.percentile(arr, q)) * 1000, "ms", note=note)  # fmt: skip
