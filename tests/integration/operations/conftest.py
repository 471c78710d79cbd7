"""Fixtures of the operations integration tests: a service on a real store, a manual clock."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from opencitybrain.adapters.migrate import upgrade
from opencitybrain.kernel.clock import ManualClock
from opencitybrain.operations.class_store import SqlClassStore
from opencitybrain.operations.directory import GridWorkers
from opencitybrain.operations.service import OperationsService
from opencitybrain.operations.store import SqlCaseStore
from opencitybrain.worktime import WorkCalendar
from tests.integration.operations.support import KNOWN_DEPARTMENTS, MONDAY_9, BoxLocator


@pytest.fixture
def clock() -> ManualClock:
    """Return a manual clock at 09:00 on a Monday in Nanchang."""
    return ManualClock(MONDAY_9)


@pytest.fixture
def ops(sql_engine: sa.Engine, clock: ManualClock) -> OperationsService:
    """Return the service on a migrated database, the demo classes seeded."""
    upgrade(sql_engine)
    workers = GridWorkers()
    workers.assign("360102001", "grid-1")
    svc = OperationsService(
        SqlCaseStore(sql_engine), SqlClassStore(sql_engine), WorkCalendar.china(), BoxLocator(),
        clock, workers=workers,
        departments=lambda: KNOWN_DEPARTMENTS,
    )  # fmt: skip
    svc.seed_classes()
    return svc
