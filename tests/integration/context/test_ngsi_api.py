"""The NGSI-LD API over HTTP on the demo city: entities, attributes, queries, errors."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from opencitybrain.context.tenants import Tenants
from opencitybrain.kernel.events import CloudEvent
from tests.support import DemoCity, bearer

FIXTURES = Path(__file__).parents[2] / "fixtures" / "ngsi-ld"
JSONLD = "application/ld+json"
BAYI = [115.9070, 28.6760]


def spot(n: int, lon: float, lat: float, status: str = "free") -> dict[str, Any]:
    """Return a ParkingSpot (Smart Data Models example) moved into Nanchang."""
    body = json.loads((FIXTURES / "ParkingSpot.normalized.jsonld").read_text(encoding="utf-8"))
    body = copy.deepcopy(body)
    body["id"] = f"urn:ngsi-ld:ParkingSpot:nanchang:test:{n:04d}"
    body["location"]["value"]["coordinates"] = [lon, lat]
    body["status"]["value"] = status
    return body


@pytest.fixture(scope="module")
def h(tokens: dict[str, str]) -> dict[str, str]:
    return {**bearer(tokens["operator"]), "Content-Type": JSONLD, "NGSILD-Tenant": "apitest"}


@pytest.fixture(scope="module")
def spots(client: TestClient, h: dict[str, str]) -> list[dict[str, Any]]:
    made = [
        spot(
            i,
            BAYI[0] + 0.001 * (i % 10),
            BAYI[1] + 0.001 * (i // 10),
            "occupied" if i % 3 == 0 else "free",
        )
        for i in range(30)
    ]
    for body in made:
        res = client.post("/ngsi-ld/v1/entities", json=body, headers=h)
        assert res.status_code == 201, res.text
        assert res.headers["location"].endswith(body["id"])
    return made


def _ctx_headers(h: dict[str, str], body: dict[str, Any]) -> dict[str, str]:
    link = body["@context"][1]
    return {
        **{k: v for k, v in h.items() if k != "Content-Type"},
        "Link": f'<{link}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"',
    }


def test_retrieve_normalized_and_key_values(client: TestClient, h: dict, spots: list) -> None:
    first = spots[0]
    hh = _ctx_headers(h, first)
    res = client.get(f"/ngsi-ld/v1/entities/{first['id']}", headers=hh)
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["type"] == "ParkingSpot"
    assert body["status"]["value"] == "occupied"
    assert body["refParkingSite"]["object"] == first["refParkingSite"]["object"]
    res = client.get(f"/ngsi-ld/v1/entities/{first['id']}?options=keyValues", headers=hh)
    assert res.json()["status"] == "occupied"
    assert res.json()["location"]["type"] == "Point"
    res = client.get(f"/ngsi-ld/v1/entities/{first['id']}?options=sysAttrs", headers=hh)
    assert "createdAt" in res.json()


def test_query_by_type_q_geo_and_count(client: TestClient, h: dict, spots: list) -> None:
    hh = _ctx_headers(h, spots[0])
    res = client.get("/ngsi-ld/v1/entities?type=ParkingSpot&count=true&limit=5", headers=hh)
    assert res.status_code == 200, res.text
    assert res.headers["NGSILD-Results-Count"] == "30"
    assert len(res.json()) == 5
    res = client.get(
        '/ngsi-ld/v1/entities?type=ParkingSpot&q=status=="free"&count=true&limit=100', headers=hh
    )
    free = res.json()
    assert len(free) == 20
    assert res.headers["NGSILD-Results-Count"] == "20"
    assert all(e["status"]["value"] == "free" for e in free)
    near = (
        "/ngsi-ld/v1/entities?type=ParkingSpot&georel=near;maxDistance==150"
        f"&geometry=Point&coordinates=[{BAYI[0]},{BAYI[1]}]&limit=100"
    )
    got = {e["id"] for e in client.get(near, headers=hh).json()}
    # Spots sit on a 100 m lattice from BAYI: within 150 m are (0,0), (1,0), (0,1), (1,1).
    assert got == {spots[i]["id"] for i in (0, 1, 10, 11)}


def test_paging_visits_everything_once(client: TestClient, h: dict, spots: list) -> None:
    hh = _ctx_headers(h, spots[0])
    ids: list[str] = []
    for offset in range(0, 30, 7):
        page = client.get(
            f"/ngsi-ld/v1/entities?type=ParkingSpot&limit=7&offset={offset}", headers=hh
        ).json()
        ids += [e["id"] for e in page]
    assert sorted(ids) == sorted(s["id"] for s in spots)


def test_update_append_delete_attributes(client: TestClient, h: dict, spots: list) -> None:
    target = spots[5]
    hh = _ctx_headers(h, target)
    url = f"/ngsi-ld/v1/entities/{target['id']}"
    jh = {**hh, "Content-Type": "application/json"}
    res = client.patch(
        f"{url}/attrs",
        json={
            "status": {"type": "Property", "value": "closed"},
            "nothere": {"type": "Property", "value": 1},
        },
        headers=jh,
    )
    assert res.status_code == 207, res.text
    assert [n["attributeName"] for n in res.json()["notUpdated"]] == ["nothere"]
    assert client.get(url, headers=hh).json()["status"]["value"] == "closed"
    res = client.post(
        f"{url}/attrs",
        json={"occupancyModified": {"type": "Property", "value": "2026-11-22T08:00:00Z"}},
        headers=jh,
    )
    assert res.status_code == 204, res.text
    res = client.delete(f"{url}/attrs/occupancyModified", headers=hh)
    assert res.status_code == 204
    assert "occupancyModified" not in client.get(url, headers=hh).json()
    res = client.delete(f"{url}/attrs/occupancyModified", headers=hh)
    assert res.status_code == 404


def test_errors_follow_ngsi_ld(client: TestClient, h: dict, spots: list) -> None:
    dup = client.post("/ngsi-ld/v1/entities", json=spots[0], headers=h)
    assert dup.status_code == 409
    assert dup.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/AlreadyExists"
    missing = client.get("/ngsi-ld/v1/entities/urn:ngsi-ld:X:none", headers=h)
    assert missing.status_code == 404
    assert missing.json()["type"].endswith("/ResourceNotFound")
    bad = client.post("/ngsi-ld/v1/entities", content=b"{not json", headers=h)
    assert bad.status_code == 400
    assert bad.json()["type"].endswith("/InvalidRequest")
    # Strict JSON (RFC 8259): NaN, Infinity and non-UTF-8 bytes are refused, never stored.
    url = f"/ngsi-ld/v1/entities/{spots[1]['id']}/attrs/status"
    for body in (b'{"value": NaN}', b'{"value": 1e999}', b'{"value": "\xff"}'):
        res = client.patch(url, content=body, headers=h)
        assert (res.status_code, res.json()["type"][-14:]) == (400, "InvalidRequest"), body
    xml = client.post(
        "/ngsi-ld/v1/entities", content=b"<a/>", headers={**h, "Content-Type": "application/xml"}
    )
    assert xml.status_code == 415
    html = client.get("/ngsi-ld/v1/entities?type=ParkingSpot", headers={**h, "Accept": "text/html"})
    assert html.status_code == 406
    no_id = {k: v for k, v in spots[0].items() if k != "id"}
    res = client.post("/ngsi-ld/v1/entities", json=no_id, headers=h)
    assert res.status_code == 400
    assert res.json()["type"].endswith("/BadRequestData")
    res = client.get("/ngsi-ld/v1/entities?type=ParkingSpot&q=status==", headers=h)
    assert res.status_code == 400
    res = client.get("/ngsi-ld/v1/entities?type=ParkingSpot&limit=5000", headers=h)
    assert res.status_code == 403
    assert res.json()["type"].endswith("/TooManyResults")
    res = client.get(
        "/ngsi-ld/v1/entities?type=X",
        headers={
            **h,
            "Link": "<https://unknown.example/ctx.jsonld>; "
            'rel="http://www.w3.org/ns/json-ld#context"',
        },
    )
    assert res.status_code == 503
    assert res.json()["type"].endswith("/LdContextNotAvailable")


def test_tenants_are_isolated(client: TestClient, h: dict, spots: list) -> None:
    other = {**h, "NGSILD-Tenant": "someone-else"}
    res = client.get(f"/ngsi-ld/v1/entities/{spots[0]['id']}", headers=other)
    assert res.status_code == 404
    assert res.json()["type"].endswith("/NonexistentTenant")
    default = {k: v for k, v in h.items() if k != "NGSILD-Tenant"}
    res = client.get(f"/ngsi-ld/v1/entities/{spots[0]['id']}", headers=default)
    assert res.status_code == 404


def test_citizens_cannot_touch_live_state(client: TestClient, tokens: dict, spots: list) -> None:
    res = client.get("/ngsi-ld/v1/entities?type=ParkingSpot", headers=bearer(tokens["citizen"]))
    assert res.status_code == 403


def test_changes_are_published_as_cloudevents(
    client: TestClient, h: dict, demo_city: DemoCity
) -> None:
    got: list[CloudEvent] = []
    bus = demo_city.platform.bus

    async def handler(event: CloudEvent) -> None:
        got.append(event)

    loop = asyncio.new_event_loop()
    try:
        sub = loop.run_until_complete(bus.subscribe("city.context.entity.*", handler))
        body = spot(999, BAYI[0], BAYI[1])
        # The app publishes on its own loop; subscribe here and let TestClient drive the app.
        res = client.post("/ngsi-ld/v1/entities", json=body, headers=h)
        assert res.status_code == 201
        loop.run_until_complete(asyncio.sleep(0.05))
        loop.run_until_complete(sub.unsubscribe())
    finally:
        loop.close()
    created = [e for e in got if e.subject == body["id"]]
    assert created
    assert created[0].type == "city.context.entity.created"
    assert created[0].data["tenant"] == "apitest"
    assert created[0].context is not None


def test_a_tenant_exists_once_something_is_created_in_it(
    client: TestClient, h: dict, demo_city: DemoCity
) -> None:
    new = {**h, "NGSILD-Tenant": "district-7"}
    entity_id = "urn:ngsi-ld:ParkingSpot:t7:1"
    for method, path, body in [
        ("GET", "/ngsi-ld/v1/entities?type=ParkingSpot", None),
        ("GET", f"/ngsi-ld/v1/entities/{entity_id}", None),
        ("PATCH", f"/ngsi-ld/v1/entities/{entity_id}/attrs/status", {"value": "free"}),
        ("DELETE", f"/ngsi-ld/v1/entities/{entity_id}", None),
        ("GET", "/ngsi-ld/v1/subscriptions", None),
        ("GET", f"/ngsi-ld/v1/temporal/entities/{entity_id}", None),
        (
            "POST",
            "/ngsi-ld/v1/entityOperations/query",
            {"type": "Query", "entities": [{"type": "ParkingSpot"}]},
        ),
        ("POST", "/ngsi-ld/v1/entityOperations/delete", [entity_id]),
    ]:
        res = client.request(method, path, headers=new, json=body)
        assert res.status_code == 404, (method, path, res.text)
        assert res.json()["type"].endswith("/NonexistentTenant"), (method, path)
    body = spot(1, 115.9, 28.68) | {"id": entity_id}
    res = client.post("/ngsi-ld/v1/entities", json=body, headers=new)
    assert res.status_code == 201, res.text
    res = client.get("/ngsi-ld/v1/entities?type=ParkingSpot", headers=_ctx_headers(new, body))
    assert [e["id"] for e in res.json()] == [entity_id]
    # Another worker on the same store learns of the tenant from the store.
    assert Tenants(demo_city.platform.broker.store).exists("district-7")
    assert not Tenants(demo_city.platform.broker.store).exists("district-8")
