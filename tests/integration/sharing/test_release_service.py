"""The release service on each SQL engine: stored, listed, audited, refused if not the provider."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from opencitybrain.catalog.model import OpenType
from opencitybrain.kernel.errors import Forbidden, InvalidInput, NotFound
from opencitybrain.kernel.events import Context
from opencitybrain.sharing.release_model import DpSpec, KAnonSpec, ReleaseMode, ReleaseSpec
from opencitybrain.sharing.release_service import ReleaseService
from opencitybrain.sharing.release_store import ParquetReleaseFiles, SqlReleaseStore
from tests.integration.sharing.conftest import POLICE, TRANSPORT, World

CONDITION = "仅用于人口统计研究"


@pytest.fixture
def releases(world: World, engine: sa.Engine, tmp_path: Path) -> ReleaseService:
    # The 有条件共享 resource is opened on a condition (有条件开放); the others stay 不予开放.
    opened = replace(world.conditional.spec, open_type=OpenType.CONDITIONAL,
                     open_condition=CONDITION)  # fmt: skip
    asyncio.run(world.catalog.revise(POLICE, world.conditional.id, opened))
    store = SqlReleaseStore(engine)
    files = ParquetReleaseFiles(tmp_path / "releases")
    return ReleaseService(world.catalog, world.rows, store, files, world.trail, world.clock,
                          world.bus)  # fmt: skip


def _kanon(world: World, k: int = 2) -> ReleaseSpec:
    return ReleaseSpec(world.conditional.id, "人口 k=2", ReleaseMode.K_ANONYMITY,
                       kanon=KAnonSpec(("district", "age"), k, 0.5))  # fmt: skip


def test_a_release_is_stored_listed_read_and_audited(
    world: World, releases: ReleaseService
) -> None:
    r = asyncio.run(releases.release(POLICE, _kanon(world)))
    assert r.department_id == "public-security"
    assert r.params["qi"] == ["district", "age"]
    assert r.extra == {"open_type": "conditional", "open_condition": CONDITION}
    assert int(str(r.outcome["k_achieved"])) >= 2
    assert releases.get(r.id) == r
    assert [x.id for x in releases.releases()] == [r.id]
    got, rows = releases.page(r.id, 0, 100)
    assert got == r
    assert len(rows) == r.row_count == r.outcome["released"]
    combos = Counter((row["district"], row["age"]) for row in rows)
    assert all(n >= 2 for n in combos.values())
    assert releases.csv(r.id)[1].splitlines()[0] == "district,age"
    kinds = [rec.kind for rec in world.trail.recent(Context.system("t"), 5)]
    assert kinds[0] == "released"
    assert world.bus.events[-1].type == "city.sharing.release.published"
    assert world.trail.verify_all().ok


def test_dp_release_round_trips_its_parameters(world: World, releases: ReleaseService) -> None:
    spec = ReleaseSpec(world.conditional.id, "年龄（差分隐私）", ReleaseMode.DP,
                       dp=DpSpec(2.0, "district", "age", 0, 120))  # fmt: skip
    r = asyncio.run(releases.release(POLICE, spec))
    again = releases.get(r.id)
    assert again.params == r.params
    assert again.params["epsilon"] == 2.0
    assert again.outcome["epsilon_spent"] == pytest.approx(2.0)


def test_refusals_are_audited(world: World, releases: ReleaseService) -> None:
    with pytest.raises(Forbidden):
        asyncio.run(releases.release(TRANSPORT, _kanon(world)))
    with pytest.raises(InvalidInput):
        asyncio.run(releases.release(POLICE, _kanon(world, k=1)))
    with pytest.raises(InvalidInput) as exc:  # 5 rows: no class can reach 10
        asyncio.run(releases.release(POLICE, _kanon(world, k=10)))
    assert exc.value.code == "release.too_few_rows"
    with pytest.raises(NotFound):
        releases.get("nope")
    recent = world.trail.recent(Context.system("t"), 3)
    assert [rec.kind for rec in recent] == ["release_refused"] * 3
    assert recent[-1].department == "transport"
    assert releases.releases() == []


def test_a_resource_not_open_is_never_released(world: World, releases: ReleaseService) -> None:
    for resource in (world.unconditional, world.closed):  # both 不予开放
        spec = ReleaseSpec(resource.id, "不予开放", ReleaseMode.K_ANONYMITY,
                           kanon=KAnonSpec(("district",), 2, 0.5))  # fmt: skip
        with pytest.raises(Forbidden) as exc:
            asyncio.run(releases.release(POLICE, spec))
        assert exc.value.code == "release.not_open"
        assert "不予开放" in exc.value.message
    recent = world.trail.recent(Context.system("t"), 2)
    assert [rec.kind for rec in recent] == ["release_refused"] * 2
    assert all("release.not_open" in rec.detail for rec in recent)
    assert releases.releases() == []
