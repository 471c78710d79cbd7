"""A serious fleet alert opens one case in unified operations, over the real bus wiring."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from opencitybrain.adapters.migrate import upgrade
from opencitybrain.adapters.sql import make_engine
from opencitybrain.apps.fleet.publish import FleetPublisher
from opencitybrain.apps.fleet.service import FleetService
from opencitybrain.context.service import ContextBroker
from opencitybrain.kernel.bus import Bus
from opencitybrain.kernel.clock import ManualClock
from opencitybrain.operations.bus_intake import BusIntake
from opencitybrain.operations.class_store import SqlClassStore
from opencitybrain.operations.model import Source
from opencitybrain.operations.ports import CaseQuery
from opencitybrain.operations.service import OperationsService
from opencitybrain.operations.store import SqlCaseStore
from opencitybrain.worktime import WorkCalendar
from tests.integration.fleet.test_publish import broker  # noqa: F401 - the fixture
from tests.integration.operations.support import BoxLocator
from tests.unit.apps.fleet.support import T0, east, engine, msg


async def test_suspected_dumping_becomes_one_operations_case(
    bus: Bus,
    broker: ContextBroker,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    clock = ManualClock(datetime.fromtimestamp(T0 + 1000, UTC))
    db = make_engine(f"sqlite:///{tmp_path / 'ops.db'}")
    upgrade(db)
    ops = OperationsService(
        SqlCaseStore(db), SqlClassStore(db), WorkCalendar.china(), BoxLocator(), clock, bus
    )
    ops.seed_classes()
    intake = BusIntake(ops)
    await intake.start(bus)
    publisher = FleetPublisher(broker, bus)
    svc = FleetService(engine(), clock, publisher=publisher)
    try:
        stop = [msg("M1", T0 + 60 * i, east(1000), speed=0) for i in range(17)]  # 16 min
        out = await svc.ingest(msgspec.json.encode(stop))
        (alert,) = out.opened
        await publisher.publish_alerts([alert], [], None)  # a worker's redelivery
        for _ in range(200):
            if ops.cases(CaseQuery())[1]:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # time for a second case, were one to come
        cases, total = ops.cases(CaseQuery())
        assert total == 1
        case = cases[0]
        assert case.source is Source.APP_ALERT
        assert "赣A12345" in case.description
        assert case.reporter.get("app", "").endswith("fleet"), case.reporter
        assert case.class_code == "E0103"
    finally:
        await intake.stop()
