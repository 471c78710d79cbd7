"""Block data over HTTP on the demo city: levels, drill-down, scope, refresh on load."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from fastapi.testclient import TestClient

from opencitybrain.catalog.model import DataType, FieldSpec
from opencitybrain.catalog.rows import ResourceRows
from tests.support import DemoCity, bearer

RID = "blocks-test-points"
FIELDS = (
    FieldSpec("id", "编号", DataType.INTEGER),
    FieldSpec("lon", "经度", DataType.DECIMAL),
    FieldSpec("lat", "纬度", DataType.DECIMAL),
    FieldSpec("kind", "类别", DataType.STRING),
    FieldSpec("amount", "金额", DataType.DECIMAL),
)


def _load(demo_city: DemoCity, n: int, seed: int) -> None:
    rows = demo_city.platform.services.get(ResourceRows)  # type: ignore[type-abstract]
    rng = np.random.default_rng(seed)
    # Around Nanchang's old town, where the grid is dense; a few points far outside.
    lon = np.round(115.85 + rng.normal(0, 0.05, n), 6)
    lat = np.round(28.68 + rng.normal(0, 0.05, n), 6)
    lon[:3] = 100.0
    table = pa.table(
        {
            "id": pa.array(np.arange(n), pa.int64()),
            "lon": pa.array(lon),
            "lat": pa.array(lat),
            "kind": pa.array(rng.choice(["井盖", "路灯", "垃圾桶"], n)),
            "amount": pa.array(rng.integers(1, 10, n).astype(float)),
        }
    )
    rows.upsert(RID, FIELDS, ["id"], table)  # type: ignore[attr-defined]


def test_levels_drill_down_and_add_up(
    client: TestClient, tokens: dict[str, str], demo_city: DemoCity
) -> None:
    _load(demo_city, 2000, 1)
    admin = bearer(tokens["admin"])
    res = client.get(f"/api/v1/blocks/{RID}", params={"level": "county"}, headers=admin)
    assert res.status_code == 200, res.text
    counties = res.json()
    assert counties["scope"] == ""
    assert counties["next_level"] == "street"
    total = sum(b["value"] for b in counties["blocks"])
    assert total + counties["unlocated"] == counties["rows"] == 2000
    assert counties["unlocated"] >= 3
    top = max(counties["blocks"], key=lambda b: b["value"])
    streets = client.get(
        f"/api/v1/blocks/{RID}", params={"level": "street", "within": top["code"]}, headers=admin
    ).json()
    assert sum(b["value"] for b in streets["blocks"]) == top["value"]
    assert streets["parent"] == ""
    grids = client.get(
        f"/api/v1/blocks/{RID}",
        params={"level": "grid", "op": "sum", "field": "amount", "by": "kind"},
        headers=admin,
    ).json()
    assert all(len(b["code"]) == 15 and b["category"] for b in grids["blocks"])
    h3 = client.get(
        f"/api/v1/blocks/{RID}", params={"level": "h3", "h3_resolution": 7}, headers=admin
    ).json()
    assert sum(b["value"] for b in h3["blocks"]) == 1997


def test_a_district_sees_its_own_area_only(
    client: TestClient, tokens: dict[str, str], demo_city: DemoCity
) -> None:
    _load(demo_city, 2000, 1)
    worker = bearer(tokens["grid-worker"])
    res = client.get(f"/api/v1/blocks/{RID}", params={"level": "county"}, headers=worker)
    assert res.status_code == 200, res.text
    body = res.json()
    scope = body["scope"]
    assert len(scope) == 6
    assert body["level"] == "street"
    assert all(b["code"].startswith(scope) for b in body["blocks"])
    other = next(c.code for c in demo_city.platform.pack.counties if c.code != scope)
    res = client.get(
        f"/api/v1/blocks/{RID}", params={"level": "street", "within": other}, headers=worker
    )
    assert res.status_code == 403
    assert client.get(f"/api/v1/blocks/{RID}", headers=bearer(tokens["citizen"])).status_code == 403


def test_a_new_load_refreshes_the_cached_blocks(
    client: TestClient, tokens: dict[str, str], demo_city: DemoCity
) -> None:
    _load(demo_city, 2000, 1)
    admin = bearer(tokens["admin"])
    first = client.get(f"/api/v1/blocks/{RID}", headers=admin).json()
    again = client.get(f"/api/v1/blocks/{RID}", headers=admin).json()
    assert again["cached"] is True
    _load(demo_city, 2500, 2)  # 500 more rows, the first 2000 moved
    fresh = client.get(f"/api/v1/blocks/{RID}", headers=admin).json()
    assert fresh["cached"] is False
    assert fresh["version"] != first["version"]
    assert fresh["rows"] == 2500


def test_unknown_resources_and_bad_questions(client: TestClient, tokens: dict[str, str]) -> None:
    admin = bearer(tokens["admin"])
    empty = client.get("/api/v1/blocks/no-rows-yet", headers=admin)
    assert empty.status_code == 200
    assert (empty.json()["rows"], empty.json()["blocks"]) == (0, [])
    bad = client.get(
        f"/api/v1/blocks/{RID}", params={"level": "county", "within": "360102"}, headers=admin
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "blocks.bad_drill"
