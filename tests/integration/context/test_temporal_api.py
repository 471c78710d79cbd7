"""The NGSI-LD temporal API over HTTP, and history retention on a manual clock."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from opencitybrain.adapters.migrate import upgrade
from opencitybrain.context.store import HistoryRecord, SqlEntityStore
from opencitybrain.context.temporal import prune, retention_task
from opencitybrain.kernel.clock import ManualClock
from tests.support import DemoCity, bearer

FIXTURES = Path(__file__).parents[2] / "fixtures" / "ngsi-ld"
FLOW = "urn:ngsi-ld:TrafficFlowObserved:nanchang:bayi-avenue:lane1"
T0 = datetime(2026, 5, 4, 0, 0, tzinfo=UTC)  # 08:00 in Nanchang
INTENSITIES = [197, 240, 310, 420, 380]  # one every five minutes from T0
BASE = "/ngsi-ld/v1/temporal/entities"
LANE2 = {"type": "Property", "datasetId": "urn:ngsi-ld:Dataset:camera-2"}


def at(minutes: int) -> str:
    """Return T0 plus ``minutes`` as NGSI-LD writes it."""
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def login(client: TestClient, demo_city: DemoCity, username: str) -> dict[str, str]:
    """Return a fresh bearer header for a demo user."""
    # Not the session's tokens: they expire after an hour of the demo's ×60 clock, one
    # real minute, which a test run on a loaded machine can outlast.
    res = client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "password",
            "username": username,
            "password": demo_city.password(username),
        },
    )
    assert res.status_code == 200, res.text
    return bearer(res.json()["access_token"])


@pytest.fixture(scope="module")
def h(client: TestClient, demo_city: DemoCity) -> dict[str, str]:
    """Return an operator's headers on a tenant of this module's own."""
    body = json.loads((FIXTURES / "TrafficFlowObserved.normalized.jsonld").read_text("utf-8"))
    link = body["@context"][0]
    return {
        **login(client, demo_city, "operator"),
        "NGSILD-Tenant": "temporaltest",
        "Link": f'<{link}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"',
    }


@pytest.fixture(scope="module")
def flow(client: TestClient, h: dict[str, str]) -> str:
    """Create a lane's traffic flow on Bayi Avenue and PATCH its intensity four times."""
    body = json.loads((FIXTURES / "TrafficFlowObserved.normalized.jsonld").read_text("utf-8"))
    body = copy.deepcopy(body)
    body["id"] = FLOW
    body["address"]["value"] = {"addressLocality": "南昌", "streetAddress": "八一大道"}
    body["location"]["value"]["coordinates"] = [[115.9070, 28.6760], [115.9075, 28.6800]]
    body["intensity"] = {"type": "Property", "value": INTENSITIES[0], "observedAt": at(0)}
    write = {**h, "Content-Type": "application/ld+json"}
    write.pop("Link")
    res = client.post("/ngsi-ld/v1/entities", json=body, headers=write)
    assert res.status_code == 201, res.text
    patch = {**h, "Content-Type": "application/json"}
    for n, value in enumerate(INTENSITIES[1:], start=1):
        res = client.patch(
            f"/ngsi-ld/v1/entities/{FLOW}/attrs/intensity",
            json={"type": "Property", "value": value, "observedAt": at(5 * n)},
            headers=patch,
        )
        assert res.status_code == 204, res.text
    # A second source measures the speed too: its instances carry a datasetId.
    res = client.post(
        f"/ngsi-ld/v1/entities/{FLOW}/attrs",
        json={"averageVehicleSpeed": {**LANE2, "value": 48.5, "observedAt": at(3)}},
        headers=patch,
    )
    assert res.status_code == 204, res.text
    return FLOW


def get(client: TestClient, h: dict[str, str], query: str = "", path: str = FLOW) -> Any:
    """GET the temporal representation and return the decoded body (status 200)."""
    res = client.get(f"{BASE}/{path}?{query}", headers=h)
    assert res.status_code == 200, res.text
    return res.json()


