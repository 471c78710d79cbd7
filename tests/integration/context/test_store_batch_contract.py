"""The store contract for batch writes with their history, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from opencitybrain.adapters.migrate import upgrade
from opencitybrain.context.store import HistoryRecord, SqlEntityStore
from opencitybrain.kernel.errors import InvalidInput

T0 = datetime(2026, 3, 1, 1, 15, 30, 250000, tzinfo=UTC)
SPOT = "https://smartdatamodels.org/dataModel.Parking/ParkingSpot"
STATUS = "https://smartdatamodels.org/dataModel.Parking/status"


def iso(moment: datetime) -> str:
    """Return the storage form of a timestamp."""
    return moment.isoformat().replace("+00:00", "Z")


def spot(i: int) -> str:
    """Return the id of parking spot ``i``."""
    return f"urn:ngsi-ld:ParkingSpot:{i:05d}"


def doc(i: int, status: str, at: datetime = T0, **extra: Any) -> dict[str, Any]:
    """Return the storage document of spot ``i`` with its status instance."""
    instance = {"type": "Property", "value": status, "observedAt": iso(at), **extra}
    return {
        "id": spot(i),
        "type": [SPOT],
        "createdAt": iso(at),
        "modifiedAt": iso(at),
        "attrs": {STATUS: [instance]},
    }


def records(docs: list[dict[str, Any]], at: datetime) -> list[HistoryRecord]:
    """Return the history records of every instance of the documents."""
    return [
        HistoryRecord.of(d["id"], name, instance, at)
        for d in docs
        for name, instances in d["attrs"].items()
        for instance in instances
    ]


@pytest.fixture
def store(sql_engine: sa.Engine) -> SqlEntityStore:
    """Return the store on a migrated database, once per SQL engine."""
    upgrade(sql_engine)
    return SqlEntityStore(sql_engine)


def test_upsert_many_writes_entities_and_history_together(store: SqlEntityStore) -> None:
    first = [doc(i, "free") for i in range(1500)]  # more than one write chunk
    assert all(created for _, created in store.upsert_many("", first, records(first, T0)))
    later = T0 + timedelta(minutes=5)
    again = [
        doc(i, "occupied", later, datasetId="urn:ngsi-ld:Dataset:cam") for i in range(0, 1500, 2)
    ]
    written = store.upsert_many("", again, records(again, later))
    assert written == [(spot(i), False) for i in range(0, 1500, 2)]
    assert store.count("") == 1500
    stored = store.get("", spot(2)) or {}
    assert stored["createdAt"] == iso(T0)  # a replaced entity keeps its createdAt
    assert stored["attrs"][STATUS][0]["value"] == "occupied"
    history = store.history("", spot(2))[STATUS]
    assert [(h["value"], h.get("datasetId")) for h in history] == [
        ("free", None),
        ("occupied", "urn:ngsi-ld:Dataset:cam"),
    ]
    assert [h["value"] for h in store.history("", spot(3))[STATUS]] == ["free"]
    by_time = store.history("", spot(2), timerel="after", time_at=T0 + timedelta(minutes=1))
    assert [h["value"] for h in by_time[STATUS]] == ["occupied"]  # observedAt was kept


def test_a_failed_batch_leaves_no_history(store: SqlEntityStore) -> None:
    docs = [doc(i, "free") for i in range(1200)]
    docs[1100] = {**docs[1100], "modifiedAt": "not a time"}  # in the second chunk
    with pytest.raises(InvalidInput):
        store.upsert_many("", docs, records(docs, T0))
    assert store.count("") == 0
    assert store.history("", spot(1)) == {}


def test_upsert_many_without_history_still_works(store: SqlEntityStore) -> None:
    assert store.upsert_many("", [doc(1, "free")]) == [(spot(1), True)]
    assert store.history("", spot(1)) == {}
    assert store.upsert_many("", []) == []


def test_history_beyond_one_driver_statement(store: SqlEntityStore) -> None:
    # SQLite takes column-wise rows 10,000 at a time; every row must land once.
    docs = [doc(i, "free") for i in range(3)]
    rows = [HistoryRecord.of(spot(i % 3), STATUS, {"value": i}, T0) for i in range(10_001)]
    store.upsert_many("", docs, rows)
    got = store.history("", spot(1), time_property="modifiedAt")[STATUS]
    assert sorted(h["value"] for h in got) == list(range(1, 10_001, 3))
