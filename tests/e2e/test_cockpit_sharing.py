"""End-to-end: a transport request for a health resource lands in the health department's
inbox with its countdown, is approved in the cockpit and shows as a grant; the bureau's
admin sees the audit chain verified and its timeline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.e2e.cockpit_page import Page, login, open_page, own_errors, token
from tests.integration.sharing.support import load_sensitive
from tests.support import DemoCity

pytestmark = pytest.mark.browser

ARTIFACTS = Path("test-artifacts")
WAIT_MS = 30_000


@pytest.fixture
def cockpit(cockpit_url: str) -> Iterator[Page]:
    """A fresh chromium page on the cockpit."""
    yield from open_page(cockpit_url)


def _request(live_server: str, demo_city: DemoCity) -> str:
    """File a transport request for a conditional health resource; return its id."""
    staff = {"Authorization": "Bearer " + token(live_server, "transport-staff",
                                                demo_city.password("transport-staff"))}  # fmt: skip
    found = httpx.get(f"{live_server}/api/v1/catalog/resources",
                      params={"department": "health", "sharing_type": "conditional"},
                      headers=staff).json()  # fmt: skip
    resource = found["items"][0]["resource"]
    fields = [f["name"] for f in resource["fields"]][:2]
    body = {"resource_id": resource["id"], "fields": fields, "purpose": "e2e-核验",
            "scenario": "驾驶人体检一件事", "ends_at": "2099-01-01T00:00:00+08:00"}  # fmt: skip
    res = httpx.post(f"{live_server}/api/v1/sharing/requests", json=body, headers=staff)
    assert res.status_code == 201, res.text
    assert res.json()["status"] == "pending"
    return str(res.json()["id"])


def test_the_provider_approves_in_its_inbox(
    cockpit: Page, demo_city: DemoCity, live_server: str
) -> None:
    rid = _request(live_server, demo_city)
    page = cockpit.page
    login(page, "health-staff", demo_city.password("health-staff"))
    panel = page.locator("[data-panel='sharing.inbox']")
    item = panel.locator(f"[data-request='{rid}']")
    item.wait_for(timeout=WAIT_MS)
    due = item.locator("[data-testid=sharing-due]").inner_text()
    assert "剩余" in due, due
    item.locator(".sharing-reason").fill("同意用于体检核验")
    item.locator("[data-act=approve]").click()
    page.wait_for_function("id => !(window.__cockpit.sharing?.inbox || []).includes(id)",
                           arg=rid, timeout=WAIT_MS)  # fmt: skip
    panel.locator("[data-testid=sharing-tab-grants]").click()
    page.wait_for_function("() => (window.__cockpit.sharing?.grants || []).length > 0",
                           timeout=WAIT_MS)  # fmt: skip
    assert "e2e-核验" in panel.locator("[data-testid=sharing-list]").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "cockpit-sharing.png"))
    assert not own_errors(cockpit.errors, "/api/v1/sharing")


def test_the_bureau_sees_the_audit_chain_verified(
    cockpit: Page, demo_city: DemoCity, live_server: str
) -> None:
    _request(live_server, demo_city)
    page = cockpit.page
    login(page, "admin", demo_city.password("admin"))
    panel = page.locator("[data-panel='sharing.inbox']")
    panel.locator("[data-testid=sharing-tab-audit]").click()
    page.wait_for_function("() => window.__cockpit.sharing?.audit === 'ok'", timeout=WAIT_MS)
    assert "审计链完整" in panel.locator("[data-testid=sharing-audit]").inner_text()
    # The timeline lists the newest records, the request just filed among them.
    timeline = panel.locator("[data-testid=sharing-timeline]")
    assert "申请" in timeline.inner_text()
    assert not own_errors(cockpit.errors, "/api/v1/sharing")


def test_the_open_data_tab_lists_releases_with_their_parameters(
    cockpit: Page, demo_city: DemoCity, live_server: str, client: TestClient
) -> None:
    loaded = load_sensitive(demo_city, client, "303")
    staff = {"Authorization": "Bearer " + token(live_server, "health-staff",
                                                demo_city.password("health-staff"))}  # fmt: skip
    body = {"title": "e2e 开放样本", "mode": "k_anonymity", "k": 2, "qi": ["district"]}
    res = httpx.post(f"{live_server}/api/v1/sharing/resources/{loaded.resource_id}/releases",
                     json=body, headers=staff)  # fmt: skip
    assert res.status_code == 201, res.text
    release_id = res.json()["id"]
    page = cockpit.page
    login(page, "health-staff", demo_city.password("health-staff"))
    panel = page.locator("[data-panel='sharing.inbox']")
    panel.locator("[data-testid=sharing-tab-open]").click()
    item = panel.locator(f"[data-release='{release_id}']")
    item.wait_for(timeout=WAIT_MS)
    params = item.locator("[data-testid=release-params]").inner_text()
    assert "k 2" in params, params
    assert "district" in params, params
    assert "e2e 开放样本" in item.inner_text()
    assert not own_errors(cockpit.errors, "/api/v1/open")
