"""The subscription store contract: SQLite and PostgreSQL pass the same tests."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from opencitybrain.adapters.migrate import upgrade
from opencitybrain.context.jsonld import CORE_CONTEXT_URL, ContextResolver
from opencitybrain.context.subscription_store import SqlSubscriptionStore
from opencitybrain.context.subscriptions import new_subscription
from opencitybrain.kernel.errors import Conflict

T0 = datetime(2026, 3, 1, 1, 15, 30, 250000, tzinfo=UTC)
RESOLVER = ContextResolver()
CORE = RESOLVER.compile(CORE_CONTEXT_URL)


def sub(n: int, **members: Any) -> dict[str, Any]:
    """Return the storage document of subscription ``n``."""
    body = {
        "id": f"urn:ngsi-ld:Subscription:{n:03d}",
        "entities": [{"type": "ParkingSpot"}],
        "notification": {"endpoint": {"uri": "http://127.0.0.1:9/hook"}},
        **members,
    }
    return new_subscription(body, RESOLVER, CORE, T0)


@pytest.fixture
def store(sql_engine: sa.Engine) -> SqlSubscriptionStore:
    upgrade(sql_engine)
    return SqlSubscriptionStore(sql_engine)


def test_create_get_list_count_delete(store: SqlSubscriptionStore) -> None:
    heard: list[str] = []
    store.listen(heard.append)
    for n in (3, 1, 2):
        store.create("t", sub(n, description="停车位 / parking"))
    store.create("other", sub(1))
    with pytest.raises(Conflict):
        store.create("t", sub(1))
    assert store.get("t", sub(1)["id"]) == sub(1, description="停车位 / parking")
    assert store.get("t", "urn:ngsi-ld:Subscription:none") is None
    assert [d["id"] for d in store.list("t")] == [sub(n)["id"] for n in (1, 2, 3)]
    assert [d["id"] for d in store.list("t", limit=1, offset=1)] == [sub(2)["id"]]
    assert (store.count("t"), store.count("other"), store.count("none")) == (3, 1, 0)
    assert store.delete("t", sub(2)["id"])
    assert not store.delete("t", sub(2)["id"])
    assert store.count("t") == 2
    assert heard == ["t", "t", "t", "other", "t"]


def test_put_keeps_the_delivery_status(store: SqlSubscriptionStore) -> None:
    store.create("t", sub(1))
    at = T0 + timedelta(minutes=1)
    store.record_deliveries({("t", sub(1)["id"]): [(at, True)]})
    stale = sub(1, isActive=False)  # read before the delivery was recorded
    stale["modifiedAt"] = "2026-03-01T02:00:00Z"
    assert store.put("t", stale)
    got = store.get("t", sub(1)["id"])
    assert got is not None
    assert got["isActive"] is False
    assert got["notification"]["timesSent"] == 1
    assert got["notification"]["lastSuccess"] == "2026-03-01T01:16:30.250Z"
    assert not store.put("t", sub(9))
    store.record_deliveries({("t", sub(9)["id"]): [(at, False)]})  # gone: nothing to do
    assert store.get("t", sub(9)["id"]) is None


def test_deliveries_are_counted_in_order_and_concurrently(store: SqlSubscriptionStore) -> None:
    store.create("t", sub(1))
    store.create("t", sub(2))
    one, two = sub(1)["id"], sub(2)["id"]
    late = T0 + timedelta(hours=1)
    store.record_deliveries({("t", one): [(T0, True), (late, False)], ("t", two): [(T0, True)]})
    got = store.get("t", one)
    assert got is not None
    assert got["notification"]["status"] == "failed"
    assert got["notification"]["lastFailure"] == got["notification"]["lastNotification"]
    assert got["notification"]["lastSuccess"] == "2026-03-01T01:15:30.250Z"

    def record(i: int) -> None:
        store.record_deliveries({("t", two): [(T0 + timedelta(seconds=i), i % 4 != 0)]})

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(record, range(40)))
    got = store.get("t", two)
    assert got is not None
    assert (got["notification"]["timesSent"], got["notification"]["timesFailed"]) == (31, 10)


def test_one_claimer_wins_each_period(store: SqlSubscriptionStore) -> None:
    store.create("", sub(1))
    store.create("t2", sub(1))
    assert store.tenants() == ("", "t2")
    due = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(lambda _: store.claim_period("", sub(1)["id"], due), range(8)))
    assert claims.count(True) == 1  # workers racing for one interval: one sends it
    assert store.claim_period("t2", sub(1)["id"], due)  # tenants claim apart
    later = due + timedelta(minutes=1)
    assert store.claim_period("", sub(1)["id"], later)
    assert not store.claim_period("", sub(1)["id"], later)
