"""The demo city's signalised intersections are live TrafficSignal entities."""

from __future__ import annotations

from fastapi.testclient import TestClient

from opencitybrain.sim.demo_signals import OCB_CONTEXT, seed_signals
from tests.support import DemoCity, bearer

LINK = f'<{OCB_CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'


def test_every_signal_is_an_entity(client: TestClient, tokens: dict[str, str]) -> None:
    h = {**bearer(tokens["operator"]), "Link": LINK}
    res = client.get("/ngsi-ld/v1/entities?type=TrafficSignal&count=true&limit=1", headers=h)
    assert res.status_code == 200, res.text
    assert res.headers["NGSILD-Results-Count"] == "1004"
    signal = res.json()[0]
    assert signal["type"] == "TrafficSignal"
    assert signal["location"]["value"]["type"] == "Point"
    assert set(signal["approaches"]["json"]) == {"N", "E", "S", "W"}


def test_signals_near_bayi_square_as_geojson(client: TestClient, tokens: dict[str, str]) -> None:
    h = {**bearer(tokens["operator"]), "Link": LINK, "Accept": "application/geo+json"}
    res = client.get(
        "/ngsi-ld/v1/entities?type=TrafficSignal&georel=near;maxDistance==1000"
        "&geometry=Point&coordinates=[115.907,28.676]&limit=1000&options=keyValues",
        headers=h,
    )
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].startswith("application/geo+json")
    fc = res.json()
    assert fc["type"] == "FeatureCollection"
    assert 5 < len(fc["features"]) < 200
    assert all(f["geometry"]["type"] == "Point" for f in fc["features"])


def test_reseeding_keeps_live_state(demo_city: DemoCity) -> None:
    assert seed_signals(demo_city.platform.broker, demo_city.platform.pack) == 0
