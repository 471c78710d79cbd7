"""The store contract for attribute history and stored @contexts, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from opencitybrain.adapters.migrate import upgrade
from opencitybrain.context.store import HistoryRecord, SqlEntityStore, StoredContext
from opencitybrain.kernel.errors import InvalidInput

T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
CST = timezone(timedelta(hours=8))
CAR = "urn:ngsi-ld:Vehicle:A12345"
SPEED, FUEL = "https://smartdatamodels.org/dataModel.Transportation/speed", "urn:x:fuel"


def minute(n: int) -> datetime:
    """Return T0 plus ``n`` minutes."""
    return T0 + timedelta(minutes=n)


def speed(n: int, *, observed: bool = True, dataset: str | None = None) -> dict[str, Any]:
    """Return a speed instance with value ``n``, observed at minute ``n``."""
    inst: dict[str, Any] = {"type": "Property", "value": n}
    if observed:
        inst["observedAt"] = minute(n).isoformat().replace("+00:00", "Z")
    if dataset:
        inst["datasetId"] = dataset
    return inst


@pytest.fixture
def store(sql_engine: sa.Engine) -> SqlEntityStore:
    """Return the store on a migrated database, with a car's speed and fuel history.

    Speed was observed at minutes 0..9 but recorded in reverse (the last observation
    first, at minute 100); fuel was recorded at minutes 50..52 with no observedAt.
    """
    upgrade(sql_engine)
    s = SqlEntityStore(sql_engine)
    rows = [HistoryRecord.of(CAR, SPEED, speed(n), minute(109 - n)) for n in range(10)]
    rows += [HistoryRecord(CAR, FUEL, {"value": 50 + n}, minute(50 + n)) for n in range(3)]
    rows.append(HistoryRecord.of("urn:other", SPEED, speed(1), minute(1)))
    assert s.append_history("", rows) == 14
    s.append_history("tenant-b", [HistoryRecord.of(CAR, SPEED, speed(99), minute(99))])
    return s


def values(got: dict[str, list[dict[str, Any]]], attr: str = SPEED) -> list[Any]:
    """Return the values of one attribute's instances, in the order given."""
    return [inst["value"] for inst in got.get(attr, [])]


def bare(instance: dict[str, Any]) -> dict[str, Any]:
    """Return a stored instance without the instanceId the store gives it."""
    return {k: v for k, v in instance.items() if k != "instanceId"}


def test_history_is_oldest_first_by_observation(store: SqlEntityStore) -> None:
    got = store.history("", CAR)
    assert values(got) == list(range(10))
    assert values(got, FUEL) == [50, 51, 52]  # no observedAt: ordered by recording
    assert bare(got[SPEED][3]) == speed(3)
    ids = [i["instanceId"] for i in got[SPEED] + got[FUEL]]
    assert len(set(ids)) == len(ids)  # every stored instance is named, once
    assert all(i.startswith("urn:ngsi-ld:attribute-instance:") for i in ids)
    by_recording = store.history("", CAR, time_property="modifiedAt")
    assert values(by_recording) == list(range(9, -1, -1))


def test_attrs_and_tenants_narrow_the_history(store: SqlEntityStore) -> None:
    assert set(store.history("", CAR, attrs=[FUEL])) == {FUEL}
    assert store.history("", CAR, attrs=[]) == {}
    assert values(store.history("tenant-b", CAR)) == [99]
    assert store.history("", "urn:nobody") == {}


@pytest.mark.parametrize(
    ("timerel", "at", "end", "expected"),
    [
        ("before", 3, None, [0, 1, 2]),
        ("after", 7, None, [8, 9]),
        ("between", 2, 5, [2, 3, 4]),
        ("between", 5, 5, []),
    ],
)
def test_timerel_on_observed_at(
    store: SqlEntityStore, timerel: Any, at: int, end: int | None, expected: list[int]
) -> None:
    got = store.history(
        "", CAR, timerel=timerel, time_at=minute(at), end_time_at=minute(end) if end else None
    )
    assert values(got) == expected
    assert FUEL not in got  # no observedAt, so no match on observedAt


