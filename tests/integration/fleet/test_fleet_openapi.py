"""schemathesis on the fleet routes alone: whatever their OpenAPI schema allows, they accept."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from tests.support import DemoCity, build_demo_city


@pytest.fixture(scope="module")
def fleet_city(tmp_path_factory: pytest.TempPathFactory) -> DemoCity:
    return build_demo_city(tmp_path_factory.mktemp("fleet-fuzz-city"))


def test_fleet_routes_conform_to_their_spec(fleet_city: DemoCity) -> None:
    with TestClient(fleet_city.app) as client:
        res = client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": "admin",
                  "password": fleet_city.password("admin")},
        )  # fmt: skip
        headers = {"Authorization": f"Bearer {res.json()['access_token']}"}
        schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", fleet_city.app)
        operations = [r.ok() for r in schema.get_all_operations() if "/api/v1/fleet" in r.ok().path]
        assert len(operations) == 6
        for operation in operations:
            # A zone's ring may be valid WGS-84 and still lie too far from the city to
            # project: PUT /rules refuses it with 400 on purpose (test_fleet_api checks it).
            strict = (operation.method.upper(), operation.path) == ("PUT", "/api/v1/fleet/rules")
            _fuzz(operation, headers, [positive_data_acceptance] if strict else [])


def _fuzz(operation: Any, headers: dict[str, str], excluded: list[Any]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    try:
        check()
    except Exception as exc:
        raise AssertionError(f"{operation.method.upper()} {operation.path}: {exc}") from exc
