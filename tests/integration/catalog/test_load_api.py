"""Loads over HTTP on the demo city (SQLite): upload CSV, XLSX and JSON lines, a SQL
connector, reports and quarantine, who may do what, and problem+json refusals."""

from __future__ import annotations

import io
import json
import sqlite3

import openpyxl  # type: ignore[import-untyped]
import pytest
from fastapi.testclient import TestClient

from opencitybrain.catalog import api_loads
from opencitybrain.catalog.rows import ResourceRows
from tests.support import DemoCity, bearer

BASE = "/api/v1/catalog/resources"
GOOD_USCC = "91110000600037341L"
HEADER = "plate,permit_no,uscc,name,mobile\n"


@pytest.fixture(scope="module")
def vehicles(client: TestClient, tokens: dict[str, str]) -> str:
    """Return the id of the transport bureau's ride-hailing vehicles resource."""
    res = client.get(
        BASE, params={"q": "网约车运营车辆"}, headers=bearer(tokens["transport-staff"])
    )
    hits = [h for h in res.json()["items"] if h["resource"]["department_id"] == "transport"]
    return str(hits[0]["resource"]["id"])


def upload(client: TestClient, token: str, ref: str, name: str, data: bytes, **form: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"{BASE}/{ref}/loads", headers=bearer(token), files={"file": (name, data)}, data=form
    )


def test_upload_csv_reports_and_quarantines(
    client: TestClient, tokens: dict[str, str], vehicles: str, demo_city: DemoCity
) -> None:
    staff = tokens["transport-staff"]
    data = (HEADER + f"赣A12345,P1,{GOOD_USCC},张三,13800000000\n"
            f"赣AO1234,P2,{GOOD_USCC},李四,13800000001\n"
            f"赣AD12345,P3,{GOOD_USCC},王五,138\n").encode()  # fmt: skip
    res = upload(client, staff, vehicles, "v.csv", data)
    assert res.status_code == 201, res.text
    report = res.json()
    assert (report["rows_in"], report["landed"], report["quarantined"]) == (3, 1, 2)
    assert report["summary"].startswith("读入 3 行")
    assert set(report) & {"rows", "data"} == set()  # a report, never the rows
    again = upload(client, staff, vehicles, "v.csv", data).json()
    assert (again["inserted"], again["unchanged"]) == (0, 1)
    listed = client.get(f"{BASE}/{vehicles}/loads", headers=bearer(staff)).json()
    assert [r["id"] for r in listed[:2]] == [again["id"], report["id"]]
    q = client.get(f"{BASE}/{vehicles}/loads/{report['id']}/quarantine", headers=bearer(staff))
    assert q.status_code == 200
    assert [(r["row"], r["field"]) for r in q.json()["rows"]] == [(2, "plate"), (3, "mobile")]
    rows = demo_city.platform.services.get(ResourceRows)  # type: ignore[type-abstract]
    assert rows.read(vehicles, columns=["plate", "mobile"]).rows[0]["plate"] == "赣A12345"


def test_who_sees_what(client: TestClient, tokens: dict[str, str], vehicles: str) -> None:
    data = (HEADER + f"赣B12345,P9,{GOOD_USCC},赵六,13800000009\n").encode()
    report = upload(client, tokens["transport-staff"], vehicles, "v.csv", data).json()
    quarantine = f"{BASE}/{vehicles}/loads/{report['id']}/quarantine"
    for user in ("health-staff", "admin"):
        res = upload(client, tokens[user], vehicles, "v.csv", data)
        assert res.status_code == 403, res.text
        assert res.headers["content-type"].startswith("application/problem+json")
        assert client.get(quarantine, headers=bearer(tokens[user])).status_code == 403
    assert (
        client.get(f"{BASE}/{vehicles}/loads", headers=bearer(tokens["admin"])).status_code == 200
    )
    assert (
        client.get(f"{BASE}/{vehicles}/loads", headers=bearer(tokens["health-staff"])).status_code
        == 403
    )
    assert upload(client, tokens["citizen"], vehicles, "v.csv", data).status_code == 403
    assert (
        client.get(f"{BASE}/{vehicles}/loads/nope", headers=bearer(tokens["admin"])).status_code
        == 404
    )


