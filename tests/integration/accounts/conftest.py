"""Fixtures for the accounts tests: the service on each SQL engine, with a seeded org."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from opencitybrain.accounts.model import DepartmentKind, Role
from opencitybrain.accounts.service import AccountService
from opencitybrain.accounts.store import SqlAccountStore
from opencitybrain.accounts.tokens import TokenSigner
from opencitybrain.adapters.migrate import upgrade
from opencitybrain.kernel.clock import ManualClock
from opencitybrain.kernel.events import Context

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
PASSWORD = "correct-horse-battery"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def accounts(sql_engine: sa.Engine, clock: ManualClock) -> AccountService:
    """Return the account service on a migrated database, once per SQL engine."""
    engine = sql_engine
    upgrade(engine)
    svc = AccountService(SqlAccountStore(engine), clock, TokenSigner("k" * 40, 600))
    sys = Context.system()
    svc.create_department(
        sys, "city", "示例市人民政府", "Example City Government", DepartmentKind.CITY
    )
    svc.create_department(
        sys, "bureau", "大数据局", "Big Data Bureau", DepartmentKind.BUREAU, "city"
    )
    svc.create_department(
        sys, "transport", "交通运输局", "Transport Bureau", DepartmentKind.DEPARTMENT, "city"
    )
    svc.create_user(sys, "admin", "Admin", "bureau", frozenset({Role.BUREAU_ADMIN}), PASSWORD)
    svc.create_user(
        sys, "staff", "Staff", "transport", frozenset({Role.DEPARTMENT_STAFF}), PASSWORD
    )
    svc.create_user(sys, "citizen", "Citizen", "bureau", frozenset({Role.CITIZEN}), PASSWORD)
    return svc


def ctx_of(svc: AccountService, username: str) -> Context:
    u = svc.find_user(username)
    return Context(
        actor=u.id, department=u.department_id, roles=frozenset(r.value for r in u.roles)
    )
