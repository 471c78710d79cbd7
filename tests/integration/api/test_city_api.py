"""The demo city over HTTP: summary, map layers, lookup, routing, and bad input."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support import bearer

BAYI_SQUARE = (115.9070, 28.6760)  # 八一广场, 东湖区 (WGS-84)


@pytest.fixture(scope="module")
def auth(tokens: dict[str, str]) -> dict[str, str]:
    return bearer(tokens["citizen"])


def test_summary_counts_the_real_network(client: TestClient, auth: dict[str, str]) -> None:
    res = client.get("/api/v1/city", headers=auth)
    assert res.status_code == 200
    city = res.json()
    assert city["code"] == "360100"
    assert city["name_zh"] == "南昌"
    stats = city["stats"]
    assert stats["intersections"] == 2067
    assert stats["signalized"] == 1004
    assert stats["road_edges"] == 6082
    assert stats["counties"] == 9
    assert stats["streets"] > 50
    assert stats["communities"] > stats["streets"]
    assert stats["grids"] > 10_000
    assert 1000 < stats["road_km"] < 2000
    assert 6500 < stats["area_km2"] < 8000  # Nanchang: ~7,195 km²
    assert sum(c["intersections"] for c in city["counties"]) <= 2067
    assert {c["class"] for c in city["road_classes"]} == {
        "expressway",
        "arterial",
        "collector",
        "local",
    }
    w, s, e, n = city["bbox"]
    assert w < city["center"][0] < e
    assert s < city["center"][1] < n


@pytest.mark.parametrize("level", ["county", "street", "community"])
def test_regions_are_geojson(client: TestClient, auth: dict[str, str], level: str) -> None:
    res = client.get(f"/api/v1/city/regions?level={level}", headers=auth)
    assert res.status_code == 200
    assert res.headers["content-type"] == "application/geo+json"
    fc = res.json()
    assert fc["type"] == "FeatureCollection"
    codes = [f["properties"]["code"] for f in fc["features"]]
    width = {"county": 6, "street": 9, "community": 12}[level]
    assert all(len(c) == width and c.startswith("3601") for c in codes)
    assert len(set(codes)) == len(codes)


def test_roads_thin_out_when_zoomed_out(client: TestClient, auth: dict[str, str]) -> None:
    far = client.get("/api/v1/city/roads?zoom=9", headers=auth).json()["features"]
    near = client.get("/api/v1/city/roads?zoom=15", headers=auth).json()["features"]
    assert 0 < len(far) < len(near)
    assert len(near) == 3041  # one line per two-way segment
    assert {f["properties"]["class"] for f in far} <= {"expressway", "arterial"}
    assert all(f["geometry"]["type"] == "LineString" for f in near)


def test_intersections_carry_signal_flags(client: TestClient, auth: dict[str, str]) -> None:
    feats = client.get("/api/v1/city/intersections", headers=auth).json()["features"]
    assert len(feats) == 2067
    assert sum(f["properties"]["signalized"] for f in feats) == 1004


def test_locate_gives_nested_codes(client: TestClient, auth: dict[str, str]) -> None:
    lon, lat = BAYI_SQUARE
    res = client.get(f"/api/v1/city/locate?lon={lon}&lat={lat}", headers=auth)
    assert res.status_code == 200, res.text
    body = res.json()
    county = body["county"]["code"]
    assert county == "360102", body  # 八一广场 is in 东湖区
    assert body["street"]["code"].startswith(county)
    assert body["community"]["code"].startswith(body["street"]["code"])
    assert body["grid"]["code"].startswith(body["community"]["code"])
    assert len(body["grid"]["code"]) == 15


def test_locate_outside_the_city_is_404(client: TestClient, auth: dict[str, str]) -> None:
    res = client.get("/api/v1/city/locate?lon=113.66&lat=34.75", headers=auth)  # Zhengzhou
    assert res.status_code == 404
    assert res.json()["code"] == "city.outside"


def test_grids_in_a_bbox(client: TestClient, auth: dict[str, str]) -> None:
    res = client.get("/api/v1/city/grids?bbox=115.90,28.67,115.92,28.68", headers=auth)
    assert res.status_code == 200
    fc = res.json()
    assert 5 < len(fc["features"]) < 1000
    assert all(len(f["properties"]["code"]) == 15 for f in fc["features"])


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "116,28,115,29", "0,-100,1,1", ""])
def test_bad_bbox_names_the_field(client: TestClient, auth: dict[str, str], bbox: str) -> None:
    res = client.get(f"/api/v1/city/grids?bbox={bbox}", headers=auth)
    assert res.status_code in (400, 422)
    assert res.headers["content-type"] == "application/problem+json"
    assert any("bbox" in e["field"] for e in res.json()["errors"])


def test_route_across_the_river(client: TestClient, auth: dict[str, str]) -> None:
    # 红谷滩 (west bank) to 八一广场 (east bank): a few km, minutes by car.
    res = client.get(
        "/api/v1/city/route?from_lon=115.855&from_lat=28.690"
        f"&to_lon={BAYI_SQUARE[0]}&to_lat={BAYI_SQUARE[1]}",
        headers=auth,
    )
    assert res.status_code == 200, res.text
    route = res.json()
    props = route["properties"]
    assert 2000 < props["metres"] < 15000
    assert 120 < props["seconds"] < 1800
    assert len(route["geometry"]["coordinates"]) == props["intersections"]


def test_route_from_off_the_network_is_refused(client: TestClient, auth: dict[str, str]) -> None:
    res = client.get(
        "/api/v1/city/route?from_lon=116.6&from_lat=28.3&to_lon=115.9&to_lat=28.68", headers=auth
    )
    assert res.status_code == 404
    assert res.json()["code"] == "city.off_network"


def test_unknown_path_and_method_are_problems(client: TestClient, auth: dict[str, str]) -> None:
    res = client.get("/api/v1/nowhere", headers=auth)
    assert res.status_code == 404
    assert res.headers["content-type"] == "application/problem+json"
    res = client.delete("/api/v1/health")
    assert res.status_code == 405
    assert res.json()["code"] == "http.method_not_allowed"


def test_health_and_clock(client: TestClient, auth: dict[str, str], tokens: dict[str, str]) -> None:
    health = client.get("/api/v1/health").json()
    assert health["status"] == "ok"
    assert health["checks"] == {"database": True, "bus": True}
    clock = client.get("/api/v1/clock", headers=auth).json()
    assert clock["mode"] == "simulated"
    assert clock["speed"] == 60
    assert clock["now"].endswith("+08:00")
    res = client.put("/api/v1/clock/speed", json={"speed": 120}, headers=auth)
    assert res.status_code == 403
    res = client.put("/api/v1/clock/speed", json={"speed": 120}, headers=bearer(tokens["admin"]))
    assert res.json()["speed"] == 120
    client.put("/api/v1/clock/speed", json={"speed": 60}, headers=bearer(tokens["admin"]))
