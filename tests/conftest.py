"""Fixtures shared by the API and browser tests: one demo platform per test session."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi.testclient import TestClient

from tests.support import DemoCity, build_demo_city


@pytest.fixture(scope="session")
def demo_city(tmp_path_factory: pytest.TempPathFactory) -> DemoCity:
    """Build the demo city once per session (SQLite, in-process bus, simulated clock)."""
    return build_demo_city(tmp_path_factory.mktemp("demo-city"))


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(demo_city: DemoCity) -> Iterator[str]:
    """Serve the demo city over real HTTP on 127.0.0.1 in a background thread."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(demo_city.app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def cockpit_url(live_server: str) -> str:
    """Return the cockpit's base URL on the live demo server."""
    return live_server + "/"


@pytest.fixture(scope="session")
def demo_login(demo_city: DemoCity) -> tuple[str, str]:
    """Return the operator's username and password."""
    return "operator", demo_city.password("operator")


@pytest.fixture(scope="session")
def client(demo_city: DemoCity) -> Iterator[TestClient]:
    """Return an HTTP client on the demo app (no network)."""
    with TestClient(demo_city.app) as c:
        yield c


@pytest.fixture(scope="session")
def tokens(client: TestClient, demo_city: DemoCity) -> dict[str, str]:
    """Return a bearer token for every demo user with a password."""
    out = {}
    for name, cred in demo_city.credentials.items():
        if cred.kind != "password":
            continue
        res = client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": name, "password": cred.secret},
        )
        assert res.status_code == 200, res.text
        out[name] = res.json()["access_token"]
    return out
