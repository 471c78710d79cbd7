"""Fixtures for API tests: a client on the demo city and tokens per demo user."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.support import DemoCity


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


def bearer(token: str) -> dict[str, str]:
    """Return an Authorization header."""
    return {"Authorization": f"Bearer {token}"}
