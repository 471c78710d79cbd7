"""Over HTTP: class suggestions from a caller's words, attachments uploaded and served back,
and a hotline call walked from the phone to an evaluated case."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.support import bearer

API = "/api/v1/operations"
BAYI_SQUARE = {"lon": 115.9070, "lat": 28.6760, "address": "八一广场东侧"}
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(range(256)) * 8
PDF = b"%PDF-1.7\n" + b"0" * 500


def _call(**kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source": "hotline_12345",
        "location": BAYI_SQUARE,
        "description": "路口的红绿灯坏了，一直不亮，车都在抢",
        "reporter": {"name": "王先生", "phone": "13900000000"},
        "external_id": f"call-{uuid.uuid4().hex[:12]}",
    }
    return body | kw


def _upload(client: TestClient, token: str, data: bytes, name: str) -> Any:
    return client.post(
        f"{API}/attachments", headers=bearer(token), files={"file": (name, data, "image/jpeg")}
    )


def test_the_classifier_suggests_classes_with_confidence(
    client: TestClient, tokens: dict[str, str]
) -> None:
    op = bearer(tokens["operator"])
    res = client.post(f"{API}/classify", headers=op, json={"text": "小区门口垃圾堆了好几天没人收"})
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["suggestions"][0]["code"] == "E0102"
    assert body["suggestions"][0]["name_zh"] == "暴露垃圾"
    assert len(body["suggestions"]) == 3
    assert 0 < body["min_confidence"] < 1
    res = client.post(f"{API}/classify", headers=bearer(tokens["transport-staff"]),
                      json={"text": "红绿灯坏了"})  # fmt: skip
    assert (res.status_code, res.json()["code"]) == (403, "auth.forbidden")  # no cases:report


def test_a_report_without_a_class_is_classified_or_refused_with_suggestions(
    client: TestClient, tokens: dict[str, str]
) -> None:
    op = bearer(tokens["operator"])
    res = client.post(f"{API}/cases", headers=op, json=_call())
    assert res.status_code == 201, res.text
    body = res.json()
    assert body["classified"] is True
    assert body["case"]["class_code"] == body["suggestions"][0]["code"] == "C0201"
    vague = _call(description="我想问个事情")
    unsure = client.post(f"{API}/cases", headers=op, json=vague)
    assert (unsure.status_code, unsure.json()["code"]) == (400, "case.class_unsure")
    assert "class_code" in unsure.json()["errors"][0]["field"]
    # Nothing was stored for the refused call: the same external id goes through later.
    ext = f"call-{uuid.uuid4().hex[:12]}"
    client.post(f"{API}/cases", headers=op, json=vague | {"external_id": ext})
    chosen = vague | {"class_code": "E0502", "external_id": ext}
    chosen["location"] = {"lon": 115.87, "lat": 28.69}
    later = client.post(f"{API}/cases", headers=op, json=chosen)
    assert later.status_code == 201, later.text
    # An operator's own class wins; a 12345 call still carries the suggestions.
    assert later.json()["classified"] is False
    assert len(later.json()["suggestions"]) == 3


def test_attachments_upload_check_and_download(client: TestClient, tokens: dict[str, str]) -> None:
    grid = tokens["grid-worker"]
    res = _upload(client, grid, JPEG, "现场照片.jpg")
    assert res.status_code == 201, res.text
    att = res.json()
    assert (att["media_type"], att["size"], att["name"]) == (
        "image/jpeg",
        len(JPEG),
        "现场照片.jpg",
    )
    assert att["ref"].startswith("att-")
    got = client.get(f"{API}/attachments/{att['ref']}", headers=bearer(tokens["transport-staff"]))
    assert got.status_code == 200
    assert got.content == JPEG
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert client.get(f"{API}/attachments/{att['ref']}").status_code == 401
    # The type is read from the bytes: a PDF named .jpg is a PDF; an executable is refused.
    assert _upload(client, grid, PDF, "scan.jpg").json()["media_type"] == "application/pdf"
    exe = _upload(client, grid, b"MZ\x90\x00" + b"\x00" * 200, "photo.jpg")
    assert (exe.status_code, exe.json()["code"]) == (415, "attachment.bad_type")
    big = _upload(client, grid, JPEG + b"\x00" * (20 * 1024 * 1024), "big.jpg")
    assert (big.status_code, big.json()["code"]) == (413, "attachment.too_large")
    none = client.post(f"{API}/attachments", headers=bearer(grid), data={"x": "1"})
    assert (none.status_code, none.json()["code"]) == (400, "attachment.no_file")
    missing = client.get(f"{API}/attachments/att-{'0' * 32}", headers=bearer(grid))
    assert missing.status_code == 404
    # A step naming an upload must match it; a made-up one is refused, nothing stored.
    fake = {"ref": f"att-{'a' * 32}", "media_type": "image/jpeg", "size": 10}
    res = client.post(f"{API}/cases", headers=bearer(grid),
                      json=_call(source="grid_inspector", attachments=[fake]))  # fmt: skip
    assert (res.status_code, res.json()["code"]) == (400, "attachment.unknown_ref")


def test_a_hotline_call_is_classified_dispatched_timed_supervised_and_evaluated(
    client: TestClient, tokens: dict[str, str]
) -> None:
    op, staff, grid, admin = (
        tokens[u] for u in ("operator", "transport-staff", "grid-worker", "admin")
    )
    where = {"lon": 115.8950, "lat": 28.6820, "address": "中山路路口"}
    call = _call(description="中山路路口的限速牌倒在路边了", location=where)
    res = client.post(f"{API}/cases", headers=bearer(op), json=call)
    assert res.status_code == 201, res.text
    case = res.json()["case"]
    assert (case["class_code"], res.json()["classified"]) == ("C0202", True)
    cid = case["id"]

    def act(token: str, verb: str, **body: Any) -> dict[str, Any]:
        r = client.post(f"{API}/cases/{cid}/{verb}", headers=bearer(token), json=body)
        assert r.status_code == 200, (verb, r.text)
        return dict(r.json())

    act(op, "file")
    case = act(op, "dispatch", note="交通局处置")
    assert case["department_id"] == "transport"
    assert case["due_at"] is not None
    assert case["warn_at"] is not None
    assert case["clock_running"] is True
    act(staff, "accept")
    case = act(admin, "supervise", note="市民反映强烈，请加快")
    assert case["supervision"] != "none"
    photo = _upload(client, staff, JPEG, "扶正后.jpg").json()
    proof = {k: photo[k] for k in ("ref", "media_type", "size", "name")}
    act(staff, "handle", note="已重新安装", attachments=[proof])
    act(grid, "verify", note="现场核查通过")
    act(op, "close")
    act(op, "follow-up", note="回访：已修好", satisfaction=5)
    case = act(op, "evaluate", satisfaction=5)
    assert case["status"] == "evaluated"
    detail = client.get(f"{API}/cases/{cid}", headers=bearer(op)).json()
    assert [s["action"] for s in detail["timeline"]] == [
        "report", "file", "dispatch", "accept", "supervise", "handle", "verify", "close",
        "follow_up", "evaluate",
    ]  # fmt: skip
    handled = detail["timeline"][5]
    assert handled["attachments"][0]["ref"] == photo["ref"]
    back = client.get(f"{API}/attachments/{photo['ref']}", headers=bearer(grid))
    assert back.content == JPEG
    kpis = client.get(f"{API}/kpis", headers=bearer(admin), params={"by": "department"}).json()
    transport = next(k for k in kpis if k["key"] == "transport")
    assert transport["evaluated"] >= 1
    assert transport["avg_satisfaction"] is not None
