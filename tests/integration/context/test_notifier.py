"""The notifier on a real store and bus, with an in-process HTTP transport as the receiver."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from opencitybrain.adapters.migrate import upgrade
from opencitybrain.adapters.sql import make_engine
from opencitybrain.context.jsonld import ContextResolver
from opencitybrain.context.notifier import Notifier
from opencitybrain.context.service import ContextBroker
from opencitybrain.context.store import SqlEntityStore
from opencitybrain.context.subscription_store import SqlSubscriptionStore
from opencitybrain.context.subscriptions import new_subscription
from opencitybrain.kernel.bus import InProcessBus
from opencitybrain.kernel.clock import SimulatedClock

T0 = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)
HOOK = "http://receiver.test/hook"
Reply = Callable[[httpx.Request], httpx.Response]


class Rig:
    """A broker, a subscription store and a notifier on SQLite, replies scripted per call."""

    def __init__(self, tmp: Path, replies: list[int]) -> None:
        engine = make_engine(f"sqlite:///{tmp / 'n.db'}")
        upgrade(engine)
        # 1,000x: the backoff's 1 s, 2 s, 4 s of clock time pass in milliseconds.
        self.clock = SimulatedClock(T0, speed=1000)
        self.bus = InProcessBus()
        self.broker = ContextBroker(SqlEntityStore(engine), ContextResolver(), self.clock, self.bus)
        self.subs = SqlSubscriptionStore(engine)
        self.requests: list[httpx.Request] = []
        self.replies = replies
        self.gate = asyncio.Event()  # the receiver answers once the gate opens
        self.gate.set()

        async def reply(request: httpx.Request) -> httpx.Response:
            await asyncio.wait_for(self.gate.wait(), 5)
            self.requests.append(request)
            return httpx.Response(self.replies.pop(0) if self.replies else 204)

        self.notifier = Notifier(self.broker, self.subs, transport=httpx.MockTransport(reply))

    def subscribe(self, **members: Any) -> str:
        body = {"entities": [{"type": "Spot"}], "notification": {"endpoint": {"uri": HOOK}}}
        ctx = self.broker.resolver.compile(None)
        doc = new_subscription({**body, **members}, self.broker.resolver, ctx, self.clock.now())
        self.subs.create("", doc)
        return str(doc["id"])

    async def change(self, n: int, value: int, tenant: str = "") -> None:
        body = {"count": {"type": "Property", "value": value}}
        entity_id = f"urn:ngsi-ld:Spot:{n}"
        if value == 0:
            entity = {"id": entity_id, "type": "Spot", **body}
            _, changes = self.broker.create(tenant, entity, None)
        else:
            _, changes = self.broker.update(tenant, entity_id, body, None).result()
        await self.broker.publish(changes, None)

    def status(self, sub_id: str) -> dict[str, Any]:
        doc = self.subs.get("", sub_id)
        assert doc is not None
        return dict(doc["notification"])

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Callable[..., Rig]]:
    made: list[Rig] = []

    def make(replies: list[int] | None = None) -> Rig:
        made.append(Rig(tmp_path, replies or []))
        return made[-1]

    yield make
    for r in made:
        await r.notifier.stop()
        await r.bus.close()


async def test_changes_leave_in_order_sharing_notifications(rig: Callable[..., Rig]) -> None:
    r = rig()
    sub_id = r.subscribe()
    assert await r.notifier.start(r.bus)
    assert not await r.notifier.start(r.bus)  # already listening in this loop
    r.gate.clear()  # a slow receiver: changes queue up behind the first notification
    for value in range(250):
        await r.change(1, value)
        await r.bus.drain()  # matched one by one: each state is seen
    r.gate.set()
    await r.notifier.idle()
    values = [e["count"]["value"] for b in r.bodies() for e in b["data"]]
    assert values == list(range(250))
    assert [len(b["data"]) for b in r.bodies()] == [1, 100, 100, 49]
    status = r.status(sub_id)
    assert status["timesSent"] == len(r.requests)
    assert status["status"] == "ok"


async def test_a_burst_notifies_every_state_it_went_through(rig: Callable[..., Rig]) -> None:
    r = rig()
    r.subscribe()
    await r.notifier.start(r.bus)
    r.gate.clear()
    for value in range(150):
        await r.change(2, value)
    await r.bus.drain()  # each change event carries the state it produced
    r.gate.set()
    await r.notifier.idle()
    values = [e["count"]["value"] for b in r.bodies() for e in b["data"]]
    assert values == list(range(150))
    assert [len(b["data"]) for b in r.bodies()] == [1, 100, 49]  # queued ones go together


async def test_show_changes_gives_each_change_its_previous_value(rig: Callable[..., Rig]) -> None:
    r = rig()
    r.subscribe(notification={"endpoint": {"uri": HOOK}, "showChanges": True})
    r.subscribe(
        notification={"endpoint": {"uri": HOOK}, "format": "keyValues", "showChanges": True}
    )
    await r.notifier.start(r.bus)
    for value in range(3):
        await r.change(7, value)
        await r.bus.drain()
    await r.notifier.idle()
    normalized = [e["count"] for b in r.bodies() for e in b["data"] if isinstance(e["count"], dict)]
    assert normalized == [
        {"type": "Property", "value": 0},  # created: nothing before
        {"type": "Property", "value": 1, "previousValue": 0},
        {"type": "Property", "value": 2, "previousValue": 1},
    ]
    plain = [e["count"] for b in r.bodies() for e in b["data"] if not isinstance(e["count"], dict)]
    assert plain == [0, 1, 2]  # keyValues carries no previous values


async def test_server_errors_are_retried_with_backoff(rig: Callable[..., Rig]) -> None:
    r = rig([503, 500])
    sub_id = r.subscribe()
    await r.notifier.start(r.bus)
    await r.change(5, 0)
    await r.bus.drain()
    await r.notifier.idle()
    assert len(r.requests) == 3
    status = r.status(sub_id)
    assert (status["timesSent"], status["timesFailed"], status["status"]) == (1, 0, "ok")


async def test_refusals_and_exhausted_retries_fail(rig: Callable[..., Rig]) -> None:
    r = rig([400, 500, 500, 500, 500])
    sub_id = r.subscribe(notificationTrigger=["entityCreated", "attributeUpdated"])
    await r.notifier.start(r.bus)
    await r.change(3, 0)  # 400: not retried
    await r.bus.drain()
    await r.notifier.idle()
    await r.change(3, 1)  # four 500s: given up
    await r.bus.drain()
    await r.notifier.idle()
    assert len(r.requests) == 5
    status = r.status(sub_id)
    assert (status["timesSent"], status["timesFailed"], status["status"]) == (0, 2, "failed")
    assert status["lastFailure"] == status["lastNotification"]


async def test_crud_invalidates_the_cache(rig: Callable[..., Rig]) -> None:
    r = rig()
    await r.notifier.start(r.bus)
    await r.change(4, 0)  # no subscription yet: cached as none
    await r.bus.drain()
    r.subscribe()
    await r.change(4, 1)
    await r.change(4, 0, tenant="elsewhere")  # another tenant's subscriptions only
    await r.bus.drain()
    await r.notifier.idle()
    assert [b["data"][0]["count"]["value"] for b in r.bodies()] == [1]


async def test_periodic_subscriptions_send_current_state_once_per_interval(
    rig: Callable[..., Rig],
) -> None:
    r = rig()
    r.subscribe(timeInterval=3600, q="count>0")  # an hour of city time: 3.6 s here
    await r.notifier.start(r.bus)
    for n in range(3):
        await r.change(n, 0)  # created: count 0, filtered out by q
    await r.change(1, 5)
    await r.change(2, 7)
    await r.bus.drain()
    await r.notifier.idle()
    assert r.requests == []  # changes notify nothing: only the interval does
    assert await r.notifier.run_periods() == 1
    assert await r.notifier.run_periods() == 0  # same interval: sent once
    await r.notifier.idle()
    (body,) = r.bodies()
    assert body["triggerReason"] == "timeInterval"
    assert sorted((e["id"], e["count"]["value"]) for e in body["data"]) == [
        ("urn:ngsi-ld:Spot:1", 5),
        ("urn:ngsi-ld:Spot:2", 7),
    ]


async def test_a_change_matched_late_is_not_sent_to_a_subscription_newer_than_it(
    rig: Callable[..., Rig],
) -> None:
    # Events are matched asynchronously. A change announced before a subscription was
    # created (or activated) but matched after must not reach it: it watches from then on.
    r = rig()
    await r.notifier.start(r.bus)
    await r.change(3, 0)  # announced: queued, not matched yet (nothing has yielded)
    time.sleep(0.002)  # noqa: ASYNC251 - clock time passes, the notifier must not run
    r.subscribe()  # the subscription is newer than the change
    await r.bus.drain()  # now the change is matched, against the new subscription
    await r.change(3, 1)  # the control: a change after the subscription
    await r.bus.drain()
    await r.notifier.idle()
    values = [e["count"]["value"] for b in r.bodies() for e in b["data"]]
    assert values == [1]
