"""Fixtures for the catalogue tests: the service on each SQL engine, with a small org."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from opencitybrain.accounts.model import DepartmentKind
from opencitybrain.accounts.service import AccountService
from opencitybrain.accounts.store import SqlAccountStore
from opencitybrain.accounts.tokens import TokenSigner
from opencitybrain.adapters.migrate import upgrade
from opencitybrain.catalog.service import CatalogService
from opencitybrain.catalog.store import SqlCatalogStore
from opencitybrain.kernel.bus import Handler, Subscription
from opencitybrain.kernel.clock import ManualClock
from opencitybrain.kernel.events import CloudEvent, Context

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


class RecordingBus:
    """A bus that keeps what is published (the service's only use of the bus)."""

    def __init__(self) -> None:
        self.events: list[CloudEvent] = []

    async def publish(self, event: CloudEvent) -> None:
        """Keep the event."""
        self.events.append(event)

    async def publish_many(self, events: Sequence[CloudEvent]) -> None:
        """Keep the events."""
        self.events.extend(events)

    async def subscribe(
        self, pattern: str, handler: Handler, *, group: str | None = None
    ) -> Subscription:
        """Not used by the catalogue."""
        raise NotImplementedError

    async def close(self) -> None:
        """Nothing to release."""

    def healthy(self) -> bool:
        """Always ready."""
        return True


def staff(dept: str) -> Context:
    """Return the context of a department's staff member."""
    return Context(actor=f"u-{dept}", department=dept, roles=frozenset({"department_staff"}))


ADMIN = Context(actor="u-admin", department="bureau", roles=frozenset({"bureau_admin"}))
CITIZEN = Context(actor="u-citizen", department="bureau", roles=frozenset({"citizen"}))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def bus() -> RecordingBus:
    return RecordingBus()


@pytest.fixture
def engine(sql_engine: sa.Engine) -> sa.Engine:
    upgrade(sql_engine)
    return sql_engine


@pytest.fixture
def catalog(engine: sa.Engine, clock: ManualClock, bus: RecordingBus) -> CatalogService:
    """Return the catalogue service on a migrated database, once per SQL engine."""
    accounts = AccountService(SqlAccountStore(engine), clock, TokenSigner("k" * 40, 600))
    sys = Context.system()
    accounts.create_department(sys, "city", "示例市人民政府", "Example City", DepartmentKind.CITY)
    for did, zh, en in (
        ("bureau", "大数据局", "Big Data Bureau"),
        ("public-security", "公安局", "Public Security Bureau"),
        ("transport", "交通运输局", "Transport Bureau"),
        ("market-regulation", "市场监督管理局", "Market Regulation Bureau"),
    ):
        accounts.create_department(sys, did, zh, en, DepartmentKind.DEPARTMENT, "city")
    return CatalogService(SqlCatalogStore(engine), accounts, clock, bus)
