"""End-to-end: the cockpit signs in, draws the city on the map and answers a click."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path("test-artifacts")

# Debian's chromium runs headless with no GPU. MapLibre needs WebGL: with --disable-gpu
# chromium still offers WebGL2 through ANGLE on SwiftShader (software Vulkan), and
# --use-angle=swiftshader + --enable-unsafe-swiftshader keep that path explicit and
# allowed on builds where software WebGL is otherwise blocked.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]

VIEWPORT = {"width": 1920, "height": 1080}
READY_TIMEOUT_MS = 60_000


class Cockpit(NamedTuple):
    """A chromium page on the cockpit and the console and page errors it has logged."""

    page: Any
    errors: list[str]


@pytest.fixture
def cockpit(cockpit_url: str) -> Iterator[Cockpit]:
    """Open a fresh chromium page on the cockpit, collecting console and page errors."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing (install Debian's chromium: make chromium)")
        pytest.skip(f"{CHROMIUM} is missing (install Debian's chromium: make chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
            pg = context.new_page()
            errors: list[str] = []
            pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            pg.on("pageerror", lambda err: errors.append(f"page error: {err}"))
            pg.goto(cockpit_url)
            yield Cockpit(pg, errors)
        finally:
            browser.close()


def _login(page: Any, username: str, password: str) -> None:
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_cockpit_draws_the_city_and_locates_a_click(
    cockpit: Cockpit, demo_login: tuple[str, str]
) -> None:
    """Log in, wait for the map, check what it drew, switch language, click the map."""
    page = cockpit.page
    _login(page, *demo_login)
    page.wait_for_function(
        "() => window.__cockpit && window.__cockpit.ready === true",
        timeout=READY_TIMEOUT_MS,
    )
    hook = page.evaluate("() => window.__cockpit")
    counts = hook["featureCounts"]
    assert hook["errors"] == [], hook["errors"]
    assert counts.get("roads", 0) > 100, counts
    assert counts.get("districts", 0) >= 5, counts
    assert counts.get("signals", 0) > 50, counts

    header = page.locator(".app-header")
    assert "城市大脑" in header.inner_text()
    assert page.locator(".kpi-card").count() >= 7
    assert page.locator(".panel").count() >= 3

    page.click("[data-testid=lang-toggle]")
    page.wait_for_function(
        "() => document.querySelector('.app-header').innerText.includes('City Brain')"
    )
    assert "Cockpit" in header.inner_text()
    assert "Districts" in page.locator(".kpi-strip").inner_text()

    box = page.locator("[data-testid=map]").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    county_code = page.locator(".cockpit-popup .loc-county .loc-code")
    county_code.wait_for(timeout=15_000)
    assert re.fullmatch(r"\d{6}", county_code.inner_text().strip())

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "cockpit.png"), full_page=True)
    assert cockpit.errors == [], cockpit.errors
