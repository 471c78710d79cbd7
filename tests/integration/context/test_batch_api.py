"""NGSI-LD batch operations over HTTP: create, upsert, update, merge, delete and query."""

from __future__ import annotations

import asyncio
import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from opencitybrain.kernel.events import CloudEvent
from tests.support import DemoCity, bearer

FIXTURES = Path(__file__).parents[2] / "fixtures" / "ngsi-ld"
OPS = "/ngsi-ld/v1/entityOperations"
JSONLD = "application/ld+json"
LINK_REL = 'rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
PARKING = (
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Parking/master/context.jsonld"
)
TRANSPORT = "https://smart-data-models.github.io/dataModel.Transportation/context.jsonld"
TENANT = "batchtest"
# Nanchang: Bayi Square and the Tengwang Pavilion.
BAYI = (115.9070, 28.6760)
TENGWANG = (115.8790, 28.6810)


def _shift(coords: Any, dx: float, dy: float) -> Any:
    if isinstance(coords[0], int | float):
        return [coords[0] + dx, coords[1] + dy, *coords[2:]]
    return [_shift(c, dx, dy) for c in coords]


def _first(coords: Any) -> Any:
    return coords if isinstance(coords[0], int | float) else _first(coords[0])


def sdm(kind: str, entity_id: str, at: tuple[float, float] = BAYI) -> dict[str, Any]:
    """Return a Smart Data Models example of ``kind`` with its geometry moved to ``at``."""
    body = json.loads((FIXTURES / f"{kind}.normalized.jsonld").read_text(encoding="utf-8"))
    body = copy.deepcopy(body)
    body["id"] = entity_id
    geometry = body["location"]["value"]
    lon, lat = _first(geometry["coordinates"])[:2]
    geometry["coordinates"] = _shift(geometry["coordinates"], at[0] - lon, at[1] - lat)
    return body


def spot(n: int, status: str = "free") -> dict[str, Any]:
    """Return ParkingSpot n on a 100 m lattice east of Bayi Square."""
    body = sdm("ParkingSpot", f"urn:ngsi-ld:ParkingSpot:nanchang:batch:{n:05d}")
    body["location"]["value"]["coordinates"] = [BAYI[0] + 0.001 * (n % 50), BAYI[1]]
    body["status"]["value"] = status
    return body


@pytest.fixture(scope="module")
def h(tokens: dict[str, str]) -> dict[str, str]:
    return {**bearer(tokens["operator"]), "Content-Type": JSONLD, "NGSILD-Tenant": TENANT}


def _link(h: dict[str, str], url: str = PARKING) -> dict[str, str]:
    return {**h, "Content-Type": "application/json", "Link": f"<{url}>; {LINK_REL}"}


def _get(client: TestClient, h: dict[str, str], entity_id: str) -> Any:
    res = client.get(f"/ngsi-ld/v1/entities/{entity_id}", headers=_link(h))
    return res.json() if res.status_code == 200 else None


def test_create_all_new_answers_201_with_ids(client: TestClient, h: dict[str, str]) -> None:
    bodies = [spot(1), spot(2), sdm("OffStreetParking", "urn:ngsi-ld:OffStreetParking:nc:1")]
    res = client.post(f"{OPS}/create", json=bodies, headers=h)
    assert res.status_code == 201, res.text
    assert res.json() == [b["id"] for b in bodies]
    got = _get(client, h, bodies[2]["id"])
    assert got["type"] == "OffStreetParking"
    assert got["location"]["value"]["coordinates"] == list(BAYI)


