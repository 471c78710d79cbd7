"""The native catalogue API on the demo city: publish, read, revise, withdraw, search."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi.testclient import TestClient

from opencitybrain.catalog.service import CatalogService
from opencitybrain.sim.demo_catalog import RESOURCES, provider_code, seed_demo_catalog
from tests.support import DemoCity, bearer

BASE = "/api/v1/catalog/resources"


def body(**changes: Any) -> dict[str, Any]:
    """Return a publish body for the transport bureau, with changes."""
    out: dict[str, Any] = {
        "classification": {"category": "3", "item": "07", "group": "901"},
        "name_zh": "停车场泊位实时信息",
        "name_en": "Live parking availability",
        "department_id": "transport",
        "provider_code": provider_code("360100", "transport"),
        "abstract": "公共停车场的总泊位、空余泊位和收费标准，每分钟更新。",
        "format": "api",
        "fields": [
            {"name": "lot_id", "name_zh": "停车场编号", "data_type": "string"},
            {"name": "free", "name_zh": "空余泊位", "data_type": "integer"},
        ],
        "sharing_type": "unconditional",
        "domain": "transport",
        "update_cycle": "realtime",
        "open_type": "open",
        "tags": ["停车", "泊位"],
    }
    out.update(changes)
    return out


def test_the_demo_catalogue_is_seeded(client: TestClient, tokens: dict[str, str]) -> None:
    res = client.get(BASE, params={"limit": 0, "facet": ["department_id", "sharing_type"]},
                     headers=bearer(tokens["operator"]))  # fmt: skip
    assert res.status_code == 200, res.text
    out = res.json()
    assert out["total"] >= len(RESOURCES) >= 30
    depts = {f["value"] for f in out["facets"]["department_id"]}
    assert {"public-security", "market-regulation", "health", "civil-affairs"} <= depts
    assert {f["value"] for f in out["facets"]["sharing_type"]} == {
        "unconditional", "conditional", "none"
    }  # fmt: skip


def test_search_in_chinese_and_english(client: TestClient, tokens: dict[str, str]) -> None:
    h = bearer(tokens["operator"])
    hits = client.get(BASE, params={"q": "户籍人口"}, headers=h).json()["items"]
    assert hits[0]["resource"]["name_zh"] == "户籍人口基本信息"
    assert hits[0]["resource"]["level"] == "core"
    assert hits[0]["resource"]["sharing_type_zh"] == "有条件共享"
    hits = client.get(BASE, params={"q": "vehicle", "department": "public-security"}, headers=h)
    assert "机动车登记信息" in [i["resource"]["name_zh"] for i in hits.json()["items"]]


def test_staff_publish_revise_and_withdraw(client: TestClient, tokens: dict[str, str]) -> None:
    h = bearer(tokens["transport-staff"])
    res = client.post(BASE, json=body(), headers=h)
    assert res.status_code == 201, res.text
    made = res.json()
    assert made["code"].startswith("307901/")
    assert made["slug"] == made["code"].replace("/", "-")
    assert made["version"] == 1
    assert made["level"] == "general"
    got = client.get(f"{BASE}/{made['slug']}", headers=bearer(tokens["operator"]))
    assert got.json()["id"] == made["id"]
    revised = client.put(
        f"{BASE}/{made['id']}",
        json=body(abstract="新的摘要", expected_version=1, note="补充说明"),
        headers=h,
    )
    assert revised.status_code == 200, revised.text
    assert revised.json()["version"] == 2
    stale = client.put(f"{BASE}/{made['id']}", json=body(expected_version=1), headers=h)
    assert stale.status_code == 409
    assert stale.json()["code"] == "catalog.stale_version"
    versions = client.get(f"{BASE}/{made['id']}/versions", headers=h).json()
    assert [v["version"] for v in versions] == [1, 2]
    assert (
        client.get(f"{BASE}/{made['id']}/versions/1", headers=h)
        .json()["abstract"]
        .startswith("公共")
    )
    gone = client.post(f"{BASE}/{made['id']}/withdraw", json={"reason": "停用"}, headers=h)
    assert gone.status_code == 200, gone.text
    assert gone.json()["status"] == "withdrawn"
    search = client.get(BASE, params={"q": "停车场泊位"}, headers=h).json()
    assert search["total"] == 0


def test_staff_cannot_publish_for_another_department(
    client: TestClient, tokens: dict[str, str]
) -> None:
    res = client.post(
        BASE, json=body(department_id="health"), headers=bearer(tokens["transport-staff"])
    )
    assert res.status_code == 403
    assert res.json()["code"] == "catalog.other_department"
    res = client.post(BASE, json=body(), headers=bearer(tokens["operator"]))
    assert res.status_code == 403
    assert res.json()["code"] == "auth.forbidden"


def test_bad_metadata_names_every_field(client: TestClient, tokens: dict[str, str]) -> None:
    h = bearer(tokens["transport-staff"])
    core = {"name": "plate", "name_zh": "号牌", "data_type": "plate", "level": "core"}
    bad = body(
        sharing_type="conditional",  # without its condition
        provider_code="11360100MB0007009X",  # well-formed, wrong check character
        level="general",  # below its core field
        fields=[core],
    )
    res = client.post(BASE, json=bad, headers=h)
    assert res.status_code == 400
    problem = res.json()
    assert problem["code"] == "catalog.invalid_resource"
    assert {e["field"] for e in problem["errors"]} == {
        "sharing_condition",
        "provider_code",
        "level",
    }
    for broken in (body(extra="x"), body(fields=[]), body(classification={"category": "9"})):
        res = client.post(BASE, json=broken, headers=h)
        assert res.status_code == 422, broken


def test_unknown_resources_and_citizens(client: TestClient, tokens: dict[str, str]) -> None:
    res = client.post(BASE, json=body(department_id="nope"), headers=bearer(tokens["admin"]))
    assert res.status_code == 404
    assert res.json()["code"] == "catalog.no_department"
    res = client.get(f"{BASE}/nope", headers=bearer(tokens["operator"]))
    assert res.status_code == 404
    assert res.json()["code"] == "catalog.no_resource"
    res = client.get(BASE, headers=bearer(tokens["citizen"]))
    assert res.status_code == 403


def test_seeding_again_adds_nothing(demo_city: DemoCity) -> None:
    catalog = demo_city.platform.services.get(CatalogService)
    assert asyncio.run(seed_demo_catalog(catalog, demo_city.platform.pack.manifest.city_code)) == 0
