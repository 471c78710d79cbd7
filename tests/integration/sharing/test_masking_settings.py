"""A city's own masking rules ([sharing.masking] in citybrain.toml) on the HTTP rows route."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from opencitybrain.bootstrap import Platform, build_platform
from opencitybrain.catalog.model import Masking
from opencitybrain.catalog.rows import ResourceRows
from opencitybrain.catalog.service import CatalogService
from opencitybrain.kernel.events import Context
from opencitybrain.kernel.settings import Settings
from opencitybrain.sharing.access import GovernedReader
from opencitybrain.sharing.masking import DEFAULT_RULES, MaskPolicy, policy_from_settings
from opencitybrain.sim.demo_org import DemoCounty, seed_demo_org
from tests.integration.sharing.support import FIELDS, ROWS
from tests.support import bearer
from tests.unit.catalog.samples import spec

CONFIG = """
[sharing.masking]
char = "#"
id_number = {keep_first = 6, keep_last = 4}
address = {hide_last = 6}
mobile = {keep_first = 3, keep_last = 2, char = "*"}
"""
PURPOSE = "居民健康随访"


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Platform, dict[str, str]]]:
    """Build a platform whose settings come from a citybrain.toml with the city's rules."""
    folder = tmp_path_factory.mktemp("masking-city")
    (folder / "citybrain.toml").write_text(CONFIG, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CITYBRAIN_CONFIG", str(folder / "citybrain.toml"))
        settings = Settings(data_dir=folder / "data", clock="simulated")
    platform = asyncio.run(build_platform(settings))
    m = platform.pack.manifest
    counties = [DemoCounty(c.code, c.name_zh, c.name_en) for c in platform.city.counties()]
    created = seed_demo_org(platform.accounts, m.city_code, m.name_zh, m.name_en, counties)
    yield platform, {c.username: c.secret for c in created if c.kind == "password"}
    platform.engine.dispose()


def test_settings_read_the_table() -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CITYBRAIN_SHARING__MASKING", '{"id_number": {"keep_first": 6, "keep_last": 4}}')
        stated = Settings().sharing.masking
    assert stated.char == "*"
    assert stated.rules["id_number"].keep_first == 6
    policy = policy_from_settings(stated)
    assert policy.mask(Masking.ID_NUMBER, "36010219770701123X") == "360102********123X"
    assert policy.rules[Masking.NAME] == DEFAULT_RULES[Masking.NAME]  # not named: customary


@pytest.mark.parametrize(
    ("masking", "where"),
    [
        ({"id_number": {"keep_first": -1}}, "sharing.masking.id_number.keep_first"),
        ({"address": {"hide_last": 0}}, "sharing.masking.address.hide_last"),
        ({"address": {"hide_last": 4, "keep_first": 1}}, "sharing.masking.address"),
        ({"mobile": {"keep_frist": 3}}, "sharing.masking.mobile.keep_frist"),
        ({"char": "##"}, "sharing.masking.char"),
        ({"name": 3}, "sharing.masking.name"),
    ],
)
def test_bad_rules_are_refused_naming_the_key(masking: dict[str, object], where: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Settings(sharing={"masking": masking})  # type: ignore[arg-type]
    assert where in str(exc.value)


def test_an_unknown_masking_type_is_refused_at_start(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, sharing={"masking": {"passport": {"keep_first": 2}}})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"sharing\.masking\.passport: .*unknown masking type"):
        asyncio.run(build_platform(settings))


def test_rows_are_masked_by_the_city_rules_over_http(
    city: tuple[Platform, dict[str, str]],
) -> None:
    platform, passwords = city
    policy = platform.services.get(MaskPolicy)
    assert platform.services.get(GovernedReader).policy is policy
    catalog = platform.services.get(CatalogService)
    with TestClient(platform.app(serve_cockpit=False)) as client:
        s = spec(fields=FIELDS, department_id="health", name_zh="健康随访人员（脱敏规则）",
                 name_en="Health follow-up (masking rules)")  # fmt: skip
        resource = client.portal.call(catalog.publish, Context.system("test"), s)  # type: ignore[union-attr]
        rows = platform.services.get(ResourceRows)  # type: ignore[type-abstract]
        rows.upsert(resource.id, FIELDS, ("record_id",), pa.Table.from_pylist(ROWS))  # type: ignore[attr-defined]
        tokens = {}
        for user in ("health-staff", "transport-staff"):
            form = {"grant_type": "password", "username": user, "password": passwords[user]}
            res = client.post("/api/v1/auth/token", data=form)
            tokens[user] = bearer(res.json()["access_token"])
        body = {
            "resource_id": resource.id, "fields": ["record_id", "id_number", "mobile", "address"],
            "purpose": PURPOSE, "scenario": "masking rules", "ends_at": "2099-01-01T00:00:00Z",
        }  # fmt: skip
        req = client.post("/api/v1/sharing/requests", json=body, headers=tokens["transport-staff"])
        assert req.status_code == 201, req.text
        res = client.post(f"/api/v1/sharing/requests/{req.json()['id']}/approve",
                          json={"reason": "同意"}, headers=tokens["health-staff"])  # fmt: skip
        assert res.status_code == 200, res.text
        page = client.get(
            f"/api/v1/sharing/resources/{resource.id}/rows",
            params={"grant": res.json()["grant_id"], "limit": 2, "purpose": PURPOSE},
            headers=tokens["transport-staff"],
        )
    assert page.status_code == 200, page.text
    first = page.json()["rows"][0]
    clear = ROWS[0]
    assert first["record_id"] == clear["record_id"]
    # id_number: first 6 and last 4 kept, "#" from the table's char.
    assert first["id_number"] == "360102########123X"
    # address: the last 6 hidden (the customary rule hides 8).
    address = str(clear["address"])
    assert first["address"] == address[:-6] + "######"
    # mobile: its own char, first 3 and last 2.
    assert first["mobile"] == "135" + "*" * 6 + "00"
    assert policy.rules[Masking.NAME].char == "#"  # the table's char reaches untouched rules