def test_one_bad_entity_fails_alone(client: TestClient, h: dict[str, str]) -> None:
    client.post(f"{OPS}/create", json=[spot(10)], headers=h)
    no_type = spot(11)
    del no_type["type"]
    bad_geo = spot(12)
    bad_geo["location"]["value"]["coordinates"] = [500, 28.6]
    bodies = [spot(10), no_type, spot(13), bad_geo, "not an entity", spot(13)]
    res = client.post(f"{OPS}/create", json=bodies, headers=h)
    assert res.status_code == 207, res.text
    out = res.json()
    assert out["success"] == [spot(13)["id"]]
    errors = {e["entityId"]: e["error"] for e in out["errors"]}
    assert set(errors) == {spot(i)["id"] for i in (10, 11, 12, 13)} | {"#4"}
    assert errors[spot(10)["id"]]["type"].endswith("/AlreadyExists")
    assert errors[spot(11)["id"]]["type"].endswith("/BadRequestData")
    assert errors[spot(12)["id"]]["status"] == 400
    assert errors[spot(13)["id"]]["type"].endswith("/AlreadyExists")  # its repeat
    assert _get(client, h, spot(13)["id"]) is not None
    assert _get(client, h, spot(11)["id"]) is None


def test_body_must_be_a_non_empty_array(client: TestClient, h: dict[str, str]) -> None:
    for op in ("create", "upsert", "update", "merge", "delete"):
        res = client.post(f"{OPS}/{op}", json=spot(20), headers=h)
        assert res.status_code == 400, (op, res.text)
        assert res.json()["type"].endswith("/BadRequestData")
        assert client.post(f"{OPS}/{op}", json=[], headers=h).status_code == 400
    res = client.post(f"{OPS}/create", content=b"[{oops", headers=h)
    assert res.status_code == 400
    assert res.json()["type"].endswith("/InvalidRequest")
    res = client.post(f"{OPS}/create", content=b"[]", headers={**h, "Content-Type": "text/csv"})
    assert res.status_code == 415


def test_context_rules_per_entity(client: TestClient, h: dict[str, str]) -> None:
    unknown = spot(30)
    unknown["@context"] = ["https://unknown.example.org/nanchang-context.jsonld"]
    bare = spot(31)
    del bare["@context"]
    res = client.post(f"{OPS}/create", json=[unknown, bare, spot(32)], headers=h)
    assert res.status_code == 207, res.text
    errors = {e["entityId"]: e["error"] for e in res.json()["errors"]}
    assert errors[unknown["id"]]["type"].endswith("/LdContextNotAvailable")
    assert errors[bare["id"]]["type"].endswith("/BadRequestData")
    assert res.json()["success"] == [spot(32)["id"]]
    # application/json: the Link header gives the context, entities must not carry one.
    res = client.post(f"{OPS}/create", json=[bare, spot(33)], headers=_link(h))
    assert res.status_code == 207
    assert res.json()["success"] == [bare["id"]]
    # application/ld+json with a Link header is refused as a whole.
    res = client.post(
        f"{OPS}/create", json=[spot(34)], headers={**_link(h), "Content-Type": JSONLD}
    )
    assert res.status_code == 400


def test_upsert_replaces_or_updates(client: TestClient, h: dict[str, str]) -> None:
    client.post(f"{OPS}/create", json=[spot(40), spot(41)], headers=h)
    slim = spot(40, "occupied")
    del slim["name"]
    res = client.post(f"{OPS}/upsert", json=[slim, spot(42)], headers=h)
    assert res.status_code == 201, res.text
    assert res.json() == [spot(42)["id"]]
    replaced = _get(client, h, slim["id"])
    assert replaced["status"]["value"] == "occupied"
    assert "name" not in replaced
    res = client.post(f"{OPS}/upsert", json=[spot(40), spot(42)], headers=h)
    assert res.status_code == 204
    patch = {"id": spot(41)["id"], "type": "ParkingSpot", "@context": spot(41)["@context"]}
    patch["status"] = {"type": "Property", "value": "closed"}
    res = client.post(f"{OPS}/upsert?options=update", json=[patch], headers=h)
    assert res.status_code == 204, res.text
    updated = _get(client, h, spot(41)["id"])
    assert updated["status"]["value"] == "closed"
    assert updated["name"]["value"] == "A-13"
    res = client.post(f"{OPS}/upsert?options=update,replace", json=[patch], headers=h)
    assert res.status_code == 400


