"""Open releases in the catalogue: its own resource view and CKAN; 不予开放 is never released."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import httpx
import pyarrow as pa
import pytest
from ckanapi import RemoteCKAN
from fastapi.testclient import TestClient

from opencitybrain.catalog.model import Classification
from opencitybrain.catalog.rows import ResourceRows
from opencitybrain.catalog.service import CatalogService
from opencitybrain.kernel.events import Context
from tests.integration.sharing.support import FIELDS, ROWS, Loaded, load_sensitive
from tests.support import DemoCity, bearer
from tests.unit.catalog.samples import spec


@pytest.fixture(scope="module")
def loaded(demo_city: DemoCity, client: TestClient) -> Loaded:
    """Return a 有条件开放 health resource with rows (see support.py)."""
    return load_sensitive(demo_city, client, "781")


@pytest.fixture(scope="module")
def released(client: TestClient, tokens: dict[str, str], loaded: Loaded) -> dict[str, Any]:
    """Release a k-anonymous extract of it through the API and return the release."""
    body = {"title": "随访人员分区统计样本（k=2）", "mode": "k_anonymity", "k": 2,
            "qi": ["district"], "max_suppression": 0.1}  # fmt: skip
    res = client.post(f"/api/v1/sharing/resources/{loaded.resource_id}/releases", json=body,
                      headers=bearer(tokens["health-staff"]))  # fmt: skip
    assert res.status_code == 201, res.text
    out: dict[str, Any] = res.json()
    assert out["open_type"] == "conditional"
    assert out["open_condition"].startswith("仅用于公共卫生统计")
    return out


@pytest.fixture(scope="module")
def ckan(live_server: str, demo_city: DemoCity) -> RemoteCKAN:
    """Return a CKAN client holding the demo app's API key."""
    return RemoteCKAN(live_server, apikey=demo_city.credentials["demo-app"].secret)


def test_the_catalogue_view_shows_the_release_and_its_parameters(
    client: TestClient, tokens: dict[str, str], loaded: Loaded, released: dict[str, Any]
) -> None:
    res = client.get(f"/api/v1/catalog/resources/{loaded.resource_id}",
                     headers=bearer(tokens["transport-staff"]))  # fmt: skip
    assert res.status_code == 200, res.text
    [extract] = res.json()["open_extracts"]
    assert extract["id"] == released["id"]
    assert extract["mode"] == "k_anonymity"
    assert extract["mode_zh"] == "k-匿名"
    assert extract["params"] == {"qi": ["district"], "k": 2, "max_suppression": 0.1,
                                 "fields": []}  # fmt: skip
    assert extract["row_count"] == released["row_count"] > 0
    assert extract["created_at"][:19] == released["created_at"][:19]
    assert extract["open_condition"] == released["open_condition"]
    assert "k=2" in extract["description"]
    assert "准标识符 district" in extract["description"]
    assert "quasi-identifiers district" in extract["description"]
    # The download address is public and serves the released table.
    path = extract["url"].removeprefix(str(client.base_url))
    assert path == f"/api/v1/open/releases/{released['id']}/rows.csv"
    csv = client.get(path)
    assert csv.status_code == 200
    assert csv.text.lstrip("\ufeff").splitlines()[0] == "district"
    assert client.get(extract["api_url"].removeprefix(str(client.base_url))).status_code == 200
    # Search results carry them too.
    found = client.get("/api/v1/catalog/resources", params={"q": "健康随访人员781"},
                       headers=bearer(tokens["transport-staff"])).json()  # fmt: skip
    hit = next(h for h in found["items"] if h["resource"]["id"] == loaded.resource_id)
    assert [e["id"] for e in hit["resource"]["open_extracts"]] == [released["id"]]


