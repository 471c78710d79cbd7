"""Open311 GeoReport v2 over HTTP on the demo city: JSON and XML, the spec's errors."""

from __future__ import annotations

import itertools
import random
import xml.etree.ElementTree as ET
from typing import Any

from fastapi.testclient import TestClient

from opencitybrain.operations.open311_service import Open311Desk
from opencitybrain.operations.open311_store import RequestQuery
from tests.support import DemoCity, bearer

O311 = "/open311/v2"
API = "/api/v1/operations"
# Spread each test's points ~200 m apart around central Nanchang (东湖区, 西湖区), so no
# report merges with another test's case unless a test means it to.
_spots = itertools.count(random.randrange(0, 200))


def _where() -> tuple[float, float]:
    n = next(_spots)
    return 115.880 + 0.002 * (n % 20), 28.655 + 0.002 * (n // 20 % 20)


def _key(demo_city: DemoCity) -> str:
    return demo_city.credentials["demo-app"].secret


def _form(demo_city: DemoCity, **kw: Any) -> dict[str, Any]:
    lon, lat = _where()
    body = {
        "api_key": _key(demo_city),
        "service_code": "E0102",
        "lat": f"{lat:.6f}",
        "long": f"{lon:.6f}",
        "address_string": "八一大道 368 号门口",
        "description": "人行道上有一堆建筑垃圾 <已三天> & 无人清理",
        "first_name": "小明",
        "last_name": "王",
        "email": "wang@example.cn",
        "phone": "13912345678",
        "device_id": f"device-{random.randrange(10**9)}",
        "media_url": "https://img.example.cn/p/1.jpg",
    }
    return body | kw


def _errors(res: Any) -> list[dict[str, Any]]:
    assert res.headers["content-type"].startswith("application/json")
    body = res.json()
    assert isinstance(body, list)
    assert all(e["code"] == res.status_code for e in body)
    return list(body)


def _case_of(demo_city: DemoCity, rid: str) -> str:
    desk = demo_city.platform.services.get(Open311Desk)
    return desk.reads.reports(RequestQuery(ids=(rid,)))[0].case_id


def test_services_in_json_xml_and_without_a_suffix(client: TestClient) -> None:
    res = client.get(f"{O311}/services.json")
    assert res.status_code == 200
    services = res.json()
    assert len(services) >= 40
    garbage = next(s for s in services if s["service_code"] == "E0102")
    assert garbage["type"] == "realtime"
    assert garbage["metadata"] is False
    assert garbage["service_name"]
    assert client.get(f"{O311}/services").json() == services
    res = client.get(f"{O311}/services.xml")
    assert res.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(res.content)
    assert root.tag == "services"
    assert [s.findtext("service_code") for s in root] == [s["service_code"] for s in services]
    res = client.get(f"{O311}/services.csv")
    assert res.status_code == 404
    assert "csv" in _errors(res)[0]["description"]


def test_service_definitions_and_unknown_services(client: TestClient) -> None:
    res = client.get(f"{O311}/services/E0102.json")
    assert res.json() == {"service_code": "E0102", "attributes": []}
    root = ET.fromstring(client.get(f"{O311}/services/E0102.xml").content)
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "E0102"
    res = client.get(f"{O311}/services/E9999.json")
    assert res.status_code == 404
    assert "E9999" in _errors(res)[0]["description"]
    res = client.get(f"{O311}/services/E9999.xml")
    assert res.status_code == 404
    errors = ET.fromstring(res.content)
    assert errors.tag == "errors"
    assert errors[0].findtext("code") == "404"
    assert "不存在" in (errors[0].findtext("description") or "")


def test_a_request_is_filed_through_intake_and_read_back(
    client: TestClient, demo_city: DemoCity, tokens: dict[str, str]
) -> None:
    form = _form(demo_city)
    res = client.post(f"{O311}/requests.json", data=form)
    assert res.status_code == 201, res.text
    (receipt,) = res.json()
    rid = receipt["service_request_id"]
    assert receipt["account_id"] is None
    assert receipt["service_notice"]
    (req,) = client.get(f"{O311}/requests/{rid}.json").json()
    assert req["service_request_id"] == rid
    assert req["status"] == "open"
    assert req["service_code"] == "E0102"
    assert req["description"] == form["description"]
    assert req["address"] == form["address_string"]
    assert (req["lat"], req["long"]) == (float(form["lat"]), float(form["long"]))
    assert req["media_url"] == form["media_url"]
    assert req["requested_datetime"].endswith("+00:00")
    for private in ("小明", "wang@example.cn", "13912345678", form["device_id"]):
        assert private not in res.text + repr(req)
    assert client.get(f"{O311}/requests/{rid}").json() == [req]
    listed = client.get(f"{O311}/requests.json", params={"service_request_id": f"{rid},nope"})
    assert listed.json() == [req]
    token = client.get(f"{O311}/tokens/{rid}.json").json()
    assert token == [{"service_request_id": rid, "token": rid}]
    # The case is an ordinary case: the command centre sees it, with the reporter.
    case_id = _case_of(demo_city, rid)
    case = client.get(f"{API}/cases/{case_id}", headers=bearer(tokens["operator"])).json()
    assert case["case"]["source"] == "open311"
    assert case["case"]["reporter"]["phone"] == "13912345678"
    assert case["timeline"][0]["attachments"][0]["media_type"] == "text/uri-list"
    # Dispatch sets the expected time; rejection closes the request.
    op = bearer(tokens["operator"])
    assert client.post(f"{API}/cases/{case_id}/file", headers=op).status_code == 200
    assert client.post(f"{API}/cases/{case_id}/dispatch", headers=op).status_code == 200
    (req,) = client.get(f"{O311}/requests/{rid}.json").json()
    assert req["expected_datetime"] is not None
    assert req["agency_responsible"]
    assert req["status_notes"].startswith("派遣")


def test_xml_in_and_out(client: TestClient, demo_city: DemoCity) -> None:
    form = _form(demo_city, description="井盖缺失\r\n很危险 <快来>", service_code="C0101")
    res = client.post(f"{O311}/requests.xml", data=form)
    assert res.status_code == 201, res.text
    assert res.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(res.content)
    assert root.tag == "service_requests"
    rid = root[0].findtext("service_request_id")
    assert rid
    res = client.get(f"{O311}/requests/{rid}.xml")
    item = ET.fromstring(res.content)[0]
    assert item.tag == "request"
    assert item.findtext("description") == "井盖缺失\r\n很危险 <快来>"
    assert item.findtext("status") == "open"
    assert item.findtext("account_id") is None
    tokens = ET.fromstring(client.get(f"{O311}/tokens/{rid}.xml").content)
    assert tokens[0].findtext("service_request_id") == rid


def test_credentials_are_checked_and_refused_in_the_specs_format(
    client: TestClient, demo_city: DemoCity, tokens: dict[str, str]
) -> None:
    form = _form(demo_city)
    del form["api_key"]
    res = client.post(f"{O311}/requests.json", data=form)
    assert res.status_code == 401
    assert "API" in _errors(res)[0]["description"] or "credentials" in res.text
    res = client.post(f"{O311}/requests.json", data=form | {"api_key": "cbk_nope.nope"})
    assert res.status_code == 401
    res = client.post(f"{O311}/requests.xml", data=form | {"api_key": "cbk_nope.nope"})
    assert (res.status_code, ET.fromstring(res.content).tag) == (401, "errors")
    # A citizen's sign-in carries no cases:report: 403.
    res = client.post(f"{O311}/requests.json", data=form, headers=bearer(tokens["citizen"]))
    assert res.status_code == 403
    assert "cases:report" in _errors(res)[0]["description"]
    # The key in a header works as well as in the form.
    res = client.post(f"{O311}/requests.json", data=form, headers={"X-API-Key": _key(demo_city)})
    assert res.status_code == 201, res.text


def test_bad_input_gets_the_specs_error_list_and_nothing_is_stored(
    client: TestClient, demo_city: DemoCity
) -> None:
    before = len(client.get(f"{O311}/requests.json").json())
    cases = [
        (_form(demo_city, lat="30.0", long="100.0"), 400, "不在本市"),
        (_form(demo_city, service_code="E9999"), 404, "E9999"),
        (_form(demo_city, description="长" * 4001), 400, "description"),
        (_form(demo_city, lat="north"), 400, "lat"),
        (_form(demo_city, **{"attribute[SIZE]": "big"}), 400, "attribute[SIZE]"),
        (_form(demo_city, media_url="file:///etc/passwd"), 400, "media_url"),
    ]
    for form, status, words in cases:
        res = client.post(f"{O311}/requests.json", data=form)
        assert res.status_code == status, (form, res.text)
        description = _errors(res)[0]["description"]
        assert words in description, description
        assert " / " in description  # Chinese first, then English
    huge = client.post(f"{O311}/requests.json", data=_form(demo_city, description="长" * 70_000))
    assert huge.status_code == 413
    garbage = client.post(
        f"{O311}/requests.xml", content=b"garbage", headers={"content-type": "multipart/form-data"}
    )
    assert garbage.status_code == 400
    assert ET.fromstring(garbage.content)[0].findtext("code") == "400"
    assert len(client.get(f"{O311}/requests.json").json()) == before


def test_a_resubmission_is_refused_and_a_neighbours_report_is_merged(
    client: TestClient, demo_city: DemoCity
) -> None:
    form = _form(demo_city, service_code="E0201")
    first = client.post(f"{O311}/requests.json", data=form)
    assert first.status_code == 201, first.text
    rid = first.json()[0]["service_request_id"]
    again = client.post(f"{O311}/requests.json", data=form)
    assert again.status_code == 409
    assert rid in _errors(again)[0]["description"]
    near = _form(
        demo_city,
        service_code="E0201",
        lat=form["lat"],
        long=f"{float(form['long']) + 0.0002:.6f}",
        description="我也看到了",
        address_string="旁边",
    )
    second = client.post(f"{O311}/requests.json", data=near)
    assert second.status_code == 200, second.text
    other = second.json()[0]["service_request_id"]
    assert other != rid
    assert "并入" in second.json()[0]["service_notice"]
    assert _case_of(demo_city, other) == _case_of(demo_city, rid)
    (req,) = client.get(f"{O311}/requests/{other}.json").json()
    assert req["description"] == "我也看到了"
    assert req["address"] is None  # a merged report shows its point, not the case's address
    assert "并入" in req["status_notes"]


def test_only_open311_requests_leave_and_filters_apply(
    client: TestClient, demo_city: DemoCity, tokens: dict[str, str]
) -> None:
    op = bearer(tokens["operator"])
    lon, lat = _where()
    hotline = client.post(
        f"{API}/cases",
        headers=op,
        json={
            "source": "hotline_12345",
            "class_code": "E0103",
            "location": {"lon": lon, "lat": lat, "address": "热线地址"},
            "description": "热线市民反映",
            "reporter": {"name": "赵先生", "phone": "13700000000"},
        },
    )
    assert hotline.status_code == 201, hotline.text
    hotline_case = hotline.json()["case"]["id"]
    hotline_report = hotline.json()["report_id"]
    for hidden in (hotline_case, hotline_report):
        assert client.get(f"{O311}/requests/{hidden}.json").status_code == 404
        assert client.get(f"{O311}/tokens/{hidden}.json").status_code == 404
    listed = client.get(f"{O311}/requests.json").json()
    assert listed
    assert "热线" not in repr(listed)
    mine = client.post(f"{O311}/requests.json", data=_form(demo_city, service_code="E0104"))
    rid = mine.json()[0]["service_request_id"]
    by_code = client.get(f"{O311}/requests.json", params={"service_code": "E0104,E0105"}).json()
    assert rid in [r["service_request_id"] for r in by_code]
    assert {r["service_code"] for r in by_code} <= {"E0104", "E0105"}
    opened = client.get(f"{O311}/requests.json", params={"status": "open"}).json()
    assert rid in [r["service_request_id"] for r in opened]
    # Rejecting the case closes the request.
    case_id = _case_of(demo_city, rid)
    res = client.post(f"{API}/cases/{case_id}/reject", headers=op, json={"note": "重复"})
    assert res.status_code == 200, res.text
    closed = client.get(f"{O311}/requests.json", params={"status": "closed"}).json()
    assert rid in [r["service_request_id"] for r in closed]
    assert all(r["status"] == "closed" for r in closed)
    assert rid not in [
        r["service_request_id"]
        for r in client.get(f"{O311}/requests.json", params={"status": "open"}).json()
    ]
    later = client.get(f"{O311}/requests.json", params={"start_date": "2099-01-01T00:00:00Z"})
    assert later.json() == []
    for params in (
        {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
        {"start_date": "2026-01-01T00:00:00"},
        {"status": "pending"},
    ):
        res = client.get(f"{O311}/requests.json", params=params)
        assert res.status_code == 400, params
        _errors(res)
    res = client.get(f"{O311}/requests.xml", params={"status": "pending"})
    assert ET.fromstring(res.content).tag == "errors"