def test_timerel_on_modified_at_accepts_any_offset(store: SqlEntityStore) -> None:
    # Minute 51 UTC written in China time; fuel was recorded at 50, 51, 52.
    at = minute(51).astimezone(CST)
    got = store.history("", CAR, timerel="before", time_at=at, time_property="modifiedAt")
    assert values(got, FUEL) == [50]
    assert SPEED not in got  # recorded from minute 100 on
    got = store.history("", CAR, timerel="after", time_at=at, time_property="modifiedAt")
    assert values(got, FUEL) == [52]
    assert values(got) == list(range(9, -1, -1))  # ordered by recording time


def test_last_n_keeps_the_latest_per_attribute(store: SqlEntityStore) -> None:
    got = store.history("", CAR, last_n=3)
    assert values(got) == [7, 8, 9]
    assert values(got, FUEL) == [50, 51, 52]
    got = store.history("", CAR, last_n=2, timerel="before", time_at=minute(5))
    assert values(got) == [3, 4]
    got = store.history("", CAR, last_n=2, time_property="modifiedAt")
    assert values(got) == [1, 0]  # recorded last, though observed first


def test_dataset_instances_are_kept_apart(store: SqlEntityStore) -> None:
    store.append_history("", [HistoryRecord.of(CAR, SPEED, speed(20, dataset="urn:gps"), T0)])
    got = store.history("", CAR, timerel="after", time_at=minute(15))
    assert [bare(i) for i in got[SPEED]] == [speed(20, dataset="urn:gps")]
    record = HistoryRecord.of(CAR, SPEED, speed(1, observed=False, dataset="urn:d"), T0)
    assert (record.dataset_id, record.observed_at) == ("urn:d", None)


@pytest.mark.parametrize(
    "query",
    [
        {"timerel": "before"},
        {"timerel": "between", "time_at": T0},
        {"timerel": "around", "time_at": T0},
        {"last_n": 0},
        {"time_property": "createdAt"},
    ],
)
def test_bad_temporal_queries(store: SqlEntityStore, query: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as info:
        store.history("", CAR, **query)
    assert info.value.code == "ngsi.bad_temporal_query"


def test_retention_prunes_by_recording_time(store: SqlEntityStore) -> None:
    assert store.prune_history("tenant-b", minute(200)) == 1
    assert store.prune_history("", minute(52)) == 3  # fuel at 50, 51 and urn:other at 1
    assert values(store.history("", CAR, attrs=[FUEL]), FUEL) == [52]
    assert store.history("", "urn:other") == {}
    store.append_history("tenant-b", [HistoryRecord.of(CAR, SPEED, speed(1), minute(1))])
    assert store.prune_history(None, minute(105)) == 1 + 5 + 1  # fuel 52, speeds 5..9, b's one
    assert values(store.history("", CAR)) == [0, 1, 2, 3, 4]


def test_delete_history(store: SqlEntityStore) -> None:
    assert store.delete_history("", CAR, attrs=[FUEL]) == 3
    assert set(store.history("", CAR)) == {SPEED}
    assert store.delete_history("", CAR) == 10
    assert store.history("", CAR) == {}
    assert values(store.history("tenant-b", CAR)) == [99]


def test_append_any_number_in_one_call(store: SqlEntityStore) -> None:
    rows = [HistoryRecord.of("urn:bulk", SPEED, speed(n % 60), minute(n)) for n in range(2500)]
    assert store.append_history("", rows) == 2500
    assert len(store.history("", "urn:bulk")[SPEED]) == 2500
    assert store.append_history("", []) == 0


def test_contexts(store: SqlEntityStore) -> None:
    url = "http://localhost/ngsi-ld/v1/jsonldContexts/abc"
    document = {"@context": {"速度": SPEED, "fuel": {"@id": FUEL, "@type": "@id"}}}
    assert store.get_context(url) is None
    store.put_context(url, document, T0)
    store.put_context("http://a.example/ctx.jsonld", ["x", {"y": "urn:y"}], T0, kind="Cached")
    assert store.get_context(url) == document
    assert store.list_contexts() == [
        StoredContext("http://a.example/ctx.jsonld", "Cached", T0),
        StoredContext(url, "Hosted", T0),
    ]
    store.put_context(url, {"@context": {}}, minute(5))  # replaces, keeps the first time
    assert store.get_context(url) == {"@context": {}}
    assert store.list_contexts()[1] == StoredContext(url, "Hosted", T0)
    assert store.delete_context(url) is True
    assert store.delete_context(url) is False
    assert [c.url for c in store.list_contexts()] == ["http://a.example/ctx.jsonld"]