def test_upload_xlsx_and_jsonl(client: TestClient, tokens: dict[str, str], vehicles: str) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "车辆"
    sheet.append(["号牌号码", "道路运输证号", "统一社会信用代码", "姓名", "联系电话"])
    sheet.append(["赣C12345", "X1", GOOD_USCC, "钱七", 13912345678])
    buf = io.BytesIO()
    book.save(buf)
    res = upload(
        client, tokens["transport-staff"], vehicles, "v.xlsx", buf.getvalue(), sheet="车辆"
    )
    assert res.status_code == 201, res.text
    assert (res.json()["landed"], res.json()["quarantined"]) == (1, 0)
    lines = "\n".join(
        [json.dumps({"plate": "赣C54321", "uscc": GOOD_USCC, "mobile": "13700000000"}), "oops"]
    ).encode()
    res = upload(client, tokens["transport-staff"], vehicles, "v.jsonl", lines)
    assert (res.json()["inserted"], res.json()["quarantined"]) == (1, 1)


def test_sql_connector_load(
    client: TestClient, tokens: dict[str, str], vehicles: str, demo_city: DemoCity
) -> None:
    folder = demo_city.platform.settings.data_dir / "connectors"
    folder.mkdir(exist_ok=True)
    with sqlite3.connect(folder / "transport.db") as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS cars (hphm TEXT, sjhm TEXT, dm TEXT)")
        conn.execute("DELETE FROM cars")
        conn.execute("INSERT INTO cars VALUES ('赣D12345', '13600000000', ?)", (GOOD_USCC,))
    body = {
        "url": f"sqlite:///{folder / 'transport.db'}",
        "query": "SELECT hphm, sjhm, dm AS uscc FROM cars",
        "mapping": {"hphm": "plate", "sjhm": "mobile"},
    }
    res = client.post(
        f"{BASE}/{vehicles}/loads/sql", json=body, headers=bearer(tokens["transport-staff"])
    )
    assert res.status_code == 201, res.text
    assert res.json()["format"] == "sql"
    assert res.json()["landed"] == 1
    body["url"] = f"sqlite:///{demo_city.platform.settings.data_dir / 'citybrain.db'}"
    res = client.post(
        f"{BASE}/{vehicles}/loads/sql", json=body, headers=bearer(tokens["transport-staff"])
    )
    assert res.status_code == 403
    assert res.json()["code"] == "catalog.connector_forbidden"


def test_refusals_are_problems(
    client: TestClient, tokens: dict[str, str], vehicles: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff = tokens["transport-staff"]
    res = upload(client, staff, vehicles, "v.exe", b"MZ")
    assert res.status_code == 400
    assert res.json()["code"] == "catalog.load_format"
    res = upload(client, staff, vehicles, "v.csv", b"plate\n", key="nope")
    assert res.status_code == 400
    assert res.json()["code"] == "catalog.bad_key"
    res = upload(client, staff, vehicles, "v.csv", b"x,y\n1,2\n")
    assert res.status_code == 400
    assert res.json()["code"] == "catalog.load_no_key_column"
    res = upload(client, staff, vehicles, "v.csv", b"plate\n", mapping="[1]")
    assert res.status_code == 400
    assert res.json()["code"] == "catalog.bad_mapping"
    monkeypatch.setattr(api_loads, "MAX_UPLOAD_BYTES", 10)
    res = upload(client, staff, vehicles, "v.csv", b"plate\n" + b"x" * 100)
    assert res.status_code == 413
    assert res.json()["code"] == "catalog.load_too_large"
    res = upload(client, staff, "nope-000001", "v.csv", b"plate\n")
    assert res.status_code == 404
