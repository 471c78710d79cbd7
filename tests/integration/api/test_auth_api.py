"""Sign-in, tokens, API keys and OAuth2 client credentials over HTTP."""

from __future__ import annotations

import base64

from fastapi.testclient import TestClient

from tests.support import DemoCity, bearer


def _token(client: TestClient, **form: str) -> object:
    return client.post("/api/v1/auth/token", data=form)


def test_password_grant_and_me(client: TestClient, demo_city: DemoCity) -> None:
    res = client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "password",
            "username": "operator",
            "password": demo_city.password("operator"),
        },
    )
    assert res.status_code == 200
    body = res.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] > 0
    me = client.get("/api/v1/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    me_body = me.json()
    assert me_body["username"] == "operator"
    assert me_body["department"]["id"] == "command-centre"
    assert me_body["department"]["name_zh"].startswith("南昌")
    assert "city:read" in me_body["permissions"]
    assert "accounts:admin" not in me_body["permissions"]
    assert me_body["auth_method"] == "password"


def test_wrong_password_is_a_problem(client: TestClient) -> None:
    res = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "operator", "password": "nope-nope-nope"},
    )
    assert res.status_code == 401
    assert res.headers["content-type"] == "application/problem+json"
    problem = res.json()
    assert problem["code"] == "auth.bad_credentials"
    assert "用户名或密码错误" in problem["detail"]
    assert problem["type"].startswith("urn:opencitybrain:problem:")


def test_unsupported_grant_and_missing_fields(client: TestClient) -> None:
    res = client.post("/api/v1/auth/token", data={"grant_type": "implicit"})
    assert res.status_code == 400
    assert res.json()["code"] == "oauth.unsupported_grant_type"
    res = client.post("/api/v1/auth/token", data={})
    assert res.status_code == 422
    assert any(e["field"].endswith("grant_type") for e in res.json()["errors"])


def test_api_key_and_client_credentials(client: TestClient, demo_city: DemoCity) -> None:
    key = demo_city.credentials["demo-app"].secret
    res = client.get("/api/v1/city", headers={"X-API-Key": key})
    assert res.status_code == 200
    res = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {key}"})
    assert res.json()["auth_method"] == "api_key"
    client_id, secret = key.removeprefix("cbk_").split(".")
    # client_secret_post
    res = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert res.status_code == 200, res.text
    me = client.get("/api/v1/auth/me", headers=bearer(res.json()["access_token"]))
    assert me.json()["auth_method"] == "client_credentials"
    assert me.json()["roles"] == ["app"]
    # client_secret_basic
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    res = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert res.status_code == 200
    res = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": "x"},
    )
    assert res.status_code == 401


def test_key_life_cycle_over_http(client: TestClient, tokens: dict[str, str]) -> None:
    me = client.get("/api/v1/auth/me", headers=bearer(tokens["transport-staff"])).json()
    res = client.post(
        f"/api/v1/users/{me['id']}/api-keys",
        json={"name": "signal controller gateway", "ttl_days": 30},
        headers=bearer(tokens["transport-staff"]),
    )
    assert res.status_code == 201
    created = res.json()
    assert created["key"].startswith("cbk_")
    assert client.get("/api/v1/city", headers={"X-API-Key": created["key"]}).status_code == 200
    listed = client.get(
        f"/api/v1/users/{me['id']}/api-keys", headers=bearer(tokens["transport-staff"])
    ).json()
    assert created["id"] in [k["id"] for k in listed]
    assert all("key" not in k and "secret_hash" not in k for k in listed)
    res = client.delete(
        f"/api/v1/api-keys/{created['id']}", headers=bearer(tokens["transport-staff"])
    )
    assert res.status_code == 204
    res = client.get("/api/v1/city", headers={"X-API-Key": created["key"]})
    assert res.status_code == 401
    assert res.json()["code"] == "auth.key_expired"


def test_bureau_manages_the_org_tree(client: TestClient, tokens: dict[str, str]) -> None:
    admin = bearer(tokens["admin"])
    depts = client.get("/api/v1/departments", headers=admin).json()
    ids = {d["id"] for d in depts}
    assert {"city", "bureau", "transport", "health", "district-360102"} <= ids
    districts = [d for d in depts if d["kind"] == "district"]
    assert len(districts) == 9
    assert all(d["parent_id"] == "city" for d in districts)
    res = client.post(
        "/api/v1/departments",
        json={
            "id": "street-360102001",
            "name_zh": "测试街道办",
            "name_en": "Test Street Office",
            "kind": "street",
            "parent_id": "district-360102",
            "region_code": "360102001",
        },
        headers=admin,
    )
    assert res.status_code == 201, res.text
    res = client.post(
        "/api/v1/users",
        json={
            "username": "street-worker",
            "display_name": "街道网格员",
            "department_id": "street-360102001",
            "roles": ["grid_worker"],
            "password": "a-long-enough-password",
        },
        headers=admin,
    )
    assert res.status_code == 201, res.text
    user = res.json()
    assert "password" not in user
    assert "password_hash" not in user
    res = client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "password",
            "username": "street-worker",
            "password": "a-long-enough-password",
        },
    )
    assert res.status_code == 200
    res = client.patch(f"/api/v1/users/{user['id']}", json={"is_active": False}, headers=admin)
    assert res.json()["is_active"] is False
    res = client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "password",
            "username": "street-worker",
            "password": "a-long-enough-password",
        },
    )
    assert res.status_code == 401


def test_bad_org_input_gets_field_errors(client: TestClient, tokens: dict[str, str]) -> None:
    admin = bearer(tokens["admin"])
    res = client.post(
        "/api/v1/users",
        json={"username": "X", "display_name": "", "department_id": "transport", "roles": []},
        headers=admin,
    )
    assert res.status_code == 422
    fields = {e["field"] for e in res.json()["errors"]}
    assert {"body.username", "body.display_name", "body.roles"} <= fields
    res = client.post(
        "/api/v1/users",
        json={
            "username": "dupe-check",
            "display_name": "x",
            "department_id": "no-such",
            "roles": ["citizen"],
        },
        headers=admin,
    )
    assert res.status_code == 404
    assert res.json()["code"] == "accounts.no_department"
