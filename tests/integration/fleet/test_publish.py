"""Alerts and vehicle state reach the context broker as entities and the bus as CloudEvents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import msgspec
import pytest
import sqlalchemy as sa

from opencitybrain.adapters.migrate import upgrade
from opencitybrain.apps.fleet.publish import FleetPublisher, vehicle_id
from opencitybrain.apps.fleet.service import FleetService
from opencitybrain.context.jsonld import ContextResolver
from opencitybrain.context.service import ContextBroker
from opencitybrain.context.store import SqlEntityStore
from opencitybrain.kernel.bus import InProcessBus
from opencitybrain.kernel.clock import ManualClock
from opencitybrain.kernel.events import CloudEvent
from opencitybrain.operations.bus_intake import report_of_event
from tests.unit.apps.fleet.support import T0, east, engine, msg


@pytest.fixture
async def broker(sql_engine: sa.Engine) -> AsyncIterator[ContextBroker]:
    upgrade(sql_engine)
    clock = ManualClock(datetime.fromtimestamp(T0 + 60, UTC))
    b = ContextBroker(SqlEntityStore(sql_engine), ContextResolver(), clock)
    await b.start()
    yield b
    await b.stop()
    b.close()


def attr(entity: object, name: str) -> object:
    attrs = entity.attrs  # type: ignore[attr-defined]
    key = next(k for k in attrs if k.rsplit("/", 1)[-1] == name)
    return attrs[key][0].value


async def test_alert_opens_and_closes_as_one_entity_with_events(broker: ContextBroker) -> None:
    bus = InProcessBus()
    events: list[CloudEvent] = []

    async def heard(e: CloudEvent) -> None:
        events.append(e)

    await bus.subscribe("city.fleet.alert.>", heard)
    svc = FleetService(engine(), ManualClock(datetime.fromtimestamp(T0 + 60, UTC)),
                       publisher=FleetPublisher(broker, bus))  # fmt: skip
    body = msgspec.json.encode(
        [msg("T1", T0, east(0), speed=30), msg("T1", T0 + 10, east(50), speed=70)]
    )
    opened = await svc.ingest(body)
    (alert,) = opened.opened
    entity = broker.get("", alert.id)
    assert entity.types[0].endswith("Alert")
    assert attr(entity, "subCategory") == "speeding"
    assert attr(entity, "severity") == "medium"
    assert not any(k.endswith("validTo") for k in entity.attrs)
    closed = await svc.ingest(msgspec.json.encode([msg("T1", T0 + 20, east(100), speed=30)]))
    assert [a.id for a in closed.closed] == [alert.id]
    entity = broker.get("", alert.id)
    assert any(k.endswith("validTo") for k in entity.attrs)
    vehicle = broker.get("", vehicle_id("T1"))
    assert attr(vehicle, "speed") == 30.0
    await bus.drain()
    assert [(e.type, e.subject) for e in events] == [
        ("city.fleet.alert.opened", alert.id),
        ("city.fleet.alert.closed", alert.id),
    ]
    await bus.close()


async def test_vehicle_entities_are_rewritten_at_most_every_n_seconds(
    broker: ContextBroker,
) -> None:
    bus = InProcessBus()
    clock = ManualClock(datetime.fromtimestamp(T0 + 60, UTC))
    svc = FleetService(engine(), clock, publisher=FleetPublisher(broker, bus, vehicle_every_s=30))
    speeds = {0: 10.0, 10: 20.0, 20: 30.0, 30: 40.0}
    written = []
    for dt, speed in speeds.items():
        await svc.ingest(msgspec.json.encode([msg("T1", T0 + dt, east(dt), speed=speed)]))
        written.append(attr(broker.get("", vehicle_id("T1")), "speed"))
    assert written == [10.0, 10.0, 10.0, 40.0]
    await bus.close()


async def test_a_suspected_dumping_requests_a_case_from_operations(broker: ContextBroker) -> None:
    bus = InProcessBus()
    requests: list[CloudEvent] = []

    async def heard(e: CloudEvent) -> None:
        requests.append(e)

    await bus.subscribe("city.*.case.requested", heard)
    clock = ManualClock(datetime.fromtimestamp(T0 + 1000, UTC))
    svc = FleetService(engine(), clock, publisher=FleetPublisher(broker, bus))
    stop = [msg("M1", T0 + 60 * i, east(1000), speed=0) for i in range(17)]  # 16 min
    out = await svc.ingest(msgspec.json.encode(stop))
    assert [a.rule.value for a in out.opened] == ["unauthorised_dwell"]
    await bus.drain()
    (event,) = requests
    report = report_of_event(event)  # what operations' bus intake will read
    assert report.class_code == "E0103"
    assert report.external_id == out.opened[0].id
    assert "赣A12345" in report.description
    await bus.close()
