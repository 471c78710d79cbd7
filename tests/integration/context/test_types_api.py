"""NGSI-LD discovery over HTTP: /types and /attributes on Smart Data Models in Nanchang."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from tests.integration.context.test_batch_api import LINK_REL, PARKING, TRANSPORT, sdm
from tests.support import bearer

TENANT = "typestest"
SPOT = "https://smartdatamodels.org/dataModel.Parking/ParkingSpot"
REF_SITE = "https://smartdatamodels.org/dataModel.Parking/refParkingSite"
VEHICLE = "https://smartdatamodels.org/dataModel.Transportation/Vehicle"
# Qingshanhu and Honggutan, Nanchang.
PLACES = [(115.9420, 28.6890), (115.8590, 28.6950), (115.8610, 28.6930), (115.8650, 28.6870)]


@pytest.fixture(scope="module")
def h(client: TestClient, tokens: dict[str, str]) -> dict[str, str]:
    headers = {**bearer(tokens["operator"]), "NGSILD-Tenant": TENANT}
    bodies: list[dict[str, Any]] = [
        sdm("ParkingSpot", f"urn:ngsi-ld:ParkingSpot:nanchang:types:{i}", PLACES[i])
        for i in range(3)
    ]
    bodies.append(sdm("OffStreetParking", "urn:ngsi-ld:OffStreetParking:nanchang:types", PLACES[3]))
    bodies.append(sdm("Vehicle", "urn:ngsi-ld:Vehicle:nanchang:types", PLACES[0]))
    res = client.post(
        "/ngsi-ld/v1/entityOperations/create",
        json=bodies,
        headers={**headers, "Content-Type": "application/ld+json"},
    )
    assert res.status_code == 201, res.text
    return headers


def _link(h: dict[str, str], url: str = PARKING) -> dict[str, str]:
    return {**h, "Link": f"<{url}>; {LINK_REL}"}


def test_type_list_is_compacted_with_the_request_context(client: TestClient, h: dict) -> None:
    res = client.get("/ngsi-ld/v1/types", headers=_link(h))
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["type"] == "EntityTypeList"
    assert body["id"].startswith("urn:ngsi-ld:EntityTypeList:")
    # Vehicle is no term of the Parking context, so it stays a full IRI.
    assert body["typeList"] == sorted(["OffStreetParking", "ParkingSpot", VEHICLE])
    core = client.get("/ngsi-ld/v1/types", headers=h).json()
    assert SPOT in core["typeList"]
    ld = client.get("/ngsi-ld/v1/types", headers={**_link(h), "Accept": "application/ld+json"})
    assert ld.headers["content-type"].startswith("application/ld+json")
    assert ld.json()["@context"] == PARKING


def test_type_details_name_their_attributes(client: TestClient, h: dict) -> None:
    res = client.get("/ngsi-ld/v1/types?details=true", headers=_link(h))
    assert res.status_code == 200, res.text
    by_id = {t["id"]: t for t in res.json()}
    spot = by_id[SPOT]
    assert spot["type"] == "EntityType"
    assert spot["typeName"] == "ParkingSpot"
    assert {"location", "name", "refParkingSite", "status", "category"} == set(
        spot["attributeNames"]
    )
    assert (
        "totalSpotNumber"
        in by_id["https://smartdatamodels.org/dataModel.Parking/OffStreetParking"]["attributeNames"]
    )


def test_one_type_counts_entities_and_attribute_kinds(client: TestClient, h: dict) -> None:
    for name in ("ParkingSpot", quote(SPOT, safe="")):
        res = client.get(f"/ngsi-ld/v1/types/{name}", headers=_link(h))
        assert res.status_code == 200, res.text
        info = res.json()
        assert info["id"] == SPOT
        assert info["type"] == "EntityTypeInfo"
        assert info["typeName"] == "ParkingSpot"
        assert info["entityCount"] == 3
        kinds = {a["attributeName"]: a["attributeTypes"] for a in info["attributeDetails"]}
        assert kinds["location"] == ["GeoProperty"]
        assert kinds["refParkingSite"] == ["Relationship"]
        assert kinds["status"] == ["Property"]
        assert all(a["type"] == "Attribute" for a in info["attributeDetails"])
    res = client.get("/ngsi-ld/v1/types/ParkingSpot", headers=h)  # core context: another IRI
    assert res.status_code == 404
    assert res.json()["type"].endswith("/ResourceNotFound")


def test_attributes_list_details_and_one(client: TestClient, h: dict) -> None:
    res = client.get("/ngsi-ld/v1/attributes", headers=_link(h))
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["type"] == "AttributeList"
    assert body["id"].startswith("urn:ngsi-ld:AttributeList:")
    assert {"location", "refParkingSite", "totalSpotNumber"} <= set(body["attributeList"])
    details = client.get("/ngsi-ld/v1/attributes?details=true", headers=_link(h)).json()
    location = next(a for a in details if a["attributeName"] == "location")
    assert location["id"] == "https://uri.etsi.org/ngsi-ld/location"
    assert set(location["typeNames"]) == {"ParkingSpot", "OffStreetParking", VEHICLE}
    for name in ("refParkingSite", quote(REF_SITE, safe="")):
        res = client.get(f"/ngsi-ld/v1/attributes/{name}", headers=_link(h))
        assert res.status_code == 200, res.text
        assert res.json() == {
            "id": REF_SITE,
            "type": "Attribute",
            "attributeName": "refParkingSite",
            "attributeCount": 3,
            "attributeTypes": ["Relationship"],
            "typeNames": ["ParkingSpot"],
        }
    vehicle = client.get("/ngsi-ld/v1/attributes/vehicleType", headers=_link(h, TRANSPORT))
    assert vehicle.json()["typeNames"] == ["Vehicle"]
    assert client.get("/ngsi-ld/v1/attributes/nothing", headers=_link(h)).status_code == 404


def test_bad_parameters_and_tenants(client: TestClient, h: dict) -> None:
    res = client.get("/ngsi-ld/v1/types?details=yes", headers=h)
    assert res.status_code == 400
    assert res.json()["type"].endswith("/BadRequestData")
    res = client.get("/ngsi-ld/v1/attributes", headers={**h, "Accept": "application/geo+json"})
    assert res.status_code == 406
    other = {**h, "NGSILD-Tenant": "types-empty"}
    for path in ("/ngsi-ld/v1/types", "/ngsi-ld/v1/attributes?details=true"):
        res = client.get(path, headers=other)  # a tenant nothing was ever created in
        assert res.status_code == 404
        assert res.json()["type"].endswith("/NonexistentTenant")
    # A subscription creates the tenant; it then exists, with no types yet.
    sub = {"type": "Subscription", "entities": [{"type": "Thing"}],
           "notification": {"endpoint": {"uri": "http://127.0.0.1:9/hook"}}}  # fmt: skip
    assert client.post("/ngsi-ld/v1/subscriptions", json=sub, headers=other).status_code == 201
    assert client.get("/ngsi-ld/v1/types", headers=other).json()["typeList"] == []
    assert client.get("/ngsi-ld/v1/attributes?details=true", headers=other).json() == []