def test_ckan_shows_the_release_as_a_resource_with_its_parameters(
    ckan: RemoteCKAN, live_server: str, loaded: Loaded, released: dict[str, Any]
) -> None:
    pkg = ckan.action.package_show(id=loaded.resource_id)
    assert pkg["num_resources"] == 2 == len(pkg["resources"])
    meta, extract = pkg["resources"]
    assert meta["url"].endswith(f"/api/v1/catalog/resources/{pkg['name']}")
    assert extract["id"] == released["id"]
    assert extract["name"] == released["title"]
    assert extract["format"] == "CSV"
    assert extract["position"] == 1
    assert extract["url"] == f"{live_server}/api/v1/open/releases/{released['id']}/rows.csv"
    assert extract["release_mode"] == "k_anonymity"
    assert json.loads(extract["release_params"])["k"] == 2
    assert json.loads(extract["release_params"])["qi"] == ["district"]
    assert extract["row_count"] == released["row_count"]
    assert extract["open_condition"] == released["open_condition"]
    assert "k-匿名开放数据集：k=2" in extract["description"]
    assert "k-anonymous extract: k=2" in extract["description"]
    # Anyone can download it: no credentials.
    got = httpx.get(extract["url"])
    assert got.status_code == 200
    assert got.text.lstrip("\ufeff").startswith("district")
    search = ckan.action.package_search(q="健康随访人员781", rows=5)
    hit = next(p for p in search["results"] if p["id"] == loaded.resource_id)
    assert [r["id"] for r in hit["resources"][1:]] == [released["id"]]
    health = ckan.action.organization_show(id="health", include_datasets=True)
    pkg = next(p for p in health["packages"] if p["id"] == loaded.resource_id)
    assert [r["id"] for r in pkg["resources"][1:]] == [released["id"]]


def test_a_resource_without_releases_shows_none(
    ckan: RemoteCKAN, client: TestClient, tokens: dict[str, str]
) -> None:
    found = ckan.action.package_search(q="户籍人口基本信息", rows=1)["results"][0]
    pkg = ckan.action.package_show(id=found["name"])
    assert pkg["num_resources"] == 1 == len(pkg["resources"])
    res = client.get(f"/api/v1/catalog/resources/{found['name']}",
                     headers=bearer(tokens["transport-staff"]))  # fmt: skip
    assert res.json()["open_extracts"] == []


def test_a_closed_resource_is_refused_as_a_problem_and_audited(
    demo_city: DemoCity, client: TestClient, tokens: dict[str, str]
) -> None:
    catalog = demo_city.platform.services.get(CatalogService)
    s = spec(fields=FIELDS, department_id="health", name_zh="健康随访人员782（不予开放）",
             name_en="Health follow-up 782 (closed)")  # fmt: skip
    s = replace(s, classification=Classification("3", "09", "009", "782"))
    assert s.open_type.value == "closed"
    r = client.portal.call(catalog.publish, Context.system("test"), s)  # type: ignore[union-attr]
    rows = demo_city.platform.services.get(ResourceRows)  # type: ignore[type-abstract]
    rows.upsert(r.id, FIELDS, ("record_id",), pa.Table.from_pylist(ROWS))  # type: ignore[attr-defined]
    body = {"title": "不予开放", "mode": "k_anonymity", "k": 2, "qi": ["district"]}
    res = client.post(f"/api/v1/sharing/resources/{r.id}/releases", json=body,
                      headers=bearer(tokens["health-staff"]))  # fmt: skip
    assert res.status_code == 403, res.text
    assert res.headers["content-type"].startswith("application/problem+json")
    problem = res.json()
    assert problem["code"] == "release.not_open"
    assert problem["detail"].startswith("资源「健康随访人员782（不予开放）」的开放属性为不予开放")
    audit = client.get("/api/v1/sharing/audit", params={"resource_id": r.id, "limit": 5},
                       headers=bearer(tokens["admin"])).json()  # fmt: skip
    assert audit[0]["kind"] == "release_refused"
    assert "release.not_open" in audit[0]["detail"]
    listed = client.get("/api/v1/open/releases", params={"resource_id": r.id})
    assert listed.json() == []