def test_update_appends_and_reports(client: TestClient, h: dict[str, str]) -> None:
    client.post(f"{OPS}/create", json=[spot(50), spot(51)], headers=h)
    ctx = spot(50)["@context"]
    more = {"type": "Property", "value": "2026-11-22T08:00:00Z"}
    frags = [
        {"id": spot(50)["id"], "@context": ctx, "occupancyModified": more},
        {"id": spot(51)["id"], "@context": ctx, "status": {"type": "Property", "value": "closed"}},
    ]
    res = client.post(f"{OPS}/update", json=frags, headers=h)
    assert res.status_code == 204, res.text
    assert _get(client, h, spot(50)["id"])["occupancyModified"]["value"] == more["value"]
    assert _get(client, h, spot(51)["id"])["status"]["value"] == "closed"
    frags[1]["status"]["value"] = "free"
    missing = {"id": "urn:ngsi-ld:ParkingSpot:nanchang:batch:none", "@context": ctx}
    missing["occupancyModified"] = more
    res = client.post(f"{OPS}/update?options=noOverwrite", json=[frags[1], missing], headers=h)
    assert res.status_code == 207, res.text
    errors = {e["entityId"]: e["error"] for e in res.json()["errors"]}
    assert "status" in errors[spot(51)["id"]]["detail"]
    assert errors[missing["id"]]["type"].endswith("/ResourceNotFound")
    assert _get(client, h, spot(51)["id"])["status"]["value"] == "closed"


def test_merge_and_delete(client: TestClient, h: dict[str, str]) -> None:
    client.post(f"{OPS}/create", json=[spot(60), spot(61)], headers=h)
    ctx = spot(60)["@context"]
    frags = [
        {"id": spot(60)["id"], "@context": ctx, "name": "urn:ngsi-ld:null"},
        {"id": spot(61)["id"], "@context": ctx, "status": {"value": "occupied"}},
    ]
    assert client.post(f"{OPS}/merge", json=frags, headers=h).status_code == 204
    assert "name" not in _get(client, h, spot(60)["id"])
    merged = _get(client, h, spot(61)["id"])
    assert merged["status"]["value"] == "occupied"
    assert merged["status"]["observedAt"] == "2018-09-21T12:00:00Z"
    ids = [spot(60)["id"], spot(61)["id"]]
    res = client.post(f"{OPS}/delete", json=ids, headers=h)
    assert res.status_code == 204, res.text
    res = client.post(f"{OPS}/delete", json=[spot(60)["id"], "no-uri", spot(1)["id"]], headers=h)
    assert res.status_code == 207
    assert res.json()["success"] == [spot(1)["id"]]
    assert {e["entityId"] for e in res.json()["errors"]} == {spot(60)["id"], "no-uri"}


def test_changes_publish_events_and_history(
    client: TestClient, h: dict[str, str], demo_city: DemoCity
) -> None:
    got: list[CloudEvent] = []
    bus = demo_city.platform.bus

    async def handler(event: CloudEvent) -> None:
        got.append(event)

    loop = asyncio.new_event_loop()
    try:
        sub = loop.run_until_complete(bus.subscribe("city.context.entity.*", handler))
        res = client.post(f"{OPS}/upsert", json=[spot(70), spot(71), spot(70, "closed")], headers=h)
        assert res.status_code == 201, res.text
        loop.run_until_complete(asyncio.sleep(0.05))
        loop.run_until_complete(sub.unsubscribe())
    finally:
        loop.close()
    mine = [e for e in got if e.subject in (spot(70)["id"], spot(71)["id"])]
    # One event per entity, even when an id repeats in the batch.
    assert sorted(e.subject for e in mine) == [spot(70)["id"], spot(71)["id"]]
    assert {e.type for e in mine} == {"city.context.entity.created"}
    store = demo_city.platform.broker.store
    # Each event carries the document the batch stored (the last state of a repeated id).
    assert [e.data["entity"] for e in mine] == [store.get(TENANT, e.subject) for e in mine]
    status = "https://uri.etsi.org/ngsi-ld/status"  # the core context defines the term
    history = demo_city.platform.broker.store.history(TENANT, spot(70)["id"], attrs=[status])
    assert [i["value"] for i in history[status]] == ["free", "closed"]


