"""End-to-end: a case filed through the API shows on the cockpit's map and list, in its
department's business flow, and its timeline opens from the list; a role without
cases:read sees no operations panels."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.cockpit_page import Page, login, open_page, own_errors, token
from tests.support import DemoCity

pytestmark = pytest.mark.browser

ARTIFACTS = Path("test-artifacts")
API = "/api/v1/operations"
# About 1 km east of 八一广场 (东湖区, WGS-84): far from the points the API tests report at,
# so this case is never merged with theirs in the shared demo city (50 m duplicate rule).
E2E_POINT = (115.9170, 28.6760)
WAIT_MS = 30_000


@pytest.fixture
def cockpit(cockpit_url: str) -> Iterator[Page]:
    """A fresh chromium page on the cockpit."""
    yield from open_page(cockpit_url)


def _file_case(base: str, demo_city: DemoCity) -> str:
    """Report a case as the operator, file and dispatch it (three steps); return its id."""
    op = {"Authorization": f"Bearer {token(base, 'operator', demo_city.password('operator'))}"}
    body = {
        "source": "cockpit",
        "class_code": "C0202",  # a damaged traffic sign: the transport bureau
        "title": "e2e 交通标志牌被撞歪",
        "location": {"lon": E2E_POINT[0], "lat": E2E_POINT[1], "address": "八一广场以东"},
        "description": "路口交通标志牌被撞歪",
        "external_id": f"e2e-{uuid.uuid4().hex[:12]}",
    }
    photo = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4
    up = httpx.post(f"{base}{API}/attachments", headers=op,
                    files={"file": ("现场.jpg", photo, "image/jpeg")})  # fmt: skip
    assert up.status_code == 201, up.text
    body["attachments"] = [{k: up.json()[k] for k in ("ref", "media_type", "size", "name")}]
    res = httpx.post(f"{base}{API}/cases", headers=op, json=body)
    assert res.status_code in (200, 201), res.text
    case_id = str(res.json()["case"]["id"])
    for verb, note in (("file", "e2e 立案"), ("dispatch", "e2e 派遣")):
        res = httpx.post(f"{base}{API}/cases/{case_id}/{verb}", headers=op, json={"note": note})
        assert res.status_code == 200, res.text
    return case_id


def test_a_filed_case_shows_on_the_map_and_its_timeline_opens(
    cockpit: Page, demo_city: DemoCity, live_server: str
) -> None:
    """File a case, see it drawn and listed, open its timeline from the list."""
    case_id = _file_case(live_server, demo_city)
    page = cockpit.page
    login(page, "operator", demo_city.password("operator"))

    panel = page.locator("[data-panel='operations.cases']")
    page.wait_for_function(
        "id => (window.__cockpit.operations?.listed || []).includes(id)",
        arg=case_id,
        timeout=WAIT_MS,
    )
    assert panel.is_visible()
    assert "一网统管" in panel.inner_text()
    assert "案件态势" in panel.inner_text()
    assert "超期" in page.locator("[data-testid=ops-legend]").inner_text()
    page.wait_for_function(
        "id => (window.__cockpit.operations?.rendered || []).includes(id)",
        arg=case_id,
        timeout=WAIT_MS,
    )
    assert page.evaluate("() => window.__cockpit.featureCounts['operations:cases']") >= 1
    kpis = page.locator(".kpi-strip").inner_text()
    assert "在办案件" in kpis, kpis

    # The per-department figures (computed from the newest cases: no cases:supervise).
    dept = panel.locator("[data-pane=depts]")
    assert dept.is_hidden()
    panel.locator("[role=tab][data-tab=depts]").click()
    dept.wait_for(state="visible", timeout=WAIT_MS)
    assert dept.locator("canvas").count() >= 1
    assert "估算" in dept.inner_text()

    # Each department's business flow: the case's department, its cases by stage.
    flow = panel.locator("[data-pane=flow]")
    assert flow.is_hidden()
    panel.locator("[role=tab][data-tab=flow]").click()
    flow.wait_for(state="visible", timeout=WAIT_MS)
    page.wait_for_function(
        "() => (window.__cockpit.operations?.flow || []).includes('transport')", timeout=WAIT_MS
    )
    assert flow.locator("canvas").count() >= 1
    assert "所处环节" in flow.inner_text()
    assert dept.is_hidden()
    panel.locator("[role=tab][data-tab=cases]").click()

    page.click(f"[data-panel='operations.cases'] [data-case='{case_id}']")
    timeline = page.locator(".ops-drawer [data-testid=case-timeline]")
    timeline.wait_for(timeout=WAIT_MS)
    text = timeline.inner_text()
    assert "上报" in text, text
    assert "立案" in text, text
    assert "信息采集 → 立案" in text, text
    assert "派遣" in text, text
    assert timeline.locator("li").count() >= 3
    assert "e2e 交通标志牌被撞歪" in page.locator(".ops-drawer-title").inner_text()
    # The report's photo opens from the timeline (fetched with the operator's token).
    file_button = timeline.locator("[data-file]")
    assert "现场.jpg" in file_button.inner_text()
    ref = file_button.get_attribute("data-file")
    file_button.click()
    page.wait_for_function(
        "ref => window.__cockpit.operations.opened === ref", arg=ref, timeout=WAIT_MS
    )

    # The grid heat map switches on and off.
    page.check("[data-testid=ops-heat]")
    assert page.evaluate("() => window.__cockpit.operations.available") is True

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "cockpit-operations.png"), full_page=True)
    page.keyboard.press("Escape")
    page.wait_for_function("() => window.__cockpit.operations.open === null")
    assert page.evaluate("() => window.__cockpit.errors") == []
    assert cockpit.errors == [], cockpit.errors


def test_a_role_without_cases_read_sees_no_operations_panels(
    cockpit: Page, demo_city: DemoCity
) -> None:
    """A citizen's cockpit asks nothing of the operations API and shows none of its panels."""
    page = cockpit.page
    login(page, "citizen", demo_city.password("citizen"))
    page.wait_for_timeout(1500)
    assert page.locator("[data-panel='operations.cases']").is_hidden()
    assert not [p for p in cockpit.asked if p.startswith(API)], cockpit.asked
    assert own_errors(cockpit.errors, API) == []


