"""Smart Data Models validation over HTTP: a bad entity gets 400 BadRequestData naming the
field; in a batch it fails alone. Validation is switched on for ParkingSpot and
OnStreetParking on the demo city's broker for this module only (as
``CITYBRAIN_CONTEXT_VALIDATE_TYPES=ParkingSpot,OnStreetParking`` would at start)."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from opencitybrain.bootstrap import build_platform
from opencitybrain.context.validation import EntityValidator
from opencitybrain.kernel.settings import Settings
from tests.support import DemoCity, bearer

FIXTURES = Path(__file__).parents[2] / "fixtures" / "ngsi-ld"
ENTITIES = "/ngsi-ld/v1/entities"
OPS = "/ngsi-ld/v1/entityOperations"
JSONLD = "application/ld+json"
BAD_REQUEST = "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"


def example(kind: str, entity_id: str) -> dict[str, Any]:
    """Return the Smart Data Models normalized example of ``kind`` under a new id."""
    body = json.loads((FIXTURES / f"{kind}.normalized.jsonld").read_text(encoding="utf-8"))
    body = copy.deepcopy(body)
    body["id"] = entity_id
    return body


def spot(n: int, status: str = "free") -> dict[str, Any]:
    body = example("ParkingSpot", f"urn:ngsi-ld:ParkingSpot:nanchang:valid:{n:03d}")
    body["status"]["value"] = status
    return body


@pytest.fixture(scope="module", autouse=True)
def validating(demo_city: DemoCity) -> Iterator[EntityValidator]:
    """Check ParkingSpot and OnStreetParking on the demo broker while this module runs."""
    broker = demo_city.platform.broker
    before = broker.validator
    broker.validator = EntityValidator(broker.resolver, ["ParkingSpot", "OnStreetParking"])
    yield broker.validator
    broker.validator = before


@pytest.fixture(scope="module")
def h(tokens: dict[str, str]) -> dict[str, str]:
    return {**bearer(tokens["operator"]), "Content-Type": JSONLD, "NGSILD-Tenant": "validtest"}


def problem_fields(res: Any) -> set[str]:
    body = res.json()
    assert body["type"] == BAD_REQUEST, body
    return {e["field"] for e in body["errors"]}


def test_a_valid_example_is_created(client: TestClient, h: dict[str, str]) -> None:
    res = client.post(ENTITIES, json=spot(1), headers=h)
    assert res.status_code == 201, res.text


def test_a_wrong_status_is_refused_with_its_field(client: TestClient, h: dict[str, str]) -> None:
    res = client.post(ENTITIES, json=spot(2, status="parked"), headers=h)
    assert res.status_code == 400
    assert problem_fields(res) == {"status"}
    assert "parked" in res.json()["detail"]
    assert client.get(f"{ENTITIES}/{spot(2)['id']}", headers=h).status_code == 404


def test_a_negative_spot_number_is_refused(client: TestClient, h: dict[str, str]) -> None:
    body = example("OnStreetParking", "urn:ngsi-ld:OnStreetParking:nanchang:valid:1")
    body["availableSpotNumber"]["value"] = -4
    res = client.post(ENTITIES, json=body, headers=h)
    assert res.status_code == 400
    assert problem_fields(res) == {"availableSpotNumber"}


def test_a_replacement_is_validated_and_the_entity_kept(
    client: TestClient, h: dict[str, str]
) -> None:
    body = spot(3)
    assert client.post(ENTITIES, json=body, headers=h).status_code == 201
    del body["refParkingSite"]
    res = client.put(f"{ENTITIES}/{body['id']}", json=body, headers=h)
    assert res.status_code == 400
    assert problem_fields(res) == {"refParkingSite"}
    link = f'<{body["@context"][1]}>; rel="http://www.w3.org/ns/json-ld#context"'
    got = client.get(f"{ENTITIES}/{body['id']}", headers={**h, "Link": link})
    kept = got.json()
    assert kept["refParkingSite"]["object"] == spot(3)["refParkingSite"]["object"]


def test_types_not_chosen_are_not_checked(client: TestClient, h: dict[str, str]) -> None:
    # The Vehicle example breaks its own schema (deviceBatteryStatus "Connected"), but
    # Vehicle is not among the checked types.
    body = example("Vehicle", "urn:ngsi-ld:Vehicle:nanchang:valid:1")
    assert client.post(ENTITIES, json=body, headers=h).status_code == 201


@pytest.mark.parametrize("operation", ["create", "upsert"])
def test_one_bad_entity_fails_alone_in_a_batch(
    client: TestClient, h: dict[str, str], operation: str
) -> None:
    base = 10 if operation == "create" else 20
    good = [spot(base + 1), spot(base + 2)]
    bad = spot(base + 3, status="vanished")
    res = client.post(f"{OPS}/{operation}", json=[good[0], bad, good[1]], headers=h)
    assert res.status_code == 207, res.text
    body = res.json()
    assert sorted(body["success"]) == sorted(e["id"] for e in good)
    [error] = body["errors"]
    assert error["entityId"] == bad["id"]
    assert error["error"]["type"] == BAD_REQUEST
    assert "status" in error["error"]["detail"]
    assert client.get(f"{ENTITIES}/{bad['id']}", headers=h).status_code == 404
    for entity in good:
        assert client.get(f"{ENTITIES}/{entity['id']}", headers=h).status_code == 200


def test_updates_are_checked_as_the_entity_they_leave(
    client: TestClient, h: dict[str, str]
) -> None:
    body = spot(30)
    assert client.post(ENTITIES, json=body, headers=h).status_code == 201
    fragment = {
        "id": body["id"],
        "type": "ParkingSpot",
        "status": {"type": "Property", "value": "occupied"},
        "@context": body["@context"],
    }
    # A fragment of a valid entity: the entity it leaves is whole and valid.
    res = client.post(f"{OPS}/upsert", params={"options": "update"}, json=[fragment], headers=h)
    assert res.status_code == 204, res.text
    # A fragment that would leave a wrong status is refused, on every update path.
    wrong = {**fragment, "status": {"type": "Property", "value": "vanished"}}
    res = client.post(f"{OPS}/upsert", params={"options": "update"}, json=[wrong], headers=h)
    assert res.status_code == 207, res.text
    assert res.json()["errors"][0]["error"]["type"] == BAD_REQUEST
    for op in ("update", "merge"):
        res = client.post(f"{OPS}/{op}", json=[wrong], headers=h)
        assert res.status_code == 207, (op, res.text)
    link = f'<{body["@context"][1]}>; rel="http://www.w3.org/ns/json-ld#context"'
    ctx_h = {**{k: v for k, v in h.items() if k != "Content-Type"}, "Link": link}
    url = f"{ENTITIES}/{body['id']}"
    res = client.patch(f"{url}/attrs/status", json={"value": "vanished"}, headers=ctx_h)
    assert res.status_code == 400
    assert problem_fields(res) == {"status"}
    res = client.patch(
        url, json={"status": {"type": "Property", "value": "vanished"}}, headers=ctx_h
    )
    assert res.status_code == 400
    assert client.get(url, headers=ctx_h).json()["status"]["value"] == "occupied"
    # Replacing with the same fragment would drop the required attributes: refused.
    res = client.post(f"{OPS}/upsert", json=[fragment], headers=h)
    assert res.status_code == 207, res.text
    [error] = res.json()["errors"]
    assert error["entityId"] == body["id"]
    assert error["error"]["type"] == BAD_REQUEST


def test_settings_switch_validation_on_at_start(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, clock="simulated", context_validate_types=["ParkingSpot"]
    )
    platform = asyncio.run(build_platform(settings))
    try:
        assert platform.broker.validator is not None
        assert platform.broker.validator.types == [
            "https://smartdatamodels.org/dataModel.Parking/ParkingSpot"
        ]
    finally:
        platform.engine.dispose()
    with pytest.raises(ValueError, match="WeatherObserved"):
        asyncio.run(
            build_platform(
                settings.model_copy(update={"context_validate_types": ["WeatherObserved"]})
            )
        )