def test_query_by_post(client: TestClient, h: dict[str, str]) -> None:
    bodies = [spot(80 + i, "occupied" if i % 2 else "free") for i in range(6)]
    bodies.append(sdm("Vehicle", "urn:ngsi-ld:Vehicle:nanchang:batch:1", TENGWANG))
    assert client.post(f"{OPS}/upsert", json=bodies, headers=h).status_code == 201
    jh = _link(h)
    query = {
        "type": "Query",
        "entities": [{"type": "ParkingSpot", "idPattern": "batch:0008[0-5]$"}],
        "q": 'status=="free"',
        "geoQ": {
            "georel": "near;maxDistance==250",
            "geometry": "Point",
            "coordinates": spot(80)["location"]["value"]["coordinates"],
        },
    }
    res = client.post(f"{OPS}/query?count=true&options=keyValues", json=query, headers=jh)
    assert res.status_code == 200, res.text
    # Spots 80, 82, 84 are free; 82 lies about 200 m from 80, 84 about 400 m.
    assert [e["id"] for e in res.json()] == [bodies[0]["id"], bodies[2]["id"]]
    assert res.headers["NGSILD-Results-Count"] == "2"
    assert res.json()[0]["status"] == "free"
    union = {
        "type": "Query",
        "entities": [
            {"type": "Vehicle"},
            {"type": "ParkingSpot", "id": bodies[5]["id"]},
        ],
        "attrs": ["location"],
        "@context": [PARKING, TRANSPORT],
    }
    res = client.post(f"{OPS}/query?limit=1", json=union, headers=h)
    assert res.status_code == 200, res.text
    assert [e["id"] for e in res.json()] == [bodies[5]["id"]]
    res = client.post(f"{OPS}/query?offset=1&count=true", json=union, headers=h)
    assert [e["id"] for e in res.json()] == [bodies[6]["id"]]
    assert res.headers["NGSILD-Results-Count"] == "2"
    assert set(res.json()[0]) == {"id", "type", "location"}
    for bad in ({"type": "Nope"}, [query], {"type": "Query", "entities": [{"id": "urn:x:1"}]}):
        res = client.post(f"{OPS}/query", json=bad, headers=jh)
        assert res.status_code == 400, (bad, res.text)


def test_ten_thousand_entities_in_one_upsert(client: TestClient, h: dict[str, str]) -> None:
    jh = _link(h)
    bodies = []
    for n in range(10_000):
        body = spot(n)
        body["id"] = f"urn:ngsi-ld:ParkingSpot:nanchang:bulk:{n:05d}"
        del body["@context"]
        bodies.append(body)
    raw = json.dumps(bodies).encode()
    started = time.perf_counter()
    res = client.post(f"{OPS}/upsert", content=raw, headers=jh)
    created = time.perf_counter() - started
    assert res.status_code == 201, res.text[:500]
    assert len(res.json()) == 10_000
    for body in bodies:
        body["status"]["value"] = "occupied"
    started = time.perf_counter()
    res = client.post(f"{OPS}/upsert", content=json.dumps(bodies).encode(), headers=jh)
    replaced = time.perf_counter() - started
    assert res.status_code == 204, res.text[:500]
    # The figure the batch benchmark quotes (pytest -s shows it).
    print(
        f"\n10,000-entity upsert over HTTP on SQLite: create {10_000 / created:,.0f} entities/s, "
        f"replace {10_000 / replaced:,.0f} entities/s"
    )
    res = client.get(
        "/ngsi-ld/v1/entities?type=ParkingSpot&idPattern=bulk&q=status==%22occupied%22"
        "&count=true&limit=1",
        headers=jh,
    )
    assert res.headers["NGSILD-Results-Count"] == "10000"