def test_a_supervisor_sees_the_served_department_figures_in_both_languages(
    cockpit: Page, demo_city: DemoCity
) -> None:
    """The bureau (cases:supervise) gets GET /kpis, not the estimate; English redraws it."""
    page = cockpit.page
    login(page, "admin", demo_city.password("admin"))
    panel = page.locator("[data-panel='operations.cases']")
    panel.wait_for(state="visible", timeout=WAIT_MS)
    page.wait_for_function(
        "() => window.__cockpit.operations && window.__cockpit.operations.available === true",
        timeout=WAIT_MS,
    )
    assert f"{API}/kpis" in cockpit.asked, cockpit.asked
    tab = panel.locator("[role=tab][data-tab=depts]")
    assert "部门考核" in tab.inner_text()
    tab.click()
    dept = panel.locator("[data-pane=depts]")
    dept.wait_for(state="visible", timeout=WAIT_MS)
    assert "估算" not in dept.inner_text()
    page.click("[data-testid=lang-toggle]")
    page.wait_for_function(
        "s => document.querySelector(s).innerText.includes('Cases')",
        arg="[data-panel='operations.cases']",
    )
    # The chosen tab survives the redraw.
    assert panel.locator("[data-pane=depts]").is_visible()
    assert "Departments" in panel.locator("[role=tab][data-tab=depts]").inner_text()
    assert "Unified operations" in panel.inner_text()
    assert "Open cases" in page.locator(".kpi-strip").inner_text()
    assert page.evaluate("() => window.__cockpit.errors") == []
    assert cockpit.errors == [], cockpit.errors
