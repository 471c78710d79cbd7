"""The CKAN-compatible API read by the real ``ckanapi`` client over HTTP."""

from __future__ import annotations

import httpx
import pytest
from ckanapi import NotAuthorized, NotFound, RemoteCKAN, ValidationError

from opencitybrain.sim.demo_catalog import RESOURCES
from tests.support import DemoCity


@pytest.fixture(scope="module")
def ckan(live_server: str, demo_city: DemoCity) -> RemoteCKAN:
    """Return a CKAN client holding the demo app's API key (sent as CKAN does, bare)."""
    return RemoteCKAN(live_server, apikey=demo_city.credentials["demo-app"].secret)


def test_package_list_names_every_resource(ckan: RemoteCKAN) -> None:
    names = ckan.action.package_list()
    assert len(names) >= len(RESOURCES) >= 30
    assert all("/" not in n and n == n.lower() for n in names)
    assert ckan.action.package_list(limit=5, offset=5) == names[5:10]


def test_package_show_by_name_and_id(ckan: RemoteCKAN) -> None:
    found = ckan.action.package_search(q="户籍人口基本信息", rows=1)["results"][0]
    pkg = ckan.action.package_show(id=found["name"])
    assert pkg == ckan.action.package_show(id=found["id"])
    assert pkg["title"] == "户籍人口基本信息"
    assert pkg["organization"]["name"] == "public-security"
    assert pkg["organization"]["title"].endswith("公安局")
    assert {t["name"] for t in pkg["tags"]} >= {"人口", "户籍"}
    extras = {e["key"]: e["value"] for e in pkg["extras"]}
    assert extras["resource_code"].replace("/", "-") == pkg["name"]
    assert extras["sharing_type_zh"] == "有条件共享"
    assert extras["level_zh"] == "核心"
    assert pkg["resources"][0]["url"].endswith(f"/api/v1/catalog/resources/{pkg['name']}")


def test_package_search_in_chinese_with_filters_and_facets(ckan: RemoteCKAN) -> None:
    out = ckan.action.package_search(
        q="机动车",
        fq="organization:public-security",
        facet="true",
        **{"facet.field": ["organization", "sharing_type", "tags"]},
    )
    titles = [p["title"] for p in out["results"]]
    assert titles[0] == "机动车登记信息"
    assert all(p["owner_org"] == "public-security" for p in out["results"])
    assert out["count"] == len(titles)
    orgs = out["search_facets"]["organization"]["items"]
    assert [i["name"] for i in orgs] == ["public-security"]
    assert orgs[0]["display_name"].endswith("公安局")
    assert out["facets"]["organization"] == {"public-security": out["count"]}
    shared = ckan.action.package_search(fq='sharing_type:"不予共享"')
    assert [p["title"] for p in shared["results"]] == ["出入境证件信息"]
    tagged = ckan.action.package_search(fq="tags:电子证照", rows=100)
    assert tagged["count"] >= 2
    assert all("电子证照" in {t["name"] for t in p["tags"]} for p in tagged["results"])


def test_package_search_in_english_pages_and_sorts(ckan: RemoteCKAN) -> None:
    assert "机动车登记信息" in [
        p["title"] for p in ckan.action.package_search(q="vehicle")["results"]
    ]
    everything = ckan.action.package_search(q="*:*", rows=1000, sort="name asc")
    names = [p["name"] for p in everything["results"]]
    assert names == sorted(names)
    page = ckan.action.package_search(rows=3, start=3, sort="name asc")
    assert [p["name"] for p in page["results"]] == names[3:6]


def test_organizations(ckan: RemoteCKAN) -> None:
    names = ckan.action.organization_list()
    assert {"public-security", "health", "transport"} <= set(names)
    full = {o["name"]: o for o in ckan.action.organization_list(all_fields=True)}
    assert full["market-regulation"]["package_count"] >= 5
    health = ckan.action.organization_show(id="health", include_datasets=True)
    assert health["title"].endswith("卫生健康委员会")
    assert health["package_count"] == len(health["packages"]) >= 4
    assert {p["organization"]["name"] for p in health["packages"]} == {"health"}


def test_status_show(ckan: RemoteCKAN) -> None:
    status = ckan.action.status_show()
    assert status["ckan_version"].startswith("2.")
    assert status["api_version"] == 3


def test_get_only_clients_work_too(live_server: str, demo_city: DemoCity) -> None:
    ckan = RemoteCKAN(live_server, apikey=demo_city.credentials["demo-app"].secret, get_only=True)
    out = ckan.action.package_search(q="企业登记", fq="organization:market-regulation")
    assert out["results"][0]["title"] == "企业登记信息"


def test_errors_come_back_as_ckan_exceptions(
    ckan: RemoteCKAN, live_server: str, tokens: dict[str, str]
) -> None:
    with pytest.raises(NotFound):
        ckan.action.package_show(id="999999-000001")
    with pytest.raises(ValidationError) as err:
        ckan.action.package_search(fq="nope:1")
    assert "fq" in err.value.error_dict
    with pytest.raises(NotFound):
        ckan.action.package_create(name="x")  # the endpoint is read-only
    with pytest.raises(NotAuthorized):
        RemoteCKAN(live_server).action.package_list()
    with pytest.raises(NotAuthorized):  # citizens do not read the government catalogue
        RemoteCKAN(live_server, apikey=tokens["citizen"]).action.package_list()


def test_error_bodies_are_ckan_envelopes_and_problems(live_server: str) -> None:
    res = httpx.get(f"{live_server}/api/3/action/package_list")
    assert res.status_code == 401
    assert res.headers["content-type"].startswith("application/problem+json")
    body = res.json()
    assert body["success"] is False
    assert body["error"]["__type"] == "Authorization Error"
    assert body["code"] == "auth.required"
    assert body["status"] == 401
