"""Sign-in tokens live in real time, not on the demo's fast city clock."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from tests.support import DemoCity, bearer


def test_token_outlives_a_simulated_hour(client: TestClient, demo_city: DemoCity) -> None:
    res = client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "password",
            "username": "operator",
            "password": demo_city.password("operator"),
        },
    )
    token = res.json()["access_token"]
    clock = demo_city.platform.clock
    before = clock.now()
    clock.set_speed(100_000)  # type: ignore[attr-defined]
    try:
        time.sleep(0.1)  # ≈ 2.8 simulated hours, more than the token's 1 h lifetime
        assert (clock.now() - before).total_seconds() > 3600
        assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200
    finally:
        clock.set_speed(60)  # type: ignore[attr-defined]
