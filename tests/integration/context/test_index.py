"""The in-memory index follows every write: this process's directly, others' via the bus."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from opencitybrain.adapters.migrate import upgrade
from opencitybrain.adapters.sql import make_engine
from opencitybrain.context.geoquery_input import parse_geoquery
from opencitybrain.context.jsonld import ContextResolver
from opencitybrain.context.query import EntityQuery, run_query
from opencitybrain.context.service import ContextBroker
from opencitybrain.context.store import SqlEntityStore
from opencitybrain.kernel.bus import InProcessBus
from opencitybrain.kernel.clock import ManualClock
from tests.support import build_demo_city

PARKING = "https://smart-data-models.github.io/dataModel.Parking/context.jsonld"


def spot(i: int, status: str = "free") -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:ParkingSpot:idx:{i:04d}",
        "type": "ParkingSpot",
        "status": {"type": "Property", "value": status},
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [115.90 + i * 0.001, 28.68]},
        },
    }


@pytest.fixture
def two_workers(tmp_path: Path) -> tuple[ContextBroker, ContextBroker, InProcessBus]:
    """Two brokers on one database and one bus, like two worker processes."""
    engine = make_engine(f"sqlite:///{tmp_path / 'ctx.db'}")
    upgrade(engine)
    bus = InProcessBus()
    clock = ManualClock(datetime(2026, 11, 22, tzinfo=UTC))
    a = ContextBroker(SqlEntityStore(engine), ContextResolver(), clock, bus)
    b = ContextBroker(SqlEntityStore(engine), ContextResolver(), clock, bus)
    return a, b, bus


def _query(broker: ContextBroker, **kw: Any) -> list[str]:
    ctx = broker.resolver.compile(PARKING)
    result = broker.query("", EntityQuery(context=ctx, types=["ParkingSpot"], limit=100, **kw))
    return [e.id for e in result.entities]


async def test_index_matches_the_store_across_workers(
    two_workers: tuple[ContextBroker, ContextBroker, InProcessBus],
) -> None:
    a, b, bus = two_workers
    await a.start()
    await b.start()
    ctx = a.resolver.compile(PARKING)
    for i in range(20):
        _, changes = a.create("", spot(i, "occupied" if i % 2 else "free"), ctx)
        await a.publish(changes, None)
    assert len(_query(a)) == 20
    assert len(_query(b)) == 20  # b loads from the store on first use
    # a writes; b hears it on the bus and refreshes from the store.
    _, changes = a.update(
        "", spot(0)["id"], {"status": {"type": "Property", "value": "closed"}}, ctx
    ).result()
    await a.publish(changes, None)
    changes = a.delete("", spot(1)["id"])
    await a.publish(changes, None)
    await bus.drain()
    for broker in (a, b):
        assert _query(broker, q='status=="closed"') == [spot(0)["id"]]
        assert spot(1)["id"] not in _query(broker)
    # Whatever the index says, the store (the truth) says the same.
    store_ids = [
        e.id
        for e in run_query(
            a.store, "", EntityQuery(context=ctx, types=["ParkingSpot"], limit=100)
        ).entities
    ]
    assert _query(b) == store_ids
    await a.stop()
    await b.stop()
    await bus.close()


def test_geo_queries_use_the_index(
    two_workers: tuple[ContextBroker, ContextBroker, InProcessBus],
) -> None:
    a, _, _ = two_workers
    ctx = a.resolver.compile(PARKING)
    for i in range(10):
        _, changes = a.create("", spot(i), ctx)
        asyncio.run(a.publish(changes, None))
    near = parse_geoquery("near;maxDistance==250", "Point", "[115.90,28.68]")
    assert _query(a, geo=near) == [spot(i)["id"] for i in range(3)]  # ~98 m apart
    # A move is seen by the next geo-query (the geometry cache is rebuilt after a change).
    moved = {
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [115.9005, 28.68]},
        }
    }
    _, changes = a.update("", spot(9)["id"], moved, ctx).result()
    asyncio.run(a.publish(changes, None))
    assert spot(9)["id"] in _query(a, geo=near)


def test_the_platform_loads_the_default_tenant_at_start(tmp_path: Path) -> None:
    city = build_demo_city(tmp_path)
    broker = city.platform.broker
    broker.index.forget()
    assert not broker.index.loaded("")

    async def serve_briefly() -> None:
        await city.platform.start()
        try:
            warm = next(t for t in city.platform.tasks if t.get_name() == "context-index-warm")
            await asyncio.wait_for(warm, 30)
            assert broker.index.loaded("")  # the demo's 1,004 signals, before any request
        finally:
            await city.platform.close()

    asyncio.run(serve_briefly())
    assert broker.index.warm("") >= 1004
