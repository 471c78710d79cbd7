"""End-to-end: positions posted to the fleet API draw vehicles by class on the cockpit's
map, a speeding taxi's alert is listed, and a click on the alert plays back its track."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from opencitybrain.apps.fleet.service import FleetService
from tests.e2e.cockpit_page import Page, login, open_page, own_errors
from tests.support import DemoCity

pytestmark = pytest.mark.browser

ARTIFACTS = Path("test-artifacts")
API = "/api/v1/fleet"
WAIT_MS = 30_000
TAXI = "SIM0029"  # the demo fleet has six of each class: muck, hazmat, school bus, bus, taxi
MUCK = "SIM0002"
OTHER_TAXI = "SIM0026"


@pytest.fixture
def cockpit(cockpit_url: str) -> Iterator[Page]:
    """A fresh chromium page on the cockpit."""
    yield from open_page(cockpit_url)


def _messages(demo_city: DemoCity, device: str, speed: float) -> list[dict[str, Any]]:
    """Five positions a minute apart, ending now, moving east along 八一大道."""
    fleet = demo_city.platform.services.get(FleetService)
    plate = fleet.engine.fleet.get(device).plate
    now = demo_city.platform.clock.now().timestamp()
    return [
        {
            "device_id": device,
            "plate": plate,
            "time": round((now - 60 * (4 - i)) * 1000),
            "lon": 115.895 + 0.003 * i,
            "lat": 28.672,
            "speed": speed,
            "heading": 90.0,
        }
        for i in range(5)
    ]


def test_vehicles_drawn_by_class_an_alert_listed_and_its_track_played(
    cockpit: Page, demo_city: DemoCity, live_server: str
) -> None:
    """Post positions, see the vehicles and the speeding alert, play back the track."""
    key = {"X-API-Key": demo_city.credentials["demo-app"].secret}
    body = _messages(demo_city, TAXI, 150.0) + _messages(demo_city, MUCK, 20.0)
    res = httpx.post(f"{live_server}{API}/positions", json=body, headers=key)
    assert res.status_code == 200, res.text
    assert res.json()["accepted"] == 10, res.text

    page = cockpit.page
    login(page, "operator", demo_city.password("operator"))
    panel = page.locator("[data-panel='fleet.vehicles']")
    page.wait_for_function(
        "ids => ids.every(id => (window.__cockpit.fleet?.rendered || []).includes(id))",
        arg=[TAXI, MUCK],
        timeout=WAIT_MS,
    )
    assert panel.is_visible()
    legend = page.locator("[data-testid=fleet-legend]").inner_text()
    assert "出租车" in legend, legend
    assert "渣土车" in legend, legend

    # Alert ids are urn:ngsi-ld:Alert:fleet:<device>:<rule>:… (the taxi may go offline too).
    speeding = page.locator(f"[data-testid=fleet-alerts] [data-alert*=':{TAXI}:speeding:']")
    speeding.wait_for(timeout=WAIT_MS)
    assert "超速" in speeding.inner_text()

    speeding.click()
    page.wait_for_function(
        "d => window.__cockpit.fleet.playback && window.__cockpit.fleet.playback.device === d",
        arg=TAXI,
        timeout=WAIT_MS,
    )
    pb = page.evaluate("() => window.__cockpit.fleet.playback")
    assert pb["points"] >= 5, pb
    slider = page.locator("[data-testid=fleet-slider]")
    lo, hi = float(slider.get_attribute("min") or 0), float(slider.get_attribute("max") or 0)
    assert hi - lo == pytest.approx(240, abs=1)
    # Halfway through the track the marker is interpolated between the posted points.
    slider.fill(str(round((lo + hi) / 2)))
    pb = page.evaluate("() => window.__cockpit.fleet.playback")
    assert pb["lon"] == pytest.approx(115.901, abs=1e-4), pb
    page.click("[data-testid=fleet-play]")
    page.wait_for_function("hi => window.__cockpit.fleet.playback.t >= hi", arg=hi, timeout=WAIT_MS)

    # A violation posted while the page is open is listed as the alert long poll answers.
    late = _messages(demo_city, OTHER_TAXI, 150.0)
    started = time.perf_counter()
    res = httpx.post(f"{live_server}{API}/positions", json=late, headers=key)
    answered_after_s = time.perf_counter() - started
    assert res.status_code == 200, res.text
    listed = page.locator(f"[data-testid=fleet-alerts] [data-alert*=':{OTHER_TAXI}:speeding:']")
    listed.wait_for(timeout=5_000)  # one round trip + render; 5 s leaves room under load
    seen_after_s = time.perf_counter() - started

    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "cockpit-fleet-latency.txt").write_text(
        f"post → listed: {seen_after_s:.3f} s (the post answered after {answered_after_s:.3f} s)\n"
    )
    page.screenshot(path=str(ARTIFACTS / "cockpit-fleet.png"), full_page=True)
    page.click(".fleet-playback .fleet-close")
    page.wait_for_function("() => window.__cockpit.fleet.playback === null")
    assert page.evaluate("() => window.__cockpit.errors") == []
    assert cockpit.errors == [], cockpit.errors


def test_a_role_without_fleet_read_sees_no_fleet_panel(cockpit: Page, demo_city: DemoCity) -> None:
    """A citizen's cockpit asks nothing of the fleet API and shows no fleet panel."""
    page = cockpit.page
    login(page, "citizen", demo_city.password("citizen"))
    page.wait_for_timeout(1500)
    assert page.locator("[data-panel='fleet.vehicles']").is_hidden()
    assert not [p for p in cockpit.asked if p.startswith(API)], cockpit.asked
    assert own_errors(cockpit.errors, API) == []
