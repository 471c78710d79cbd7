"""Catalogue use cases on SQLite and PostgreSQL: publish, revise, withdraw, versions, events."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from opencitybrain.catalog.model import Classification, Level, SharingType, Status
from opencitybrain.catalog.service import CatalogService
from opencitybrain.kernel.clock import ManualClock
from opencitybrain.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.unit.catalog.samples import spec

from .conftest import ADMIN, CITIZEN, RecordingBus, staff

PS = staff("public-security")


async def test_publish_generates_sequential_codes_and_announces(
    catalog: CatalogService, bus: RecordingBus
) -> None:
    first = await catalog.publish(PS, spec())
    second = await catalog.publish(PS, spec(name_zh="流动人口信息"))
    other = await catalog.publish(PS, spec(classification=Classification("1", "01", "002")))
    assert (first.code, second.code) == ("101001001/000001", "101001001/000002")
    assert other.code == "101002/000001"
    assert (first.version, first.status, first.level) == (1, Status.ACTIVE, Level.CORE)
    assert catalog.get(PS, first.id) == first
    assert catalog.find(PS, first.code) == first
    assert catalog.find(PS, first.slug) == first
    assert [e.type for e in bus.events] == ["city.catalog.resource.published"] * 3
    event = bus.events[0]
    assert event.subject == first.code
    assert event.context == PS
    assert event.data["department_id"] == "public-security"


async def test_concurrent_publishers_get_distinct_codes(catalog: CatalogService) -> None:
    made = await asyncio.gather(*(catalog.publish(PS, spec()) for _ in range(6)))
    assert len({r.code for r in made}) == 6


async def test_revise_makes_a_new_version_and_keeps_the_old(
    catalog: CatalogService, clock: ManualClock, bus: RecordingBus
) -> None:
    v1 = await catalog.publish(PS, spec())
    clock.advance(3600)
    v2 = await catalog.revise(PS, v1.id, spec(abstract="更新后的摘要"), expected_version=1)
    assert (v2.version, v2.code, v2.published_at) == (2, v1.code, v1.published_at)
    assert v2.updated_at > v1.updated_at
    assert catalog.get(PS, v1.id).spec.abstract == "更新后的摘要"
    assert [r.version for r in catalog.versions(PS, v1.id)] == [1, 2]
    assert catalog.version(PS, v1.id, 1).spec.abstract == v1.spec.abstract
    assert bus.events[-1].type == "city.catalog.resource.revised"
    with pytest.raises(Conflict) as err:
        await catalog.revise(PS, v1.id, spec(), expected_version=1)
    assert err.value.code == "catalog.stale_version"
    with pytest.raises(NotFound):
        catalog.version(PS, v1.id, 9)


async def test_code_and_provider_cannot_change_on_revision(catalog: CatalogService) -> None:
    r = await catalog.publish(ADMIN, spec())
    bad = spec(classification=Classification("2", "01", "001"), department_id="transport")
    with pytest.raises(InvalidInput) as err:
        await catalog.revise(ADMIN, r.id, bad)
    assert {e.field for e in err.value.errors} == {"classification", "department_id"}


async def test_withdraw_keeps_versions_and_hides_from_search(
    catalog: CatalogService, bus: RecordingBus
) -> None:
    from opencitybrain.catalog.search import SearchQuery

    r = await catalog.publish(PS, spec())
    with pytest.raises(InvalidInput):
        await catalog.withdraw(PS, r.id, " ")
    gone = await catalog.withdraw(PS, r.id, "数据已并入新资源")
    assert (gone.status, gone.version, gone.note) == (Status.WITHDRAWN, 2, "数据已并入新资源")
    assert bus.events[-1].type == "city.catalog.resource.withdrawn"
    assert catalog.search(PS, SearchQuery("户籍")).total == 0
    assert catalog.search(PS, SearchQuery("户籍", include_withdrawn=True)).total == 1
    assert catalog.codes(PS) == []
    with pytest.raises(Conflict) as err:
        await catalog.revise(PS, r.id, spec())
    assert err.value.code == "catalog.withdrawn"


async def test_staff_publish_only_for_their_own_department(catalog: CatalogService) -> None:
    with pytest.raises(Forbidden) as err:
        await catalog.publish(staff("transport"), spec())
    assert err.value.code == "catalog.other_department"
    r = await catalog.publish(ADMIN, spec())  # the bureau publishes for anyone
    with pytest.raises(Forbidden):
        await catalog.revise(staff("transport"), r.id, spec())
    with pytest.raises(Forbidden):
        await catalog.publish(CITIZEN, spec())
    with pytest.raises(Forbidden):
        catalog.get(CITIZEN, r.id)


async def test_bad_specs_and_unknown_departments_are_refused(
    catalog: CatalogService, bus: RecordingBus
) -> None:
    with pytest.raises(InvalidInput) as err:
        await catalog.publish(PS, spec(sharing_type=SharingType.NONE, sharing_condition=""))
    assert err.value.code == "catalog.invalid_resource"
    with pytest.raises(NotFound) as missing:
        await catalog.publish(ADMIN, spec(department_id="no-such-dept"))
    assert missing.value.code == "catalog.no_department"
    assert bus.events == []
    assert catalog.codes(ADMIN) == []


async def test_providers_count_active_resources(catalog: CatalogService) -> None:
    await catalog.publish(PS, spec())
    await catalog.publish(ADMIN, replace(spec(), department_id="transport"))
    counts = {d.id: n for d, n in catalog.providers(PS)}
    assert (counts["public-security"], counts["transport"], counts["city"]) == (1, 1, 0)
    assert catalog.provider(PS, "transport")[1] == 1
    with pytest.raises(NotFound):
        catalog.provider(PS, "nope")
