"""The sharing API end to end: request, approve, read masked rows, revoke, verify the audit."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from tests.integration.sharing.support import ROWS, Loaded, load_sensitive
from tests.support import DemoCity, bearer

PURPOSE = "居民健康随访"


@pytest.fixture(scope="module")
def loaded(demo_city: DemoCity, client: TestClient) -> Loaded:
    return load_sensitive(demo_city, client, "101")


def _h(tokens: dict[str, str], user: str, purpose: str | None = None) -> dict[str, str]:
    h = bearer(tokens[user])
    if purpose is not None:
        h["X-Purpose"] = quote(purpose)  # headers are ASCII: percent-encoded UTF-8
    return h


def _ask(client: TestClient, tokens: dict[str, str], resource_id: str, **extra: Any) -> Any:
    body = {
        "resource_id": resource_id,
        "fields": ["record_id", "name", "mobile", "district"],
        "purpose": PURPOSE,
        "scenario": "老年人健康服务一件事",
        "ends_at": "2099-01-01T00:00:00+08:00",
        **extra,
    }
    res = client.post("/api/v1/sharing/requests", json=body, headers=_h(tokens, "transport-staff"))
    assert res.status_code == 201, res.text
    return res.json()


def test_request_approve_read_revoke(
    client: TestClient, tokens: dict[str, str], loaded: Loaded
) -> None:
    req = _ask(client, tokens, loaded.resource_id,
               row_filter=[{"field": "district", "op": "eq", "value": "西湖区"}])  # fmt: skip
    assert req["status"] == "pending"
    assert req["decider"] == "provider"
    assert req["due_at"] is not None
    # The provider sees it in its inbox; the requester cannot approve it.
    inbox = client.get("/api/v1/sharing/requests", headers=_h(tokens, "health-staff")).json()
    assert req["id"] in [r["id"] for r in inbox]
    url = f"/api/v1/sharing/requests/{req['id']}/approve"
    assert client.post(url, json={}, headers=_h(tokens, "transport-staff")).status_code == 403
    res = client.post(url, json={"reason": "同意"}, headers=_h(tokens, "health-staff"))
    assert res.status_code == 200, res.text
    grant = res.json()["grant_id"]
    seen = client.get(
        f"/api/v1/sharing/requests/{req['id']}", headers=_h(tokens, "transport-staff")
    )
    assert [h["status"] for h in seen.json()["history"]] == ["pending", "granted"]

    rows_url = f"/api/v1/sharing/resources/{loaded.resource_id}/rows"
    res = client.get(rows_url, params={"grant": grant, "limit": 10},
                     headers=_h(tokens, "transport-staff", PURPOSE))  # fmt: skip
    assert res.status_code == 200, res.text
    page = res.json()
    assert page["total"] == 2  # the grant's row filter: 西湖区 only
    assert page["masked"] == ["name", "mobile"]
    assert page["rows"][0] == {"record_id": "H001", "name": "欧***", "mobile": "135****6801",
                               "district": "西湖区"}  # fmt: skip
    wrong = client.get(
        rows_url, params={"grant": grant}, headers=_h(tokens, "transport-staff", "x")
    )
    assert wrong.status_code == 403
    assert wrong.json()["code"] == "sharing.purpose_mismatch"
    bad = client.get(rows_url, params={"grant": grant, "filter": "name:prefix:欧"},
                     headers=_h(tokens, "transport-staff", PURPOSE))  # fmt: skip
    assert bad.status_code == 403
    assert bad.json()["code"] == "sharing.filter_on_masked"

    revoke = client.post(f"/api/v1/sharing/grants/{grant}/revoke", json={"reason": "随访结束"},
                         headers=_h(tokens, "health-staff"))  # fmt: skip
    assert revoke.status_code == 200, revoke.text
    gone = client.get(
        rows_url, params={"grant": grant}, headers=_h(tokens, "transport-staff", PURPOSE)
    )
    assert gone.json()["code"] == "sharing.grant_revoked"


def test_the_provider_reads_its_own_rows(
    client: TestClient, tokens: dict[str, str], loaded: Loaded
) -> None:
    res = client.get(f"/api/v1/sharing/resources/{loaded.resource_id}/rows",
                     params={"field": ["record_id", "id_number"], "limit": 1},
                     headers=_h(tokens, "health-staff"))  # fmt: skip
    assert res.status_code == 200, res.text
    assert res.json()["rows"] == [{"record_id": "H000", "id_number": ROWS[0]["id_number"]}]
    # The audit record's hash is of the very bytes the reader received.
    sent = res.content[res.content.index(b'"rows":') + len(b'"rows":') : -1]
    audit = client.get("/api/v1/sharing/audit", params={"limit": 1, "resource_id":
                       loaded.resource_id}, headers=_h(tokens, "admin")).json()  # fmt: skip
    assert audit[0]["seq"] == res.json()["audit_seq"]
    assert audit[0]["result_hash"] == hashlib.sha256(sent).hexdigest()


def test_the_bureau_verifies_the_audit_chain(
    client: TestClient, tokens: dict[str, str], loaded: Loaded
) -> None:
    _ask(client, tokens, loaded.resource_id)
    res = client.get("/api/v1/sharing/audit/verify", headers=_h(tokens, "admin"))
    assert res.status_code == 200, res.text
    assert res.json()["ok"] is True
    assert res.json()["records"] >= 1
    recent = client.get("/api/v1/sharing/audit", params={"limit": 5}, headers=_h(tokens, "admin"))
    assert recent.json()[0]["kind"] in {"requested", "read", "read_refused", "granted", "revoked"}
    denied = client.get("/api/v1/sharing/audit/verify", headers=_h(tokens, "transport-staff"))
    assert denied.status_code == 403


def test_bad_bodies_are_refused(client: TestClient, tokens: dict[str, str], loaded: Loaded) -> None:
    h = _h(tokens, "transport-staff")
    body = {"resource_id": loaded.resource_id, "fields": ["nope"], "purpose": "p",
            "scenario": "s", "ends_at": "2099-01-01T00:00:00Z"}  # fmt: skip
    res = client.post("/api/v1/sharing/requests", json=body, headers=h)
    assert res.status_code == 400
    assert res.json()["code"] == "sharing.unknown_field"
    res = client.post("/api/v1/sharing/requests", json={**body, "extra": 1}, headers=h)
    assert res.status_code in (400, 422)
    res = client.get(f"/api/v1/sharing/resources/{loaded.resource_id}/rows",
                     params={"limit": 10_001}, headers=h)  # fmt: skip
    assert res.status_code in (400, 422)