def test_normalized_temporal_representation(
    client: TestClient, h: dict[str, str], flow: str
) -> None:
    body = get(client, h, "attrs=intensity")
    assert body["id"] == flow
    assert body["type"] == "TrafficFlowObserved"
    assert set(body) == {"id", "type", "intensity"}
    intensity = body["intensity"]
    assert [i["value"] for i in intensity] == INTENSITIES
    assert [i["observedAt"] for i in intensity] == [at(5 * n) for n in range(5)]
    assert all(i["type"] == "Property" for i in intensity)
    everything = get(client, h)
    # Never observed, the default speed sorts at its recording time, after camera 2's.
    assert [i.get("datasetId") for i in everything["averageVehicleSpeed"]] == [
        LANE2["datasetId"],
        None,
    ]
    assert everything["location"][0]["type"] == "GeoProperty"
    concise = get(client, h, "format=concise&pick=id,location,intensity")
    assert set(concise) == {"id", "location", "intensity"}
    assert concise["location"][0]["value"]["type"] == "LineString"  # GeoJSON keeps its type
    assert "type" not in concise["location"][0]
    first = concise["intensity"][0]
    assert first.pop("instanceId").startswith("urn:ngsi-ld:attribute-instance:")
    assert first == {"value": INTENSITIES[0], "observedAt": at(0)}
    omitted = get(client, h, "omit=type,location&options=sysAttrs")
    assert "type" not in omitted
    assert "location" not in omitted
    assert "createdAt" in omitted["intensity"][0]
    assert "modifiedAt" in omitted


def test_temporal_values_and_last_n(client: TestClient, h: dict[str, str], flow: str) -> None:
    body = get(client, h, "attrs=intensity&options=temporalValues")
    assert body["intensity"] == {
        "type": "Property",
        "values": [[v, at(5 * n)] for n, v in enumerate(INTENSITIES)],
    }
    newest = get(client, h, "attrs=intensity&lastN=2")["intensity"]
    assert [i["value"] for i in newest] == INTENSITIES[-2:]  # the newest two, oldest first
    one = get(client, h, "attrs=intensity&format=temporalValues&lastN=1")
    assert one["intensity"]["values"] == [[INTENSITIES[-1], at(20)]]
    speeds = get(client, h, "attrs=averageVehicleSpeed,location&options=temporalValues")
    default, lane2 = speeds["averageVehicleSpeed"]  # one series per datasetId, default first
    assert default["type"] == "Property"
    assert "datasetId" not in default
    assert lane2 == {**LANE2, "values": [[48.5, at(3)]]}
    assert speeds["location"]["type"] == "GeoProperty"
    assert speeds["location"]["values"][0][0]["type"] == "LineString"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (f"timerel=before&timeAt={at(10)}", INTENSITIES[:2]),
        (f"timerel=after&timeAt={at(10)}", INTENSITIES[3:]),
        (f"timerel=between&timeAt={at(5)}&endTimeAt={at(15)}", INTENSITIES[1:3]),
        (f"timerel=after&timeAt={at(0)}&lastN=1", INTENSITIES[-1:]),
        (f"timerel=before&timeAt={at(-1)}", []),
    ],
)
def test_time_relations(
    client: TestClient, h: dict[str, str], flow: str, query: str, expected: list[int]
) -> None:
    body = get(client, h, f"attrs=intensity&{query}")
    assert [i["value"] for i in body.get("intensity", [])] == expected


def test_timeproperty_modified_at(client: TestClient, h: dict[str, str], flow: str) -> None:
    instances = get(client, h, "attrs=intensity&timeproperty=modifiedAt")["intensity"]
    stamps = [i["modifiedAt"] for i in instances]
    assert [i["value"] for i in instances] == INTENSITIES  # written in observation order
    assert stamps == sorted(stamps)
    later = get(
        client, h, f"attrs=intensity&timeproperty=modifiedAt&timerel=after&timeAt={stamps[2]}"
    )
    assert [i["value"] for i in later["intensity"]] == INTENSITIES[3:]
    pairs = get(client, h, "attrs=intensity&timeproperty=createdAt&options=temporalValues")
    assert [p[1] for p in pairs["intensity"]["values"]] == stamps


def test_query_temporal_entities(client: TestClient, h: dict[str, str], flow: str) -> None:
    res = client.get(
        f"{BASE}?type=TrafficFlowObserved&attrs=intensity&lastN=3&count=true"
        "&georel=near;maxDistance==500&geometry=Point&coordinates=[115.9070,28.6760]",
        headers=h,
    )
    assert res.status_code == 200, res.text
    assert res.headers["NGSILD-Results-Count"] == "1"
    assert res.headers["NGSILD-Tenant"] == "temporaltest"
    assert res.headers["Link"] == h["Link"]  # plain JSON names its @context
    assert res.headers["content-type"] == "application/json"
    [entity] = res.json()
    assert entity["id"] == flow
    assert [i["value"] for i in entity["intensity"]] == INTENSITIES[-3:]
    far = client.get(f"{BASE}?type=TrafficFlowObserved&q=intensity>1000&count=true", headers=h)
    assert far.json() == []
    assert far.headers["NGSILD-Results-Count"] == "0"
    picked = client.get(f"{BASE}?type=TrafficFlowObserved&pick=id,intensity", headers=h)
    assert set(picked.json()[0]) == {"id", "intensity"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("timerel=during&timeAt=2026-05-04T00:00:00Z", "timerel"),
        ("timerel=before", "timeAt"),
        ("timerel=before&timeAt=yesterday", "timeAt"),
        ("timerel=between&timeAt=2026-05-04T00:00:00Z", "endTimeAt"),
        ("timerel=between&timeAt=2026-05-04T01:00:00Z&endTimeAt=2026-05-04T00:00:00Z", "endTimeAt"),
        ("timeproperty=deletedAt", "timeproperty"),
        ("lastN=0", "lastN"),
        ("lastN=many", "lastN"),
    ],
)
def test_bad_temporal_queries_are_400(
    client: TestClient, h: dict[str, str], flow: str, query: str, field: str
) -> None:
    res = client.get(f"{BASE}/{flow}?{query}", headers=h)
    assert res.status_code == 400, res.text
    assert res.json()["type"].endswith("/BadRequestData")
    assert res.json()["errors"][0]["field"] == field


