"""``citybrain fleet replay --to mqtt://… --gateway GW``: the Wuxi taxis as a gateway's arrays."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime

import msgspec

from opencitybrain.adapters.mqtt import MqttBatcher
from opencitybrain.apps.fleet.app import FleetApp
from opencitybrain.apps.fleet.cli import GATEWAY_ARRAY, _replay, mqtt_messages
from opencitybrain.apps.fleet.engine import FleetEngine
from opencitybrain.apps.fleet.model import Fleet
from opencitybrain.apps.fleet.replay import load_wuxi, wuxi_messages, wuxi_vehicles
from opencitybrain.apps.fleet.rules import RuleConfig
from opencitybrain.apps.fleet.service import FleetService
from opencitybrain.apps.fleet.settings import FleetSettings
from opencitybrain.citypack.loader import load_pack
from opencitybrain.citypack.service import CityService
from opencitybrain.kernel.clock import ManualClock
from tests.integration.fleet.test_mqtt_ingest import mqtt_url, until

__all__ = ["mqtt_url"]

CENTRE = (115.858, 28.683)  # Nanchang's centre, as the pack has it


def _messages(n: int) -> list[dict[str, object]]:
    return wuxi_messages(load_wuxi(), CENTRE, 1_780_000_000.0, rate=60.0)[:n]


def test_a_chunk_leaves_per_terminal_or_as_a_gateways_arrays() -> None:
    chunk = _messages(1_234)
    per_point = mqtt_messages(chunk, "nanchang", None)
    assert len(per_point) == 1_234
    assert per_point[0].topic == f"citybrain/nanchang/fleet/{chunk[0]['device_id']}/position"
    arrays = mqtt_messages(chunk, "nanchang", "GW-R")
    assert [len(msgspec.json.decode(a.payload)) for a in arrays] == [GATEWAY_ARRAY, 500, 234]
    assert {a.topic for a in arrays} == {"citybrain/nanchang/fleet/GW-R/positions"}
    assert [m for a in arrays for m in msgspec.json.decode(a.payload)] == chunk


async def test_the_replay_as_a_gateway_reaches_the_fleet_app_whole(mqtt_url: str) -> None:
    tenant = f"t{uuid.uuid4().hex[:8]}"
    msgs = _messages(3_000)
    city = CityService(load_pack("nanchang"))
    fleet = FleetEngine(Fleet(wuxi_vehicles(load_wuxi())), RuleConfig(), city.graph,
                        city.projection)  # fmt: skip
    last = float(msgs[-1]["time"]) / 1000  # type: ignore[arg-type]
    svc = FleetService(fleet, ManualClock(datetime.fromtimestamp(last, UTC)))
    app = FleetApp(FleetSettings(mqtt_url=mqtt_url, tenant=tenant, batch_ms=100))
    app.service = svc
    batcher = MqttBatcher(mqtt_url, app.topic_filters(), app.on_mqtt, max_wait_s=0.1)
    task = asyncio.create_task(batcher.run())
    try:
        await asyncio.wait_for(batcher.connected.wait(), 10)
        await _replay(mqtt_url, msgs, None, tenant, 2, "unused", False, "GW-R")
        await until(lambda: svc.counts["received"] == 3_000)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert svc.counts["accepted"] == 3_000
    assert not svc.quarantine
