"""A chromium page on the cockpit for the capability end-to-end tests (operations, fleet)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, NamedTuple

import httpx
import pytest

from tests.e2e.test_cockpit import CHROMIUM, CHROMIUM_ARGS, VIEWPORT

READY_TIMEOUT_MS = 60_000


class Page(NamedTuple):
    """A chromium page, its console and page errors, and the API paths it asked."""

    page: Any
    errors: list[str]
    asked: list[str]


def open_page(url: str) -> Iterator[Page]:
    """Open a fresh chromium page on the cockpit, recording errors and requests."""
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
            asked: list[str] = []
            pg.on(
                "console",
                lambda msg: (
                    errors.append(f"{msg.text} @ {(msg.location or {}).get('url', '')}")
                    if msg.type == "error"
                    else None
                ),
            )
            pg.on("pageerror", lambda err: errors.append(f"page error: {err}"))
            pg.on("request", lambda req: asked.append(httpx.URL(req.url).path))
            pg.goto(url)
            yield Page(pg, errors, asked)
        finally:
            browser.close()


def login(page: Any, username: str, password: str) -> None:
    """Sign in through the login form and wait until the map has drawn the city."""
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_function(
        "() => window.__cockpit && window.__cockpit.ready === true", timeout=READY_TIMEOUT_MS
    )


def token(base: str, username: str, password: str) -> str:
    """Return a bearer token for a demo user."""
    res = httpx.post(
        f"{base}/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
    )
    assert res.status_code == 200, res.text
    return str(res.json()["access_token"])


def own_errors(errors: list[str], *prefixes: str) -> list[str]:
    """The console errors about the given API paths (a capability's own requests)."""
    return [e for e in errors if any(p in e for p in prefixes) or e.startswith("page error")]
