"""scopeQ over HTTP: entity queries, POST queries and the temporal API select by scope."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from tests.support import bearer

TENANT = "scopetest"
SPOTS = {
    "urn:ngsi-ld:ParkingSpot:scope:1": ["/Nanchang/Donghu/Bayi"],
    "urn:ngsi-ld:ParkingSpot:scope:2": ["/Nanchang/Xihu", "/Transport/Parking"],
    "urn:ngsi-ld:ParkingSpot:scope:3": [],
}


@pytest.fixture(scope="module")
def h(client: TestClient, tokens: dict[str, str]) -> dict[str, str]:
    """Return JSON headers on this module's tenant, with its three spots created."""
    headers = {**bearer(tokens["operator"]), "Content-Type": "application/json"}
    headers["NGSILD-Tenant"] = TENANT
    for spot_id, scopes in SPOTS.items():
        body = {
            "id": spot_id,
            "type": "ParkingSpot",
            "status": {"type": "Property", "value": "free"},
        }
        if scopes:
            body["scope"] = scopes if len(scopes) > 1 else scopes[0]
        client.delete(f"/ngsi-ld/v1/entities/{spot_id}", headers=headers)
        res = client.post("/ngsi-ld/v1/entities", json=body, headers=headers)
        assert res.status_code == 201, res.text
    return headers


def ids(res: Response) -> list[str]:
    """Return the sorted ids of a query answer."""
    assert res.status_code == 200, res.text
    return sorted(e["id"] for e in res.json())


@pytest.mark.parametrize(
    ("scope_q", "expected"),
    [
        ("/Nanchang/#", ["1", "2"]),
        ("/Nanchang/+", ["2"]),
        ("/Transport/Parking;/Nanchang/Xihu", ["2"]),
        ("/Nanchang/Donghu/Bayi,/Transport/#", ["1", "2"]),
        ("/#", ["1", "2"]),
        ("/Health/#", []),
    ],
)
def test_entity_queries_select_by_scope(
    client: TestClient, h: dict[str, str], scope_q: str, expected: list[str]
) -> None:
    want = [f"urn:ngsi-ld:ParkingSpot:scope:{n}" for n in expected]
    res = client.get(
        "/ngsi-ld/v1/entities", params={"type": "ParkingSpot", "scopeQ": scope_q}, headers=h
    )
    assert ids(res) == want
    body = {"type": "Query", "entities": [{"type": "ParkingSpot"}], "scopeQ": scope_q}
    posted = client.post("/ngsi-ld/v1/entityOperations/query", json=body, headers=h)
    assert ids(posted) == want
    temporal = client.get(
        "/ngsi-ld/v1/temporal/entities",
        params={"type": "ParkingSpot", "scopeQ": scope_q},
        headers=h,
    )
    assert ids(temporal) == want


def test_a_malformed_scopeq_is_a_bad_request(client: TestClient, h: dict[str, str]) -> None:
    res = client.get(
        "/ngsi-ld/v1/entities", params={"type": "ParkingSpot", "scopeQ": "/a/#/b"}, headers=h
    )
    assert res.status_code == 400
    assert res.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"
    body = {"type": "Query", "entities": [{"type": "ParkingSpot"}], "scopeQ": "Nanchang"}
    assert (
        client.post("/ngsi-ld/v1/entityOperations/query", json=body, headers=h).status_code == 400
    )
