"""No unmasked value leaves without a clearing grant: walk every GET route of the app.

Sensitive rows are loaded into a health resource; then every GET route is called, with
its path parameters filled with the ids this test knows (the resource, a request, a
grant) or a placeholder, by callers that hold no clearing grant for the resource: the
bureau's admin (every permission, no grant), a department's staff and an app. No
response body may hold any of the loaded sensitive values. Then the governed rows route
is read under a grant that clears nothing, with and without pseudonyms.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from opencitybrain.apikit.auth import route_guards
from tests.integration.sharing.support import SECRETS, Loaded, load_sensitive
from tests.support import DemoCity, bearer

PURPOSE = "leak-walk"
CALLERS = ("admin", "transport-staff", "operator", "citizen")


@pytest.fixture(scope="module")
def loaded(demo_city: DemoCity, client: TestClient) -> Loaded:
    return load_sensitive(demo_city, client, "202")


def _leaks(body: str) -> list[str]:
    return [s for s in SECRETS if s in body]


def _fill(path: str, ids: dict[str, str]) -> str:
    def one(m: re.Match[str]) -> str:
        return ids.get(m.group(1), "x-test-id")

    return re.sub(r"\{([^}]+)\}", one, path)


def _granted(client: TestClient, tokens: dict[str, str], resource_id: str) -> tuple[str, str]:
    body = {
        "resource_id": resource_id,
        "fields": ["record_id", "name", "id_number", "mobile", "address", "bank_card"],
        "purpose": PURPOSE, "scenario": "walk", "ends_at": "2099-01-01T00:00:00Z",
    }  # fmt: skip
    req = client.post("/api/v1/sharing/requests", json=body,
                      headers=bearer(tokens["transport-staff"])).json()  # fmt: skip
    res = client.post(f"/api/v1/sharing/requests/{req['id']}/approve", json={"reason": "ok"},
                      headers=bearer(tokens["health-staff"]))  # fmt: skip
    assert res.status_code == 200, res.text
    return req["id"], res.json()["grant_id"]


def _released(client: TestClient, tokens: dict[str, str], resource_id: str) -> str:
    """Publish an open k-anonymous release of the resource; the public routes read it."""
    body = {"title": "leak-walk", "mode": "k_anonymity", "k": 2, "qi": ["district"]}
    res = client.post(f"/api/v1/sharing/resources/{resource_id}/releases", json=body,
                      headers=bearer(tokens["health-staff"]))  # fmt: skip
    assert res.status_code == 201, res.text
    return str(res.json()["id"])


def test_no_get_route_returns_an_unmasked_value(
    client: TestClient, demo_city: DemoCity, tokens: dict[str, str], loaded: Loaded
) -> None:
    request_id, grant_id = _granted(client, tokens, loaded.resource_id)
    rid = loaded.resource_id
    release_id = _released(client, tokens, rid)
    ids = {"resource_id": rid, "ref": rid, "id": rid, "request_id": request_id,
           "grant_id": grant_id, "kind": "people", "fmt": "json",
           "release_id": release_id}  # fmt: skip
    queries: dict[str, Any] = {"id": loaded.resource_id, "grant": grant_id, "limit": 100,
                               "purpose": PURPOSE, "field": ["name", "mobile"]}  # fmt: skip
    called = 0
    for g in route_guards(demo_city.app):
        if g.method != "GET":
            continue
        url = _fill(g.path, ids)
        for user in CALLERS:
            for params in ({}, queries):
                res = client.get(url, params=params, headers=bearer(tokens[user]))
                leaked = _leaks(res.text)
                assert not leaked, f"{user} GET {url} {params} -> {res.status_code} leaks {leaked}"
                called += 1
    assert called > 100


def test_the_rows_route_masks_everything_a_grant_does_not_clear(
    client: TestClient, demo_city: DemoCity, tokens: dict[str, str], loaded: Loaded
) -> None:
    _, grant_id = _granted(client, tokens, loaded.resource_id)
    url = f"/api/v1/sharing/resources/{loaded.resource_id}/rows"
    headers = {**bearer(tokens["transport-staff"]), "X-Purpose": quote(PURPOSE)}
    for pseudonyms in (False, True):
        res = client.get(url, params={"grant": grant_id, "pseudonyms": pseudonyms},
                         headers=headers)  # fmt: skip
        assert res.status_code == 200, res.text
        assert res.json()["total"] == 5
        assert not _leaks(res.text)
    # The grantee department's app reads under the department's grant: masked too.
    app = {"X-API-Key": demo_city.credentials["demo-app"].secret, "X-Purpose": quote(PURPOSE)}
    res = client.get(url, params={"grant": grant_id}, headers=app)
    assert res.status_code == 200, res.text
    assert not _leaks(res.text)
    # The check can see a leak: the provider's own staff read the values in clear.
    own = client.get(url, headers=bearer(tokens["health-staff"]))
    assert len(_leaks(own.text)) == len(SECRETS)


@pytest.fixture(scope="module")
def golden(demo_city: DemoCity, client: TestClient) -> tuple[str, str, list[str]]:
    """Build a small people registry: its resource, one golden ID, its distinctive values."""
    from opencitybrain.registry.model import SourceSpec
    from opencitybrain.registry.service import RegistryService
    from opencitybrain.sim.population import PEOPLE_TABLES, PopulationSpec, generate, nanchang_like

    service = demo_city.platform.services.get(RegistryService)
    assert service.shelf is not None
    client.portal.call(service.shelf.ensure)  # type: ignore[union-attr]
    population = generate(nanchang_like(), PopulationSpec(people=120, companies=10, vehicles=40))
    inputs = [
        (SourceSpec.from_mapping(s.as_source()), population.tables[s.source]) for s in PEOPLE_TABLES
    ]
    report = service.build("people", inputs)
    assert report.reconciles
    build = service.files.current("people")
    rid = service.shelf.resource_id("people")
    assert build is not None
    assert rid is not None
    rows = build.golden.to_pylist()
    # IDs, addresses and names of three or more characters: finding one is a leak.
    values = [r["golden_id"] for r in rows] + [r["address"] for r in rows if r["address"]]
    values += [r["name"] for r in rows if r["name"] and len(r["name"]) >= 3]
    return rid, rows[0]["golden_id"], values


def test_no_get_route_returns_a_golden_record_unmasked_without_a_grant(
    client: TestClient, demo_city: DemoCity, tokens: dict[str, str],
    golden: tuple[str, str, list[str]],
) -> None:  # fmt: skip
    rid, code, values = golden
    # The code a caller asks by is its own input; every other value must stay hidden.
    secrets = [v for v in values if v != code]
    ids = {"resource_id": rid, "ref": rid, "id": rid, "kind": "people", "code": code,
           "fmt": "json"}  # fmt: skip
    queries: dict[str, Any] = {"id": rid, "limit": 100, "purpose": PURPOSE,
                               "field": ["golden_id", "name", "address"]}  # fmt: skip
    called = 0
    for g in route_guards(demo_city.app):
        if g.method != "GET":
            continue
        url = _fill(g.path, ids)
        for user in ("transport-staff", "operator", "citizen"):
            for params in ({}, queries):
                headers = bearer(tokens[user]) | {"X-Purpose": quote(PURPOSE)}
                res = client.get(url, params=params, headers=headers)
                leaked = [s for s in secrets if s in res.text]
                assert not leaked, f"{user} GET {url} {params} -> {res.status_code} leaks {leaked}"
                called += 1
    assert called > 100
    # The check can see a leak: the bureau, the registries' provider, reads them in clear.
    own = client.get(f"/api/v1/registry/people/records/{code}", headers=bearer(tokens["admin"]))
    assert own.status_code == 200, own.text
    assert [s for s in secrets if s in own.text]
