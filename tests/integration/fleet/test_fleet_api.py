"""The fleet routes on the demo platform: ingest, quarantine, alerts, entities, tracks, rules."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import msgspec
from fastapi.testclient import TestClient

from opencitybrain.apps.fleet.publish import vehicle_id
from opencitybrain.apps.fleet.service import FleetService
from tests.support import DemoCity, bearer

TAXI = "SIM0025"  # the demo fleet has six of each class: muck, hazmat, school bus, bus, taxi


def app_key(demo_city: DemoCity) -> dict[str, str]:
    return {"X-API-Key": demo_city.credentials["demo-app"].secret}


def fleet(demo_city: DemoCity) -> FleetService:
    return demo_city.platform.services.get(FleetService)


def message(demo_city: DemoCity, device: str, dt: float, **over: Any) -> dict[str, Any]:
    svc = fleet(demo_city)
    v = svc.engine.fleet.get(device)
    now = demo_city.platform.clock.now().timestamp()
    return {
        "device_id": device,
        "plate": v.plate,
        "time": round((now + dt) * 1000),
        "lon": 115.8801,
        "lat": 28.6702,
        "speed": 30.0,
        **over,
    }


def test_ingest_counts_quarantine_and_duplicates(client: TestClient, demo_city: DemoCity) -> None:
    good = message(demo_city, TAXI, -120)
    body = [
        good,
        {**good, "plate": "赣AI0000"},
        good,
        {**good, "device_id": "nobody"},
        {"device_id": TAXI},
    ]
    res = client.post("/api/v1/fleet/positions", content=msgspec.json.encode(body),
                      headers=app_key(demo_city))  # fmt: skip
    assert res.status_code == 200, res.text
    out = res.json()
    assert (out["received"], out["accepted"], out["duplicates"]) == (5, 1, 1)
    assert [(q["index"], q["code"]) for q in out["quarantined"]] == [
        (1, "fleet.bad_plate"),
        (3, "fleet.unknown_vehicle"),
        (4, "fleet.bad_message"),
    ]


def test_json_lines_and_gcj02_are_accepted(client: TestClient, demo_city: DemoCity) -> None:
    lines = b"\n".join(
        msgspec.json.encode(message(demo_city, "SIM0026", -100 + i, crs="gcj02")) for i in range(3)
    )
    headers = {**app_key(demo_city), "Content-Type": "application/x-ndjson"}
    res = client.post("/api/v1/fleet/positions", content=lines, headers=headers)
    assert res.json()["accepted"] == 3


def test_speeding_raises_an_alert_entity_and_shows_in_the_lists(
    client: TestClient, demo_city: DemoCity, tokens: dict[str, str]
) -> None:
    fast = [message(demo_city, "SIM0027", -60 + 10 * i, speed=150.0) for i in range(3)]
    res = client.post("/api/v1/fleet/positions", content=msgspec.json.encode(fast),
                      headers=app_key(demo_city))  # fmt: skip
    assert res.status_code == 200
    op = bearer(tokens["operator"])
    alerts = client.get("/api/v1/fleet/alerts", params={"rule": "speeding"}, headers=op).json()
    mine = [a for a in alerts if a["device_id"] == "SIM0027"]
    assert len(mine) == 1
    assert mine[0]["value"] == 150.0
    entity = demo_city.platform.broker.get("", mine[0]["id"])
    assert entity.types[0].endswith("Alert")
    vehicles = client.get("/api/v1/fleet/vehicles", headers=op).json()
    ids = {v["id"] for v in vehicles}
    assert vehicle_id("SIM0027") in ids
    track = client.get("/api/v1/fleet/vehicles/SIM0027/track", headers=op).json()
    assert len(track["points"]) == 3
    assert client.get("/api/v1/fleet/vehicles/nope/track", headers=op).status_code == 404


def test_rules_are_read_by_staff_and_replaced_by_the_bureau(
    client: TestClient, tokens: dict[str, str]
) -> None:
    op, admin = bearer(tokens["operator"]), bearer(tokens["admin"])
    rules = client.get("/api/v1/fleet/rules", headers=op).json()
    assert rules["zones"]["zones"][0]["id"] == "core"
    rules["speeding"]["road_tolerance_kmh"] = 8.0
    assert client.put("/api/v1/fleet/rules", json=rules, headers=op).status_code == 403
    res = client.put("/api/v1/fleet/rules", json=rules, headers=admin)
    assert res.status_code == 200, res.text
    assert res.json()["version"] == rules["version"] + 1
    assert res.json()["speeding"]["road_tolerance_kmh"] == 8.0
    bad = client.put("/api/v1/fleet/rules", json={"fatigue": {"max_driving_s": "x"}}, headers=admin)
    assert bad.status_code == 400
    assert bad.json()["code"] == "fleet.bad_rules"
    # A zone near a pole cannot be projected into the city's metres: refused, rules kept.
    polar = {**rules["zones"]["zones"][0], "id": "polar",
             "ring": [[0.0, 89.9], [120.0, 89.9], [-120.0, 89.9], [0.0, 90.0]]}  # fmt: skip
    far = {**rules, "zones": {**rules["zones"], "zones": [*rules["zones"]["zones"], polar]}}
    res = client.put("/api/v1/fleet/rules", json=far, headers=admin)
    assert res.status_code == 400, res.text
    assert res.json()["code"] == "fleet.zone_out_of_range"
    kept = client.get("/api/v1/fleet/rules", headers=op).json()
    assert [z["id"] for z in kept["zones"]["zones"]] == [z["id"] for z in rules["zones"]["zones"]]


def test_an_empty_batch_is_refused(client: TestClient, demo_city: DemoCity) -> None:
    res = client.post("/api/v1/fleet/positions", content=b"  ", headers=app_key(demo_city))
    assert res.status_code == 400
    assert res.headers["content-type"].startswith("application/problem+json")


def test_a_long_poll_of_alerts_answers_when_an_alert_opens(
    client: TestClient, demo_city: DemoCity, tokens: dict[str, str]
) -> None:
    """If-None-Match + wait: 304 when nothing changes; at once when a violation opens."""
    op = bearer(tokens["operator"])
    first = client.get("/api/v1/fleet/alerts", headers=op)
    etag = first.headers["ETag"]
    started = time.perf_counter()
    idle = client.get("/api/v1/fleet/alerts", params={"wait": 0.3},
                      headers={**op, "If-None-Match": etag})  # fmt: skip
    assert idle.status_code == 304
    assert idle.headers["ETag"] == etag
    assert time.perf_counter() - started >= 0.3  # it waited
    other = client.get("/api/v1/fleet/alerts", params={"wait": 5},
                       headers={**op, "If-None-Match": '"alerts-stale"'})  # fmt: skip
    assert other.status_code == 200  # another version: answered at once, no wait

    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(
            client.get, "/api/v1/fleet/alerts",
            params={"wait": 20, "rule": "speeding"}, headers={**op, "If-None-Match": etag},
        )  # fmt: skip
        time.sleep(0.3)
        assert not waiting.done()
        fast = [message(demo_city, "SIM0028", -60 + 10 * i, speed=150.0) for i in range(3)]
        posted = time.perf_counter()
        res = client.post("/api/v1/fleet/positions", content=msgspec.json.encode(fast),
                          headers=app_key(demo_city))  # fmt: skip
        assert res.status_code == 200
        answer = waiting.result(timeout=10)
        woke_after = time.perf_counter() - posted
    assert answer.status_code == 200
    assert answer.headers["ETag"] != etag
    assert any(a["device_id"] == "SIM0028" for a in answer.json())
    assert woke_after < 5  # the post's own time plus one round trip, not the 20 s wait
