"""The demo city files its departments' sharing requests through the real service."""

from __future__ import annotations

import asyncio
from pathlib import Path

from opencitybrain.catalog.service import CatalogService
from opencitybrain.kernel.events import Context
from opencitybrain.sharing.model import RequestStatus
from opencitybrain.sharing.service import SharingService
from opencitybrain.sim.demo_sharing import DEMO_REQUESTS, seed_demo_sharing
from tests.support import build_demo_city


def _staff(department: str) -> Context:
    return Context(actor="t", department=department, roles=frozenset({"department_staff"}))


def test_the_demo_files_granted_approved_and_pending_requests_once(tmp_path: Path) -> None:
    city = build_demo_city(tmp_path)  # not started: nothing listens on its bus yet
    sharing = city.platform.services.get(SharingService)
    catalog = city.platform.services.get(CatalogService)
    try:
        assert asyncio.run(seed_demo_sharing(sharing, catalog)) == len(DEMO_REQUESTS)
        assert asyncio.run(seed_demo_sharing(sharing, catalog)) == 0  # idempotent
        police = sharing.requests(_staff("public-security"))
        assert sorted(r.status for r in police) == [RequestStatus.GRANTED] * 2
        assert len(sharing.grants(_staff("public-security"))) == 2
        inbox = [r for r in sharing.requests(_staff("health")) if r.provider_department == "health"]
        assert [r.status for r in inbox] == [RequestStatus.PENDING]
        assert inbox[0].requester_department == "education"
        assert inbox[0].due_at is not None  # ten working days on the city clock
    finally:
        asyncio.run(city.platform.close())
