"""The registry over HTTP on the demo city: masked lookups, explanations, review, counts."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest
from fastapi.testclient import TestClient

from opencitybrain.registry.model import SourceSpec
from opencitybrain.registry.service import RegistryService
from opencitybrain.sim.population import PEOPLE_TABLES, PopulationSpec, generate, nanchang_like
from tests.support import DemoCity, bearer


@pytest.fixture(scope="module")
def built(demo_city: DemoCity) -> RegistryService:
    population = generate(nanchang_like(), PopulationSpec(people=600, companies=60, vehicles=300))
    inputs = [
        (SourceSpec.from_mapping(s.as_source()), population.tables[s.source]) for s in PEOPLE_TABLES
    ]
    service = demo_city.platform.services.get(RegistryService)
    report = service.build("people", inputs)
    assert report.reconciles
    return service


def test_lookup_masks_for_staff_and_lists_sources(
    client: TestClient, tokens: dict[str, str], built: RegistryService
) -> None:
    build = built.files.current("people")
    assert build is not None
    some = build.golden["golden_id"][0].as_py()
    res = client.get(f"/api/v1/registry/people/records/{some}", headers=bearer(tokens["operator"]))
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["record"]["golden_id"] != some
    assert body["record"]["golden_id"].startswith(some[0])
    assert "*" in body["record"]["name"]
    assert body["records"]
    assert all(r["status"] == "linked" for r in body["records"])
    citizen = client.get(
        f"/api/v1/registry/people/records/{some}", headers=bearer(tokens["citizen"])
    )
    assert citizen.status_code == 403
    missing = client.get("/api/v1/registry/people/records/X", headers=bearer(tokens["operator"]))
    assert missing.status_code == 404


def test_counts_reconcile_and_leftovers_are_listed(
    client: TestClient, tokens: dict[str, str], built: RegistryService
) -> None:
    counts = client.get("/api/v1/registry/people/counts", headers=bearer(tokens["operator"])).json()
    assert counts["reconciles"] is True
    assert counts["rows_in"] == counts["linked"] + counts["quarantined"] + counts["unmatched"]
    left = client.get(
        "/api/v1/registry/people/leftovers", params={"status": "unmatched"},
        headers=bearer(tokens["operator"]),
    ).json()  # fmt: skip
    assert left["total"] == counts["unmatched"]


def test_explain_and_resolve_a_conflict(
    client: TestClient, tokens: dict[str, str], built: RegistryService
) -> None:
    build = built.files.current("people")
    assert build is not None
    links = build.links
    near = links.filter(pc.equal(links["rule"], "probabilistic"))
    row = (near if near.num_rows else links).slice(0, 1).to_pylist()[0]
    anchor = (
        links.filter(
            pc.and_(
                pc.equal(links["golden_id"], row["golden_id"]), pc.equal(links["rule"], "id_exact")
            )
        )
        .slice(0, 1)
        .to_pylist()[0]
    )
    why = client.get(
        "/api/v1/registry/people/explain",
        params={"a_source": anchor["source"], "a_key": anchor["record_key"],
                "b_source": row["source"], "b_key": row["record_key"]},
        headers=bearer(tokens["operator"]),
    )  # fmt: skip
    assert why.status_code == 200, why.text
    assert why.json()["same_golden_record"] is True
    assert "同一主档" in why.json()["why"]

    admin, operator = bearer(tokens["admin"]), bearer(tokens["operator"])
    queue = client.get("/api/v1/registry/people/review", headers=admin).json()
    assert queue["total"] > 0
    item = queue["items"][0]
    # Other departments see the queue masked as the golden records are (no grant).
    seen = client.get("/api/v1/registry/people/review", headers=operator).json()["items"][0]
    assert seen["golden_id"] != item["golden_id"]
    assert seen["golden_id"][0] == item["golden_id"][0]
    pick = next(o["value"] for o in item["options"] if not o["chosen"])
    body = {"value": pick, "reason": "户籍窗口核实 / checked at the register"}
    url = f"/api/v1/registry/people/review/{item['id']}/resolve"
    assert client.post(url, json=body, headers=operator).status_code == 403
    done = client.post(url, json=body, headers=admin)
    assert done.status_code == 200, done.text
    assert done.json()["decision"]["decided_by"]
    resolved = client.get(
        "/api/v1/registry/people/review", params={"status": "resolved"}, headers=admin
    ).json()
    assert item["id"] in {i["id"] for i in resolved["items"]}
    bad = client.post(url, json={"value": "不在其中", "reason": "x"}, headers=admin)
    assert bad.status_code == 400
