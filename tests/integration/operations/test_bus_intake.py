"""Apps request cases over the bus (in-process and NATS): taken in once, or refused aloud."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from opencitybrain.adapters.migrate import upgrade
from opencitybrain.adapters.sql import make_engine
from opencitybrain.kernel.bus import Bus
from opencitybrain.kernel.clock import ManualClock
from opencitybrain.kernel.events import CloudEvent
from opencitybrain.operations.bus_intake import BusIntake
from opencitybrain.operations.class_store import SqlClassStore
from opencitybrain.operations.model import Source
from opencitybrain.operations.ports import CaseQuery
from opencitybrain.operations.service import OperationsService
from opencitybrain.operations.store import SqlCaseStore
from opencitybrain.worktime import WorkCalendar
from tests.integration.operations.support import BoxLocator

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _request(event_id: str, **data: object) -> CloudEvent:
    body = {"class_code": "E0404", "lon": 115.95, "lat": 28.7, "description": "道路积水 30 cm"}
    return CloudEvent(
        type="city.flood.case.requested", source="/apps/flood", time=T0, id=event_id,
        data=body | data,
    )  # fmt: skip


async def _until(check: object, timeout_s: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not check():  # type: ignore[operator]
        if loop.time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


async def test_requests_become_cases_once_and_bad_ones_are_refused(
    bus: Bus, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'ops.db'}")
    upgrade(engine)
    ops = OperationsService(
        SqlCaseStore(engine), SqlClassStore(engine), WorkCalendar.china(), BoxLocator(),
        ManualClock(T0), bus,
    )  # fmt: skip
    ops.seed_classes()
    heard: list[CloudEvent] = []

    async def listen(event: CloudEvent) -> None:
        heard.append(event)

    await bus.subscribe("city.operations.case.*", listen)
    intake = BusIntake(ops)
    await intake.start(bus)
    try:
        await bus.publish(_request("ev-1"))
        await bus.publish(_request("ev-1"))  # redelivered: no second case
        await bus.publish(_request("ev-2", lon=10.0))  # outside the city
        await bus.publish(_request("ev-3", class_code=7))  # malformed
        await _until(lambda: len(heard) >= 3)
        await asyncio.sleep(0.3)
        cases, total = ops.cases(CaseQuery())
        assert total == 1
        assert cases[0].source is Source.APP_ALERT
        assert cases[0].urgent  # road flooding is an urgent class
        assert cases[0].reporter == {"app": "/apps/flood"}
        types = sorted(e.type for e in heard)
        assert types == [
            "city.operations.case.refused", "city.operations.case.refused",
            "city.operations.case.reported",
        ]  # fmt: skip
        refused = {e.subject: e.data["reason"] for e in heard if e.type.endswith("refused")}
        assert "outside the city" in refused["ev-2"]
        assert "class_code" in refused["ev-3"]
        assert intake.refused == 2
    finally:
        await intake.stop()
        engine.dispose()
