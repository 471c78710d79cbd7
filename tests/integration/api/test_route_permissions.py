"""Default deny: every route declares a permission or is explicitly public, and enforces it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from opencitybrain.accounts.model import ROLE_PERMISSIONS, Permission, Role
from opencitybrain.apikit.auth import RouteGuard, route_guards
from tests.support import DemoCity, bearer

# The only routes anyone may call without credentials.
PUBLIC_ROUTES = {("GET", "/api/v1/health"), ("POST", "/api/v1/auth/token")}
# Open311 GeoReport v2 is a public civic API: its reads are open to anyone, as the spec
# intends, and show only requests filed through Open311 (never the reporter); POST takes
# the spec's ``api_key`` form field, which the route authenticates itself (cases:report)
# so that refusals leave in the spec's error format (tests/integration/operations/
# test_open311_api.py). Each resource answers with and without a .json/.xml suffix.
PUBLIC_ROUTES |= {
    (method, f"/open311/v2/{resource}{suffix}")
    for method, resource in [
        ("GET", "services"),
        ("GET", "services/{service_code}"),
        ("GET", "requests"),
        ("POST", "requests"),
        ("GET", "requests/{service_request_id}"),
        ("GET", "tokens/{token}"),
    ]
    for suffix in ("", ".{fmt}")
}
# Open data releases (sharing/release_api.py): k-anonymous or DP tables with no identifier
# field, published by their provider for the public portal (tests/integration/sharing/
# test_release_api.py proves both).
PUBLIC_ROUTES |= {
    ("GET", "/api/v1/open/releases"),
    ("GET", "/api/v1/open/releases/{release_id}"),
    ("GET", "/api/v1/open/releases/{release_id}/rows.csv"),
}


def _routes(app: Any) -> list[tuple[str, str, RouteGuard]]:
    return [(g.method, g.path, g) for g in route_guards(app)]


def _guard(g: RouteGuard) -> tuple[bool, frozenset[Permission] | None]:
    return g.public, g.permissions


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x-test-id", path)


def test_every_route_declares_its_permission(demo_city: DemoCity) -> None:
    routes = _routes(demo_city.app)
    assert len(routes) >= 15
    unguarded = []
    public = set()
    for method, path, route in routes:
        is_pub, perms = _guard(route)
        if is_pub:
            public.add((method, path))
        elif perms is None:
            unguarded.append(f"{method} {path}")
    assert unguarded == [], f"routes with no permission check: {unguarded}"
    assert public == PUBLIC_ROUTES


def test_anonymous_callers_are_refused_everywhere(client: TestClient, demo_city: DemoCity) -> None:
    for method, path, _ in _routes(demo_city.app):
        if (method, path) in PUBLIC_ROUTES:
            continue
        res = client.request(method, _concrete(path), json={})
        assert res.status_code == 401, f"{method} {path} -> {res.status_code}"
        assert res.headers["content-type"].startswith("application/problem+json")
        assert res.headers["www-authenticate"].startswith("Bearer")
        assert res.json()["code"] == "auth.required"


def test_bad_credentials_are_refused_everywhere(client: TestClient, demo_city: DemoCity) -> None:
    forged = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.forged"}
    bad_key = {"X-API-Key": "cbk_nope.nope"}
    for method, path, _ in _routes(demo_city.app):
        if (method, path) in PUBLIC_ROUTES:
            continue
        for headers in (forged, bad_key):
            res = client.request(method, _concrete(path), headers=headers, json={})
            assert res.status_code == 401, f"{method} {path} {headers} -> {res.status_code}"


@pytest.mark.parametrize("username", ["citizen", "grid-worker", "transport-staff", "operator"])
def test_roles_without_a_permission_get_403(
    client: TestClient, demo_city: DemoCity, tokens: dict[str, str], username: str
) -> None:
    role = next(iter(demo_city.platform.accounts.find_user(username).roles))
    granted = ROLE_PERMISSIONS[Role(role)]
    checked = 0
    for method, path, route in _routes(demo_city.app):
        _, perms = _guard(route)
        if not perms or perms <= granted:
            continue
        res = client.request(method, _concrete(path), headers=bearer(tokens[username]), json={})
        assert res.status_code == 403, f"{username}: {method} {path} -> {res.status_code}"
        assert res.json()["code"] == "auth.forbidden"
        checked += 1
    assert checked > 0


def test_every_permission_is_used_by_some_route(demo_city: DemoCity) -> None:
    used: set[Permission] = set()
    for _, _, route in _routes(demo_city.app):
        used |= _guard(route)[1] or frozenset()
    assert used == set(Permission)