def test_unknown_entity_is_404_and_geojson_is_not_acceptable(
    client: TestClient, h: dict[str, str], flow: str
) -> None:
    res = client.get(f"{BASE}/urn:ngsi-ld:TrafficFlowObserved:nowhere", headers=h)
    assert res.status_code == 404
    assert res.json()["type"].endswith("/ResourceNotFound")
    res = client.get(f"{BASE}/{flow}", headers={**h, "Accept": "application/geo+json"})
    assert res.status_code == 406
    res = client.get(f"{BASE}/{flow}?options=aggregatedValues", headers=h)
    assert res.status_code == 422
    res = client.get(f"{BASE}/{flow}", headers={**h, "Accept": "application/ld+json"})
    assert res.headers["content-type"].startswith("application/ld+json")
    assert "@context" in res.json()


def test_citizens_cannot_read_history(client: TestClient, demo_city: DemoCity, flow: str) -> None:
    res = client.get(f"{BASE}/{flow}", headers=login(client, demo_city, "citizen"))
    assert res.status_code == 403


def test_delete_temporal_entity(client: TestClient, h: dict[str, str], flow: str) -> None:
    # Runs last in this module: it empties the history the other tests read.
    res = client.delete(f"{BASE}/{flow}", headers=h)
    assert res.status_code == 204
    body = get(client, h)
    assert set(body) == {"id", "type"}
    assert client.delete(f"{BASE}/{flow}", headers=h).status_code == 204  # entity still there
    res = client.delete(f"{BASE}/urn:ngsi-ld:TrafficFlowObserved:nowhere", headers=h)
    assert res.status_code == 404


# --- retention ----------------------------------------------------------------------------

INTENSITY = "https://smartdatamodels.org/dataModel.Transportation/intensity"


@pytest.fixture
def store(sql_engine: sa.Engine) -> SqlEntityStore:
    """Return a store whose flow history was recorded 40, 20 and 1 days before T0."""
    upgrade(sql_engine)
    s = SqlEntityStore(sql_engine)
    rows = [
        HistoryRecord.of(FLOW, INTENSITY, {"type": "Property", "value": d}, T0 - timedelta(days=d))
        for d in (40, 20, 1)
    ]
    s.append_history("", rows)
    s.append_history("other", [rows[0]])
    return s


def kept(store: SqlEntityStore, tenant: str = "") -> list[int]:
    """Return the values still in the flow's history."""
    return [i["value"] for i in store.history(tenant, FLOW).get(INTENSITY, [])]


def test_prune_keeps_the_last_days(store: SqlEntityStore) -> None:
    clock = ManualClock(T0)
    assert prune(store, clock, 30) == 2  # the 40-day-old instance, in both tenants
    assert kept(store) == [20, 1]
    assert kept(store, "other") == []
    clock.advance(timedelta(days=15).total_seconds())
    assert prune(store, clock, 30) == 1
    assert kept(store) == [1]


async def test_retention_task_runs_on_the_clock(store: SqlEntityStore) -> None:
    clock = ManualClock(T0)
    task = retention_task(store, clock, days=30, every_s=24 * 3600)

    async def settle(expected: list[int]) -> None:
        for _ in range(200):
            if kept(store) == expected:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"history is {kept(store)}, expected {expected}")

    await settle([20, 1])  # the first pass runs at once
    clock.advance(24 * 3600)  # a day on: nothing more is 30 days old
    await asyncio.sleep(0.05)
    assert kept(store) == [20, 1]
    clock.advance(10 * 24 * 3600)  # eleven days on: the 20-day-old instance goes
    await settle([1])
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
    with pytest.raises(ValueError, match="days"):
        retention_task(store, clock, days=0)
