"""Open data releases over HTTP: the provider releases, anyone reads, nothing identifies."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from opencitybrain.catalog.model import (
    Classification,
    DataType,
    FieldSpec,
    Level,
    Masking,
    OpenType,
)
from opencitybrain.catalog.rows import ResourceRows
from opencitybrain.catalog.service import CatalogService
from opencitybrain.kernel.events import Context
from tests.support import DemoCity, bearer
from tests.unit.catalog.samples import spec

FIELDS = (
    FieldSpec("record_id", "记录编号", DataType.STRING, is_identifier=True),
    FieldSpec("name", "姓名", DataType.STRING, Level.IMPORTANT, Masking.NAME),
    FieldSpec("id_number", "公民身份号码", DataType.CITIZEN_ID, Level.CORE, Masking.ID_NUMBER,
              is_identifier=True),
    FieldSpec("birth_date", "出生日期", DataType.DATE),
    FieldSpec("county", "区县代码", DataType.STRING),
    FieldSpec("sex", "性别", DataType.STRING),
    FieldSpec("diagnosis", "诊断", DataType.STRING),
    FieldSpec("cost", "费用", DataType.DECIMAL),
)  # fmt: skip
N = 400
IDENTIFYING = ("record_id", "name", "id_number")


def _rows() -> list[dict[str, Any]]:
    rng = np.random.default_rng(11)
    counties = ["360102", "360103", "360104", "360111", "360121"]
    return [
        {
            "record_id": f"R{i:05d}", "name": f"病人{i:05d}号",
            "id_number": f"36010219{60 + i % 40:02d}0101{i:03d}X"[:18],
            "birth_date": date(1940 + int(rng.integers(0, 60)), 1 + i % 12, 1 + i % 28),
            "county": counties[int(rng.integers(0, 5))], "sex": "男" if i % 2 else "女",
            "diagnosis": ["高血压", "糖尿病", "哮喘"][i % 3], "cost": float(rng.uniform(0, 5000)),
        }
        for i in range(N)
    ]  # fmt: skip


ROWS = _rows()


@pytest.fixture(scope="module")
def resource_id(demo_city: DemoCity, client: TestClient) -> str:
    catalog = demo_city.platform.services.get(CatalogService)
    s = spec(fields=FIELDS, department_id="health", name_zh="慢病随访开放样本",
             name_en="Chronic disease follow-up sample", open_type=OpenType.CONDITIONAL,
             open_condition="仅用于科研与公共卫生统计")  # fmt: skip
    s = replace(s, classification=Classification("3", "09", "009", "771"))
    r = client.portal.call(catalog.publish, Context.system("test"), s)  # type: ignore[union-attr]
    rows = demo_city.platform.services.get(ResourceRows)  # type: ignore[type-abstract]
    rows.upsert(r.id, FIELDS, ("record_id",), pa.Table.from_pylist(ROWS))  # type: ignore[attr-defined]
    return str(r.id)


def _post(client: TestClient, tokens: dict[str, str], rid: str, user: str = "health-staff",
          **body: Any) -> Any:  # fmt: skip
    return client.post(f"/api/v1/sharing/resources/{rid}/releases", json=body,
                       headers=bearer(tokens[user]))  # fmt: skip


def test_a_k_anonymous_release_holds_no_identifier_and_every_class_has_k_rows(
    client: TestClient, tokens: dict[str, str], resource_id: str
) -> None:
    res = _post(client, tokens, resource_id, title="慢病随访 k=5", mode="k_anonymity", k=5,
                qi=["birth_date", "county", "sex"], fields=["diagnosis"])  # fmt: skip
    assert res.status_code == 201, res.text
    rel = res.json()
    assert rel["params"]["k"] == 5
    assert rel["params"]["qi"] == ["birth_date", "county", "sex"]
    out = rel["outcome"]
    assert out["k_achieved"] >= 5
    assert out["suppressed"] + out["released"] == N
    assert out["suppressed"] <= 0.05 * N
    # Public: no credentials at all.
    listed = client.get("/api/v1/open/releases")
    assert listed.status_code == 200
    assert rel["id"] in [r["id"] for r in listed.json()]
    page = client.get(f"/api/v1/open/releases/{rel['id']}", params={"limit": 1000})
    assert page.status_code == 200, page.text
    doc = page.json()
    assert doc["row_count"] == out["released"] == len(doc["rows"])
    assert set(doc["columns"]) == {"birth_date", "county", "sex", "diagnosis"}
    assert not set(doc["columns"]) & set(IDENTIFYING)
    combos = Counter((r["birth_date"], r["county"], r["sex"]) for r in doc["rows"])
    assert min(combos.values()) >= 5
    body = page.text
    for row in ROWS:  # no identifying value anywhere in the body
        assert row["id_number"] not in body
        assert row["name"] not in body
        assert row["record_id"] not in body
    text = client.get(f"/api/v1/open/releases/{rel['id']}/rows.csv")
    assert text.status_code == 200
    assert text.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(text.text.lstrip("\ufeff"))))
    assert table[0] == doc["columns"]
    assert len(table) == 1 + out["released"]


def test_a_dp_release_records_epsilon_and_bounds(
    client: TestClient, tokens: dict[str, str], resource_id: str
) -> None:
    res = _post(client, tokens, resource_id, title="慢病费用（差分隐私）", mode="dp", epsilon=1.0,
                group_by="diagnosis", value_field="cost", lower=0, upper=5000)  # fmt: skip
    assert res.status_code == 201, res.text
    rel = res.json()
    assert rel["params"]["epsilon"] == 1.0
    assert rel["params"]["upper"] == 5000
    assert rel["outcome"]["epsilon_spent"] == pytest.approx(1.0)
    assert {q["query"] for q in rel["outcome"]["queries"]} >= {"count", "count by diagnosis"}
    assert "input_rows" not in rel["outcome"]  # the exact count is not published
    doc = client.get(f"/api/v1/open/releases/{rel['id']}").json()
    groups = {r["group"]: r for r in doc["rows"]}
    assert {"高血压", "糖尿病", "哮喘"} <= set(groups)
    assert (
        abs(sum(r["count"] for g, r in groups.items() if g in ("高血压", "糖尿病", "哮喘")) - N)
        < 200
    )


@pytest.mark.parametrize(
    ("body", "code", "where"),
    [
        ({"mode": "k_anonymity", "k": 1, "qi": ["county"]}, "release.bad_k", "k"),
        ({"mode": "k_anonymity", "k": 5, "qi": ["id_number"]}, "release.identifier", "qi"),
        ({"mode": "k_anonymity", "k": 5, "qi": ["record_id"]}, "release.identifier", "qi"),
        ({"mode": "k_anonymity", "k": 5, "qi": ["height"]}, "release.unknown_field", "qi"),
        ({"mode": "dp", "epsilon": 0}, "release.bad_epsilon", "epsilon"),
        ({"mode": "dp", "epsilon": 11}, "release.bad_epsilon", "epsilon"),
        ({"mode": "dp", "epsilon": 1, "value_field": "cost", "lower": 9, "upper": 1},
         "release.bad_bounds", "lower"),
    ],
)  # fmt: skip
def test_bad_parameters_are_refused_as_problems_and_audited(
    client: TestClient, tokens: dict[str, str], resource_id: str, body: dict[str, Any],
    code: str, where: str,
) -> None:  # fmt: skip
    res = _post(client, tokens, resource_id, title="坏参数", **body)
    assert res.status_code == 400, res.text
    assert res.headers["content-type"].startswith("application/problem+json")
    problem = res.json()
    assert problem["code"] == code
    assert problem["errors"][0]["field"] == where
    audit = client.get("/api/v1/sharing/audit", params={"resource_id": resource_id, "limit": 5},
                       headers=bearer(tokens["admin"])).json()  # fmt: skip
    assert audit[0]["kind"] == "release_refused"
    assert code in audit[0]["detail"]


def test_only_the_provider_releases(
    client: TestClient, tokens: dict[str, str], resource_id: str
) -> None:
    body = {"title": "越权", "mode": "dp", "epsilon": 1.0}
    assert _post(client, tokens, resource_id, "transport-staff", **body).status_code == 403
    assert _post(client, tokens, resource_id, "citizen", **body).status_code == 403
    anon = client.post(f"/api/v1/sharing/resources/{resource_id}/releases", json=body)
    assert anon.status_code == 401
    assert client.get("/api/v1/open/releases/nope").status_code == 404
