"""Writes to the NGSI-LD temporal representation over HTTP (clauses 6.18.3.1, 6.20–6.22)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import DemoCity, bearer

BASE = "/ngsi-ld/v1/temporal/entities"
CAR = "urn:ngsi-ld:Vehicle:temporal-writes:gan-a-12345"
T0 = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
GPS = "urn:ngsi-ld:Dataset:gps"


def at(minutes: int) -> str:
    """Return T0 plus ``minutes`` as NGSI-LD writes it."""
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def speed(value: float, minute: int, **extra: Any) -> dict[str, Any]:
    """Return one speed instance observed ``minute`` minutes after T0."""
    return {"type": "Property", "value": value, "observedAt": at(minute), **extra}


@pytest.fixture(scope="module")
def h(client: TestClient, demo_city: DemoCity) -> dict[str, str]:
    """Return an operator's JSON headers on a tenant of this module's own."""
    res = client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "password",
            "username": "operator",
            "password": demo_city.password("operator"),
        },
    )
    assert res.status_code == 200, res.text
    token = bearer(res.json()["access_token"])
    return {**token, "NGSILD-Tenant": "temporalwrites", "Content-Type": "application/json"}


def history(client: TestClient, h: dict[str, str], attr: str = "speed") -> list[dict[str, Any]]:
    """Return the temporal instances of one attribute of the car (oldest first)."""
    res = client.get(f"{BASE}/{CAR}?attrs={attr}", headers=h)
    assert res.status_code == 200, res.text
    got: list[dict[str, Any]] = res.json().get(attr, [])
    return got


def live_speeds(client: TestClient, h: dict[str, str], car: str) -> dict[Any, Any]:
    """Return the car's live speed instances: (value, observedAt) by datasetId."""
    res = client.get(f"/ngsi-ld/v1/entities/{car}", headers=h)
    assert res.status_code == 200, res.text
    speeds = res.json()["speed"]
    speeds = speeds if isinstance(speeds, list) else [speeds]
    return {s.get("datasetId"): (s["value"], s["observedAt"]) for s in speeds}


@pytest.fixture(scope="module")
def car(client: TestClient, h: dict[str, str]) -> str:
    """Create the car from its temporal representation: readings listed out of order."""
    body = {
        "id": CAR,
        "type": "Vehicle",
        "speed": [speed(42.0, 10), speed(30.5, 0), speed(55.0, 5), speed(61.0, 7, datasetId=GPS)],
        "name": {"type": "Property", "value": "赣A12345"},
    }
    res = client.post(BASE, json=body, headers=h)
    assert res.status_code == 201, res.text
    assert res.headers["Location"] == f"{BASE}/{CAR}"
    return CAR


def test_a_new_entity_takes_its_latest_instances_as_its_state(
    client: TestClient, h: dict[str, str], car: str
) -> None:
    assert live_speeds(client, h, car) == {None: (42.0, at(10)), GPS: (61.0, at(7))}
    instances = history(client, h)
    assert [(i["value"], i.get("datasetId")) for i in instances] == [
        (30.5, None),
        (55.0, None),
        (61.0, GPS),
        (42.0, None),
    ]
    ids = [i["instanceId"] for i in instances]
    assert len(set(ids)) == 4


def test_more_instances_join_the_history_but_leave_the_state(
    client: TestClient, h: dict[str, str], car: str
) -> None:
    before = len(history(client, h))
    body = {"id": car, "type": "Vehicle", "speed": [speed(70.0, 20), speed(12.0, 1)]}
    res = client.post(BASE, json=body, headers=h)
    assert res.status_code == 204, res.text
    res = client.post(f"{BASE}/{car}/attrs", json={"speed": speed(33.0, 2)}, headers=h)
    assert res.status_code == 204, res.text
    instances = history(client, h)
    assert len(instances) == before + 3
    assert [i["value"] for i in instances if i.get("datasetId") is None][:3] == [30.5, 12.0, 33.0]
    assert live_speeds(client, h, car) == {None: (42.0, at(10)), GPS: (61.0, at(7))}


def test_an_instance_is_modified_and_deleted_by_its_id(
    client: TestClient, h: dict[str, str], car: str
) -> None:
    first = history(client, h)[0]
    url = f"{BASE}/{car}/attrs/speed/{first['instanceId']}"
    res = client.patch(url, json=speed(31.0, 0), headers=h)
    assert res.status_code == 204, res.text
    mended = [i for i in history(client, h) if i["instanceId"] == first["instanceId"]]
    assert [(i["value"], i["observedAt"]) for i in mended] == [(31.0, at(0))]
    count = len(history(client, h))
    assert client.delete(url, headers=h).status_code == 204
    assert len(history(client, h)) == count - 1
    assert first["instanceId"] not in {i["instanceId"] for i in history(client, h)}
    again = client.delete(url, headers=h)
    assert again.status_code == 404
    assert again.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound"


@pytest.mark.parametrize("instance_id", ["urn:ngsi-ld:attribute-instance:999999999", "not-ours"])
def test_an_unknown_instance_is_not_found(
    client: TestClient, h: dict[str, str], car: str, instance_id: str
) -> None:
    url = f"{BASE}/{car}/attrs/speed/{instance_id}"
    assert client.patch(url, json=speed(1.0, 0), headers=h).status_code == 404
    assert client.delete(url, headers=h).status_code == 404


def test_a_bad_instance_is_refused_and_nothing_is_written(
    client: TestClient, h: dict[str, str], car: str
) -> None:
    before = history(client, h)
    body = {"speed": [speed(80.0, 30), {"type": "Property"}]}  # the second has no value
    res = client.post(f"{BASE}/{car}/attrs", json=body, headers=h)
    assert res.status_code == 400, res.text
    assert res.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"
    assert history(client, h) == before
    assert client.post(f"{BASE}/{car}/attrs", json={}, headers=h).status_code == 400
    empty = client.post(BASE, json={"id": car, "type": "Vehicle", "speed": []}, headers=h)
    assert empty.status_code == 400
    assert history(client, h) == before


def test_instances_of_an_entity_not_held_are_not_found(
    client: TestClient, h: dict[str, str]
) -> None:
    url = f"{BASE}/urn:ngsi-ld:Vehicle:nobody/attrs"
    assert client.post(url, json={"speed": speed(1.0, 0)}, headers=h).status_code == 404


def test_an_attributes_history_is_deleted_by_dataset_or_whole(
    client: TestClient, h: dict[str, str], car: str
) -> None:
    url = f"{BASE}/{car}/attrs/speed"
    res = client.delete(f"{url}?datasetId={GPS}", headers=h)
    assert res.status_code == 204, res.text
    assert all(i.get("datasetId") is None for i in history(client, h))
    assert client.delete(f"{url}?datasetId={GPS}", headers=h).status_code == 404
    assert client.delete(f"{url}?deleteAll=true", headers=h).status_code == 204
    assert history(client, h) == []
    assert client.delete(url, headers=h).status_code == 404
    assert [i["value"] for i in history(client, h, "name")] == ["赣A12345"]
