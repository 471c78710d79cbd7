"""Group commit: concurrent single-entity updates land together, in order, none lost."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from opencitybrain.adapters.migrate import upgrade
from opencitybrain.context.changes import history_of_entity
from opencitybrain.context.errors import ResourceNotFound
from opencitybrain.context.jsonld import ContextResolver
from opencitybrain.context.model import to_doc
from opencitybrain.context.service import ContextBroker
from opencitybrain.context.store import SqlEntityStore, VersionedPut
from opencitybrain.context.writer import settled, should_linger
from opencitybrain.kernel.clock import ManualClock

PARKING = "https://smart-data-models.github.io/dataModel.Parking/context.jsonld"
STATUS = "https://uri.etsi.org/ngsi-ld/status"
COUNT = "https://smartdatamodels.org/dataModel.Parking/availableSpotNumber"


def site(i: int) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:OffStreetParking:w:{i:03d}",
        "type": "OffStreetParking",
        "availableSpotNumber": {"type": "Property", "value": 0},
        "status": {"type": "Property", "value": "open"},
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [115.9, 28.6]},
        },
    }


@pytest.fixture
def brokers(sql_engine: sa.Engine) -> Iterator[tuple[ContextBroker, ContextBroker]]:
    """Two brokers (like two worker processes) on one database, no bus between them."""
    upgrade(sql_engine)
    clock = ManualClock(datetime(2026, 11, 22, tzinfo=UTC))
    a = ContextBroker(SqlEntityStore(sql_engine), ContextResolver(), clock)
    b = ContextBroker(SqlEntityStore(sql_engine), ContextResolver(), clock)
    yield a, b
    a.close()
    b.close()


def test_concurrent_updates_all_land_with_their_history(
    brokers: tuple[ContextBroker, ContextBroker],
) -> None:
    a, _ = brokers
    ctx = a.resolver.compile(PARKING)
    for i in range(10):
        a.create("", site(i), ctx)
    n = 400  # 40 increments per entity, from 16 threads at once

    def bump(k: int) -> None:
        entity_id = site(k % 10)["id"]
        a.patch_attribute("", entity_id, "status", {"value": f"s{k}"}, ctx).result()

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(bump, range(n)))
    history = 0
    for i in range(10):
        found = a.store.get_versioned("", site(i)["id"])
        assert found is not None
        doc, version = found
        assert version == 1 + n // 10  # every update committed, none twice
        assert a.get("", site(i)["id"]).attrs[STATUS][0].value == doc["attrs"][STATUS][0]["value"]
        history += len(a.store.history("", site(i)["id"], attrs=[STATUS])[STATUS])
    assert history == 10 + n  # the created instance plus one per update


def test_updates_of_one_entity_apply_in_order_on_its_last_state(
    brokers: tuple[ContextBroker, ContextBroker],
) -> None:
    a, _ = brokers
    ctx = a.resolver.compile(PARKING)
    a.create("", site(0), ctx)
    entity_id = site(0)["id"]
    pending = [
        a.update("", entity_id, {"availableSpotNumber": {"type": "Property", "value": k}}, ctx)
        for k in range(1, 51)
    ]
    assert [len(p.result()[1]) for p in pending] == [1] * 50
    assert a.get("", entity_id).attrs[COUNT][0].value == 50
    values = [h["value"] for h in a.store.history("", entity_id, attrs=[COUNT])[COUNT]]
    assert values == list(range(51))


def test_a_stale_index_rereads_the_store_and_retries(
    brokers: tuple[ContextBroker, ContextBroker],
) -> None:
    a, b = brokers
    ctx = a.resolver.compile(PARKING)
    a.create("", site(0), ctx)
    entity_id = site(0)["id"]
    a.patch_attribute("", entity_id, "status", {"value": "closed"}, ctx).result()  # a knows v2
    # b (another process, no bus) writes twice; a's known version is now stale.
    b.patch_attribute("", entity_id, "availableSpotNumber", {"value": 7}, ctx).result()
    b.patch_attribute("", entity_id, "availableSpotNumber", {"value": 8}, ctx).result()
    a.patch_attribute("", entity_id, "status", {"value": "open"}, ctx).result()
    doc, version = a.store.get_versioned("", entity_id) or ({}, 0)
    assert version == 5
    assert doc["attrs"][COUNT][0]["value"] == 8  # b's write survives a's retry
    assert doc["attrs"][STATUS][0]["value"] == "open"


def test_an_update_of_a_deleted_entity_is_not_found(
    brokers: tuple[ContextBroker, ContextBroker],
) -> None:
    a, b = brokers
    ctx = a.resolver.compile(PARKING)
    a.create("", site(0), ctx)
    entity_id = site(0)["id"]
    a.patch_attribute("", entity_id, "status", {"value": "closed"}, ctx).result()
    b.delete("", entity_id)  # a does not hear of it
    with pytest.raises(ResourceNotFound):
        a.patch_attribute("", entity_id, "status", {"value": "open"}, ctx).result()


def test_commit_updates_skips_stale_and_missing_entities_only(sql_engine: sa.Engine) -> None:
    upgrade(sql_engine)
    store = SqlEntityStore(sql_engine)
    resolver = ContextResolver()
    clock = ManualClock(datetime(2026, 11, 22, tzinfo=UTC))
    broker = ContextBroker(store, resolver, clock)
    ctx = resolver.compile(PARKING)
    entities = [broker.create("", site(i), ctx)[0] for i in range(5)]
    broker.close()
    retyped = {**to_doc(entities[3]), "type": ["https://example.org/Garage"]}
    puts = [
        VersionedPut("", to_doc(entities[0]), 1, list(history_of_entity(entities[0], clock.now()))),
        VersionedPut("", to_doc(entities[1]), 7, []),  # stale
        VersionedPut("", {**to_doc(entities[2]), "id": "urn:ngsi-ld:X:gone"}, 1, []),  # missing
        VersionedPut("", retyped, 1, []),  # its types change: replaced on its own
        VersionedPut("", to_doc(entities[4]), None, []),  # no version to check
    ]
    assert store.commit_updates(puts) == [2, None, None, 2, 2]
    assert store.get_versioned("", entities[1].id) == (to_doc(entities[1]), 1)
    assert store.get_versioned("", entities[3].id) == (retyped, 2)
    assert store.get("", "urn:ngsi-ld:X:gone") is None


async def test_awaited_updates_settle_on_the_loop_with_their_own_outcome(
    brokers: tuple[ContextBroker, ContextBroker],
) -> None:
    # Many updates awaited at once are settled in groups (one wake-up of the loop per
    # commit); each caller still gets its own result or its own error.
    a, _ = brokers
    ctx = a.resolver.compile(PARKING)
    for i in range(20):
        a.create("", site(i), ctx)
    pending = [
        settled(
            a.update(
                "", site(i)["id"], {"availableSpotNumber": {"type": "Property", "value": i}}, ctx
            )
        )
        for i in range(20)
    ]
    missing = settled(
        a.update("", "urn:ngsi-ld:OffStreetParking:w:nope", {"status": {"value": "x"}}, ctx)
    )
    results = await asyncio.gather(*pending, missing, return_exceptions=True)
    assert isinstance(results[-1], ResourceNotFound)
    for i, (_, changes) in enumerate(results[:-1]):  # type: ignore[misc]
        assert changes[0].entity.attrs[COUNT][0].value == i
    # A caller that went away (its wait cancelled) costs the others nothing.
    gone = asyncio.ensure_future(
        settled(a.update("", site(0)["id"], {"status": {"value": "shut"}}, ctx))
    )
    await asyncio.sleep(0)
    gone.cancel()
    _, changes = await settled(
        a.update("", site(1)["id"], {"status": {"type": "Property", "value": "full"}}, ctx)
    )
    assert changes[0].entity.attrs[STATUS][0].value == "full"


def test_the_writer_lingers_only_under_load() -> None:
    assert not should_linger(0, 1)  # the first update
    assert not should_linger(1, 1)  # a lone client: its groups hold one update
    assert should_linger(8, 3)  # 8 in flight, 3 queued so far: wait for the rest
    assert not should_linger(8, 8)  # already as full as the last group
