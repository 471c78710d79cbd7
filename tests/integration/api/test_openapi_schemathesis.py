"""Property-based API tests: schemathesis generates requests from the OpenAPI spec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from tests.support import DemoCity, build_demo_city

STRICT_BEYOND_SCHEMA = {
    ("GET", "/api/v1/blocks/{resource_id}"),
    ("POST", "/api/v1/registry/{kind}/review/{item}/resolve"),
    ("GET", "/api/v1/city/grids"),
    ("POST", "/api/v1/operations/cases"),
    ("POST", "/api/v1/operations/attachments"),
    ("PUT", "/api/v1/operations/classes/{code}"),
    ("PUT", "/api/v1/fleet/rules"),
    ("POST", "/api/v1/sharing/resources/{resource_id}/releases"),
}


@pytest.fixture(scope="module")
def fuzz_city(tmp_path_factory: pytest.TempPathFactory) -> DemoCity:
    """Give schemathesis its own demo city, so what it creates stays out of other tests."""
    return build_demo_city(tmp_path_factory.mktemp("fuzz-city"))


@pytest.fixture(scope="module")
def admin_headers(fuzz_city: DemoCity) -> dict[str, str]:
    with TestClient(fuzz_city.app) as client:
        res = client.post(
            "/api/v1/auth/token",
            data={
                "grant_type": "password",
                "username": "admin",
                "password": fuzz_city.password("admin"),
            },
        )
    return {"Authorization": f"Bearer {res.json()['access_token']}"}


@pytest.fixture(scope="module")
def api_schema(fuzz_city: DemoCity) -> Any:
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", fuzz_city.app)


def test_spec_is_written_to_disk_for_clients(fuzz_city: DemoCity, tmp_path: Path) -> None:
    spec = fuzz_city.app.openapi()
    assert spec["openapi"].startswith("3.")
    schemes = spec["components"]["securitySchemes"]
    assert {"OAuth2PasswordBearer", "APIKeyHeader"} <= set(schemes)
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op.get("summary") or op.get("description"), f"{method} {path} undocumented"


def _fuzz(operation: Any, headers: dict[str, str], excluded: list[Any]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    check()


def test_api_conforms_to_its_spec(api_schema: Any, admin_headers: dict[str, str]) -> None:
    # schemathesis' pytest plugin does not load under pytest 9, so each operation's
    # hypothesis strategy is driven here directly; a failure names the operation.
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        # Routes that refuse some schema-valid input on purpose, with a 400 that names why;
        # their own tests check those refusals:
        # - a bbox can match the number pattern and still be inverted or out of range;
        # - NGSI-LD bodies and parameters follow the spec's rules (URIs, attribute
        #   members, q grammar), far richer than an OpenAPI schema can say;
        # - a case's point must lie inside the city and name a known class; a class's
        #   department must exist and its limit fit its unit;
        # - a fleet zone must lie near enough to the city to be projected.
        # - an attachment's type is read from its bytes; random bytes are refused (415).
        # - a block query's metric other than count needs a field, and its level must lie
        #   below its region; a review pick must be one of the item's listed values.
        # - a release's fields must be releasable fields of the resource, k ≥ 2, 0 < ε ≤ 10.
        strict_beyond_schema = (
            operation.method.upper(),
            operation.path,
        ) in STRICT_BEYOND_SCHEMA or operation.path.startswith("/ngsi-ld/")
        excluded = [positive_data_acceptance] if strict_beyond_schema else []
        try:
            _fuzz(operation, admin_headers, excluded)
        except Exception as exc:
            raise AssertionError(f"{operation.method.upper()} {operation.path}: {exc}") from exc
