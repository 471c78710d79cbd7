"""Golden records through the sharing layer: the bureau's resources, grants, masking, audit.

On the demo city: a department without a grant sees a masked golden record; it asks for
the people registry's fields, the bureau approves, and with the grant's purpose it sees
the cleared fields in clear through the registry lookup and the governed rows route
alike; a revoked grant masks again; every lookup leaves an audit record whose hash is of
the body the caller received.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from fastapi.testclient import TestClient

from opencitybrain.catalog.service import CatalogService
from opencitybrain.kernel.events import Context
from opencitybrain.registry.model import SourceSpec
from opencitybrain.registry.resources import RESOURCE_FIELDS
from opencitybrain.registry.service import RegistryService
from opencitybrain.sharing.audit import canonical
from opencitybrain.sim.population import PEOPLE_TABLES, PopulationSpec, generate, nanchang_like
from tests.support import DemoCity, bearer

PURPOSE = "低保资格核验"
FIELDS = ["golden_id", "name", "birth_date", "address"]
CLEAR = ["golden_id", "name"]


def _inputs(people: int) -> list[tuple[SourceSpec, pa.Table]]:
    population = generate(nanchang_like(), PopulationSpec(people=people, companies=10, vehicles=50))
    return [
        (SourceSpec.from_mapping(s.as_source()), population.tables[s.source]) for s in PEOPLE_TABLES
    ]


@pytest.fixture(scope="module")
def registry(client: TestClient, demo_city: DemoCity) -> RegistryService:
    service = demo_city.platform.services.get(RegistryService)
    assert service.shelf is not None
    client.portal.call(service.shelf.ensure)  # type: ignore[union-attr]  # started: published
    report = service.build("people", _inputs(300))
    assert report.reconciles
    return service


def _someone(service: RegistryService) -> dict[str, Any]:
    build = service.files.current("people")
    assert build is not None
    rows = build.golden.filter(pc.greater_equal(pc.utf8_length(build.golden["name"]), 2))
    found: dict[str, Any] = rows.slice(0, 1).to_pylist()[0]
    return found


def _lookup(client: TestClient, token: str, code: str, purpose: str | None = PURPOSE) -> Any:
    headers = bearer(token) | ({"X-Purpose": quote(purpose)} if purpose else {})
    res = client.get(f"/api/v1/registry/people/records/{code}", headers=headers)
    assert res.status_code == 200, res.text
    return res


def _audit(client: TestClient, tokens: dict[str, str], resource_id: str) -> list[dict[str, Any]]:
    res = client.get("/api/v1/sharing/audit", params={"resource_id": resource_id, "limit": 20},
                     headers=bearer(tokens["admin"]))  # fmt: skip
    assert res.status_code == 200, res.text
    records: list[dict[str, Any]] = res.json()
    return records


def test_the_registries_are_the_bureaus_conditional_resources(
    client: TestClient, registry: RegistryService
) -> None:
    assert registry.shelf is not None
    catalog = registry.shelf.catalog
    for kind in ("people", "companies", "vehicles"):
        rid = registry.shelf.resource_id(kind)
        assert rid is not None
        resource = catalog.get(Context.system("test"), rid)
        assert resource.department_id == "bureau"
        assert resource.spec.sharing_type.value == "conditional"
        assert [f.name for f in resource.spec.fields] == [f.name for f in RESOURCE_FIELDS[kind]]
    people = catalog.get(Context.system("test"), registry.shelf.resource_id("people") or "")
    assert "一人一档" in people.spec.name_zh
    levels = {f.name: (f.level.value, f.masking.value) for f in people.spec.fields}
    assert levels["golden_id"] == ("core", "id_number")
    assert levels["name"] == ("important", "name")
    assert isinstance(catalog, CatalogService)


def test_a_grant_clears_fields_on_both_read_paths_until_revoked(
    client: TestClient, tokens: dict[str, str], registry: RegistryService
) -> None:
    assert registry.shelf is not None
    rid = registry.shelf.resource_id("people")
    assert rid is not None
    person = _someone(registry)
    code, name = person["golden_id"], person["name"]
    staff = tokens["transport-staff"]

    # No grant: masked, and audited with no grant.
    before = _lookup(client, staff, code)
    record = before.json()["record"]
    assert record["golden_id"] != code
    assert record["name"] != name
    assert record["name"].startswith(name[0])
    assert "*" in record["name"]
    last = _audit(client, tokens, rid)[0]
    assert (last["kind"], last["subject"], last["row_count"]) == ("read", "", 1)
    assert "golden_id" in last["fields"].split(",")
    assert '"via":"registry"' in last["detail"]
    assert last["department"] == "transport"
    assert last["result_hash"] == hashlib.sha256(canonical(before.json()).encode()).hexdigest()
    rows_url = f"/api/v1/sharing/resources/{rid}/rows"
    refused = client.get(rows_url, headers=bearer(staff) | {"X-Purpose": quote(PURPOSE)})
    assert refused.status_code == 403

    # Ask, the bureau approves (clearing the ID number, a core field, is the bureau's call).
    body = {"resource_id": rid, "fields": FIELDS, "purpose": PURPOSE, "scenario": "低保一件事",
            "ends_at": "2099-01-01T00:00:00Z", "clear_fields": CLEAR,
            "clear_reason": "核对申请人身份 / check the applicant"}  # fmt: skip
    req = client.post("/api/v1/sharing/requests", json=body, headers=bearer(staff))
    assert req.status_code == 201, req.text
    admin = bearer(tokens["admin"])
    approve = f"/api/v1/sharing/requests/{req.json()['id']}/approve"
    ok = client.post(approve, json={"reason": "同意 / approved"}, headers=admin)
    assert ok.status_code == 200, ok.text
    grant_id = ok.json()["grant_id"]
    assert grant_id

    # With the grant's purpose: the cleared fields in clear, the others masked.
    after = _lookup(client, staff, code)
    shown = after.json()["record"]
    assert (shown["golden_id"], shown["name"]) == (code, name)
    if person["address"]:
        assert shown["address"] != person["address"]
        assert shown["address"].endswith("*")
    last = _audit(client, tokens, rid)[0]
    assert last["subject"] == grant_id
    assert last["result_hash"] == hashlib.sha256(canonical(after.json()).encode()).hexdigest()
    # Another purpose, or none, is not the grant's: masked.
    assert _lookup(client, staff, code, "别的用途").json()["record"]["name"] != name
    assert _lookup(client, staff, code, None).json()["record"]["name"] != name

    # The governed rows route: the same grant, the same masking.
    res = client.get(rows_url, params={"grant": grant_id, "filter": f"golden_id:eq:{code}"},
                     headers=bearer(staff) | {"X-Purpose": quote(PURPOSE)})  # fmt: skip
    assert res.status_code == 200, res.text
    [row] = res.json()["rows"]
    assert (row["golden_id"], row["name"]) == (code, name)
    assert set(row) == set(FIELDS)
    if person["address"]:
        assert row["address"] == shown["address"]

    # Revoked: masked again on both paths.
    revoke = f"/api/v1/sharing/grants/{grant_id}/revoke"
    gone = client.post(revoke, json={"reason": "业务办结 / done"}, headers=admin)
    assert gone.status_code == 200, gone.text
    again = _lookup(client, staff, code).json()["record"]
    assert again["name"] != name
    assert again["golden_id"] != code
    assert _audit(client, tokens, rid)[0]["subject"] == ""
    res = client.get(rows_url, params={"grant": grant_id},
                     headers=bearer(staff) | {"X-Purpose": quote(PURPOSE)})  # fmt: skip
    assert res.status_code == 403


def test_the_bureau_sees_its_records_in_clear_others_masked(
    client: TestClient, tokens: dict[str, str], registry: RegistryService
) -> None:
    person = _someone(registry)
    code, name = person["golden_id"], person["name"]
    own = _lookup(client, tokens["admin"], code, None).json()["record"]
    assert (own["golden_id"], own["name"]) == (code, name)
    operator = _lookup(client, tokens["operator"], code).json()["record"]
    assert operator["name"] != name


def test_a_rebuild_retires_records_it_no_longer_has(
    client: TestClient, tokens: dict[str, str], registry: RegistryService
) -> None:
    assert registry.shelf is not None
    rid = registry.shelf.resource_id("people")
    inputs = _inputs(300)
    assert inputs[0][0].source == "public-security/czrk"
    # Build again without the household register: people only it knew drop out.
    report = registry.build("people", inputs[1:])
    assert report.changes.removed
    assert registry.shelf.shared_build("people") == report.number
    gone = report.changes.removed[0]
    url = f"/api/v1/sharing/resources/{rid}/rows"
    res = client.get(url, params={"filter": f"golden_id:eq:{gone}"},
                     headers=bearer(tokens["admin"]))  # fmt: skip
    assert res.status_code == 200, res.text
    [row] = res.json()["rows"]
    assert row["current"] is False
    assert row["name"] is None
    assert row["address"] is None
    registry.build("people", inputs)  # back as it was, for the other tests
