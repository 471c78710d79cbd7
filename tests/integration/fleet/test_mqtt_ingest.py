"""MQTT ingress against the real Mosquitto: batches by count and time, topic checks, reconnect."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import msgspec
import pytest

from opencitybrain.adapters.mqtt import (
    MqttBatcher,
    MqttMessage,
    device_topic,
    parse_mqtt_url,
    publish_many,
)
from opencitybrain.apps.fleet.app import FleetApp, gateway_topic_filter, position_topic_filter
from opencitybrain.apps.fleet.service import FleetService
from opencitybrain.apps.fleet.settings import FleetSettings
from opencitybrain.kernel.clock import ManualClock
from tests.integration.conftest import service_missing
from tests.unit.apps.fleet.support import T0, east, engine, msg

MQTT_URL = os.environ.get("CITYBRAIN_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


@pytest.fixture
def mqtt_url() -> str:
    """Return the broker URL, skipping (failing on CI) when Mosquitto is unreachable."""
    host, port, _, _ = parse_mqtt_url(MQTT_URL)
    try:
        with socket.create_connection((host, port), timeout=2):
            pass
    except OSError as exc:
        service_missing("Mosquitto", str(exc))
    return MQTT_URL


async def until(cond: Callable[[], bool], polls: int = 500) -> None:
    """Poll a condition every 20 ms until it holds; fail after ``polls`` tries."""
    for _ in range(polls):
        if cond():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition never held")


async def test_positions_flow_from_mqtt_into_the_engine_in_batches(mqtt_url: str) -> None:
    tenant = f"t{uuid.uuid4().hex[:8]}"  # a topic space of its own: parallel runs never mix
    svc = FleetService(engine(), ManualClock(datetime.fromtimestamp(T0 + 3600, tz=UTC)))
    app = FleetApp(FleetSettings(mqtt_url=mqtt_url, tenant=tenant, batch_max=50, batch_ms=100))
    app.service = svc
    batcher = MqttBatcher(mqtt_url, [position_topic_filter(tenant)], app.on_mqtt,
                          max_batch=50, max_wait_s=0.1)  # fmt: skip
    task = asyncio.create_task(batcher.run())
    try:
        await asyncio.wait_for(batcher.connected.wait(), 10)
        t1 = device_topic(tenant, "fleet", "T1", "position")
        s1 = device_topic(tenant, "fleet", "S1", "position")
        speeds = [90.0 if i == 5 else 30.0 for i in range(120)]
        good = [
            MqttMessage(t1, msgspec.json.encode(msg("T1", T0 + i, east(10 * i), speed=v)))
            for i, v in enumerate(speeds)
        ]
        spoofed = MqttMessage(s1, msgspec.json.encode(msg("T1", T0 + 500, east(0))))
        junk = MqttMessage(t1, b"{not json")
        await publish_many(mqtt_url, [*good, spoofed, junk])
        await until(lambda: svc.counts["received"] == 122)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert svc.counts["accepted"] == 120
    assert batcher.batches >= 3  # 122 messages never fit one batch of 50
    codes = sorted(q.code for q in svc.quarantine)
    assert codes == ["fleet.bad_message", "fleet.device_mismatch"]
    assert any(q.payload == b"{not json" for q in svc.quarantine)
    speeding = [a for a in svc.alerts("all") if a.rule.value == "speeding"]
    assert len(speeding) == 1


async def test_gateway_and_terminal_arrays_flow_in_and_are_held_to_their_topics(
    mqtt_url: str,
) -> None:
    """A gateway's array names any devices; a terminal's array only its own."""
    tenant = f"t{uuid.uuid4().hex[:8]}"
    svc = FleetService(engine(), ManualClock(datetime.fromtimestamp(T0 + 3600, tz=UTC)))
    app = FleetApp(FleetSettings(mqtt_url=mqtt_url, tenant=tenant, batch_ms=100))
    app.service = svc
    assert app.topic_filters() == [position_topic_filter(tenant), gateway_topic_filter(tenant)]
    batcher = MqttBatcher(mqtt_url, app.topic_filters(), app.on_mqtt, max_wait_s=0.1)
    task = asyncio.create_task(batcher.run())
    try:
        await asyncio.wait_for(batcher.connected.wait(), 10)
        gateway = device_topic(tenant, "fleet", "GW-1", "positions")
        t1 = device_topic(tenant, "fleet", "T1", "position")
        both = [msg(d, T0 + i, east(10 * i), speed=30.0) for i in range(50) for d in ("T1", "S1")]
        own = [msg("T1", T0 + 100 + i, east(500 + 10 * i)) for i in range(10)]
        spoofed = msg("S1", T0 + 200, east(0))
        await publish_many(mqtt_url, [
            MqttMessage(gateway, msgspec.json.encode(both)),
            MqttMessage(t1, msgspec.json.encode([*own, spoofed])),
        ])  # fmt: skip
        await until(lambda: svc.counts["received"] == 111)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert svc.counts["accepted"] == 110
    assert [q.code for q in svc.quarantine] == ["fleet.device_mismatch"]
    assert svc.quarantine[0].payload == msgspec.json.encode(spoofed)
