"""Unified operations over HTTP on the demo city: a hotline call to an evaluated case."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.support import DemoCity, bearer

BAYI_SQUARE = (115.9070, 28.6760)  # 八一广场, 东湖区 (WGS-84)
API = "/api/v1/operations"


def _call(**kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source": "hotline_12345",
        "class_code": "C0202",  # a damaged traffic sign: the transport bureau, 3 working days
        "location": {"lon": BAYI_SQUARE[0], "lat": BAYI_SQUARE[1], "address": "八一广场东侧"},
        "description": "路口交通标志牌被撞歪",
        "reporter": {"name": "李女士", "phone": "13800000000"},
        "external_id": f"call-{uuid.uuid4().hex[:12]}",
    }
    return body | kw


def _do(client: TestClient, token: str, case_id: str, verb: str, **body: Any) -> dict[str, Any]:
    res = client.post(f"{API}/cases/{case_id}/{verb}", headers=bearer(token), json=body)
    assert res.status_code == 200, res.text
    return dict(res.json())


def test_a_hotline_call_becomes_a_dispatched_timed_supervised_evaluated_case(
    client: TestClient, tokens: dict[str, str], demo_city: DemoCity
) -> None:
    op, staff, grid, admin = (
        tokens[u] for u in ("operator", "transport-staff", "grid-worker", "admin")
    )
    res = client.post(f"{API}/cases", headers=bearer(op), json=_call())
    assert res.status_code == 201, res.text
    created = res.json()
    case = created["case"]
    assert created["merged"] is False
    assert case["status"] == "reported"
    assert case["county"] == "360102"
    assert len(case["grid"]) == 15
    assert case["reporter"]["name"] == "李女士"
    cid = case["id"]
    _do(client, op, cid, "file")
    case = _do(client, op, cid, "dispatch", note="请交通局处置")
    assert case["department_id"] == "transport"
    assert case["limit"] == {"value": 3.0, "unit": "working_days"}
    assert case["due_at"] is not None
    assert case["clock_running"] is True
    case = _do(client, staff, cid, "accept")
    assert case["reporter"] == {}  # department staff do not see who called
    attachment = {"ref": "cases/photo-1.jpg", "media_type": "image/jpeg", "size": 52_000}
    _do(client, staff, cid, "handle", note="已扶正", attachments=[attachment])
    _do(client, grid, cid, "verify", note="现场核查通过")
    _do(client, op, cid, "close")
    _do(client, op, cid, "follow-up", note="回访满意", satisfaction=5)
    case = _do(client, op, cid, "evaluate", satisfaction=5)
    assert case["status"] == "evaluated"
    detail = client.get(f"{API}/cases/{cid}", headers=bearer(op)).json()
    steps = [s["action"] for s in detail["timeline"]]
    assert steps == ["report", "file", "dispatch", "accept", "handle", "verify", "close",
                     "follow_up", "evaluate"]  # fmt: skip
    assert detail["timeline"][4]["attachments"][0]["ref"] == "cases/photo-1.jpg"
    assert detail["reports"][0]["external_id"].startswith("call-")
    kpis = client.get(f"{API}/kpis", headers=bearer(admin), params={"by": "department"})
    assert kpis.status_code == 200
    transport = next(k for k in kpis.json() if k["key"] == "transport")
    assert transport["handled"] >= 1
    assert transport["evaluated"] >= 1


def test_bad_input_gets_a_clear_problem(client: TestClient, tokens: dict[str, str]) -> None:
    op = bearer(tokens["operator"])
    outside = _call(location={"lon": 100.0, "lat": 30.0})
    res = client.post(f"{API}/cases", headers=op, json=outside)
    assert res.status_code == 400
    assert res.headers["content-type"].startswith("application/problem+json")
    assert res.json()["code"] == "case.outside_city"
    res = client.post(f"{API}/cases", headers=op, json=_call(class_code="E0999"))
    assert (res.status_code, res.json()["code"]) == (400, "case.unknown_class")
    big = {"ref": "x.jpg", "media_type": "image/jpeg", "size": 50 * 1024 * 1024}
    assert client.post(f"{API}/cases", headers=op, json=_call(attachments=[big])).status_code == 422
    exe = {"ref": "x.exe", "media_type": "application/x-msdownload", "size": 10}
    assert client.post(f"{API}/cases", headers=op, json=_call(attachments=[exe])).status_code == 422
    body = _call()
    assert client.post(f"{API}/cases", headers=op, json=body).status_code == 201
    again = client.post(f"{API}/cases", headers=op, json=body)
    assert (again.status_code, again.json()["code"]) == (409, "case.duplicate_submission")
    assert client.get(f"{API}/cases/nope", headers=op).status_code == 404


def test_a_second_report_nearby_is_merged_into_the_open_case(
    client: TestClient, tokens: dict[str, str]
) -> None:
    op = bearer(tokens["operator"])
    where = {"lon": 115.8800, "lat": 28.6900}
    first = client.post(f"{API}/cases", headers=op, json=_call(class_code="E0201", location=where))
    assert first.status_code == 201, first.text
    near = where | {"lon": where["lon"] + 0.0002}  # ~20 m east
    second = client.post(
        f"{API}/cases", headers=bearer(tokens["grid-worker"]),
        json=_call(class_code="E0201", location=near, source="grid_inspector"),
    )  # fmt: skip
    assert second.status_code == 200
    assert second.json()["merged"] is True
    assert second.json()["case"]["id"] == first.json()["case"]["id"]
    assert second.json()["case"]["report_count"] == 2


def test_illegal_transitions_and_other_departments_are_refused(
    client: TestClient, tokens: dict[str, str]
) -> None:
    op = bearer(tokens["operator"])
    cid = client.post(f"{API}/cases", headers=op, json=_call()).json()["case"]["id"]
    res = client.post(f"{API}/cases/{cid}/close", headers=op, json={})
    assert (res.status_code, res.json()["code"]) == (409, "case.illegal_transition")
    _do(client, tokens["operator"], cid, "file")
    _do(client, tokens["operator"], cid, "dispatch")
    res = client.post(f"{API}/cases/{cid}/accept", headers=bearer(tokens["health-staff"]), json={})
    assert (res.status_code, res.json()["code"]) == (403, "case.not_your_department")
    res = client.post(f"{API}/cases/{cid}/dispatch", headers=bearer(tokens["transport-staff"]))
    assert (res.status_code, res.json()["code"]) == (403, "auth.forbidden")
    res = client.post(f"{API}/cases/{cid}/suspend", headers=bearer(tokens["transport-staff"]),
                      json={"reason": "awaiting_reporter"})  # fmt: skip
    assert res.status_code == 422  # a suspension says why
    assert any(e["field"].endswith("note") for e in res.json()["errors"])


def test_cases_are_listed_with_filters_and_paging(
    client: TestClient, tokens: dict[str, str]
) -> None:
    op = bearer(tokens["operator"])
    client.post(f"{API}/cases", headers=op, json=_call(class_code="E0504"))
    res = client.get(f"{API}/cases", headers=op, params={"class_code": "E0504", "limit": 1})
    assert res.status_code == 200
    page = res.json()
    assert page["total"] >= 1
    assert len(page["items"]) == 1
    assert page["items"][0]["class_code"] == "E0504"
    res = client.get(f"{API}/cases", headers=op,
                     params={"status": ["reported", "filed"], "region": "360102"})  # fmt: skip
    assert all(c["status"] in ("reported", "filed") for c in res.json()["items"])
    assert all(c["county"] == "360102" for c in res.json()["items"])
    assert client.get(f"{API}/cases", headers=op, params={"limit": 0}).status_code == 422
    res = client.get(f"{API}/cases", headers=op, params={"overdue": True})
    assert all(c["overdue"] for c in res.json()["items"])


def test_the_bureau_edits_the_class_table_and_the_edit_is_audited(
    client: TestClient, tokens: dict[str, str]
) -> None:
    admin, op = bearer(tokens["admin"]), bearer(tokens["operator"])
    classes = client.get(f"{API}/classes", headers=op).json()
    assert len(classes) >= 40
    one = client.get(f"{API}/classes/E0105", headers=op).json()
    body = {k: one[k] for k in ("kind", "major_zh", "major_en", "name_zh", "name_en",
                                 "department_id", "time_limit", "urgency", "region_departments",
                                 "keywords", "active")}  # fmt: skip
    body["time_limit"] = {"value": 3, "unit": "working_days"}
    res = client.put(f"{API}/classes/E0105", headers=admin, json=body | {"version": one["version"]})
    assert res.status_code == 200, res.text
    assert res.json()["version"] == one["version"] + 1
    stale = client.put(
        f"{API}/classes/E0105", headers=admin, json=body | {"version": one["version"]}
    )
    assert stale.status_code == 409
    assert client.put(f"{API}/classes/E0105", headers=op, json=body).status_code == 403
    history = client.get(f"{API}/classes/E0105/history", headers=admin).json()
    assert [h["change"] for h in history][-1] == "updated"
    assert history[-1]["actor"] != "system"
    assert client.get(f"{API}/classes/E9999", headers=op).status_code == 404


def test_a_manual_timer_scan_is_for_supervisors(client: TestClient, tokens: dict[str, str]) -> None:
    res = client.post(f"{API}/timers/scan", headers=bearer(tokens["admin"]))
    assert res.status_code == 200
    assert res.json()["changed"] >= 0
    assert client.post(f"{API}/timers/scan", headers=bearer(tokens["operator"])).status_code == 403
