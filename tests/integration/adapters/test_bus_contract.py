"""The bus contract: every implementation (in-process, NATS JetStream) passes the same tests.

Negative checks ("X is not delivered") publish a matching sentinel after X and wait for
it: each subscriber sees events in publish order, so had X been delivered it would have
arrived first.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
import nats
import pytest

from opencitybrain.adapters.buses import make_bus
from opencitybrain.adapters.nats_bus import NatsBus
from opencitybrain.kernel.bus import Bus, InProcessBus
from opencitybrain.kernel.errors import InvalidInput, Unavailable
from opencitybrain.kernel.events import CloudEvent, Context

T0 = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)


def event(type_: str = "city.test.thing.happened", data: object = None, **kw: object) -> CloudEvent:
    """Return a test event."""
    return CloudEvent(type=type_, source="/tests/bus", time=T0, data=data, **kw)  # type: ignore[arg-type]


class Recorder:
    """Record delivered events; optionally fail on chosen calls."""

    def __init__(self, fail_when: Callable[[CloudEvent, int], bool] | None = None) -> None:
        self.events: list[CloudEvent] = []
        self.calls = 0
        self._fail_when = fail_when

    async def __call__(self, ev: CloudEvent) -> None:
        self.calls += 1
        if self._fail_when is not None and self._fail_when(ev, self.calls):
            raise RuntimeError("handler failed on purpose")
        self.events.append(ev)

    @property
    def data(self) -> list[object]:
        """Return the data of every delivered event, in order."""
        return [e.data for e in self.events]

    @property
    def types(self) -> list[str]:
        """Return the type of every delivered event, in order."""
        return [e.type for e in self.events]


async def wait_until(predicate: Callable[[], bool], limit_s: float = 10.0) -> None:
    """Poll ``predicate`` until it holds; fail after ``limit_s`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not predicate():
        if loop.time() > deadline:
            pytest.fail(f"condition not met within {limit_s} s")
        await asyncio.sleep(0.01)


async def test_publish_delivers_to_subscriber(bus: Bus) -> None:
    rec = Recorder()
    await bus.subscribe("city.test.thing.happened", rec)
    sent = event(data={"n": 1})
    await bus.publish(sent)
    await wait_until(lambda: len(rec.events) == 1)
    assert rec.events == [sent]


async def test_star_matches_exactly_one_token(bus: Bus) -> None:
    rec = Recorder()
    await bus.subscribe("city.test.*.created", rec)
    for type_ in (
        "city.test.a.created",
        "city.test.a.b.created",  # two tokens where * stands
        "city.test.a.deleted",
        "city.other.a.created",
        "city.test.b.created",
    ):
        await bus.publish(event(type_))
    await wait_until(lambda: "city.test.b.created" in rec.types)
    assert rec.types == ["city.test.a.created", "city.test.b.created"]


async def test_gt_matches_one_or_more_trailing_tokens(bus: Bus) -> None:
    rec = Recorder()
    await bus.subscribe("city.test.>", rec)
    for type_ in (
        "city.test.a.b",
        "city.tests.a.b",
        "city.other.test.a",
        "city.test.a.b.c.d",
    ):
        await bus.publish(event(type_))
    await wait_until(lambda: "city.test.a.b.c.d" in rec.types)
    assert rec.types == ["city.test.a.b", "city.test.a.b.c.d"]


async def test_non_matching_subject_is_not_delivered(bus: Bus) -> None:
    rec = Recorder()
    await bus.subscribe("city.parking.lot.updated", rec)
    await bus.publish(event("city.parking.lot.created"))
    await bus.publish(event("city.parking.lots.updated"))
    await bus.publish(event("city.parking.lot.updated", data="sentinel"))
    await wait_until(lambda: len(rec.events) >= 1)
    await asyncio.sleep(0.1)
    assert rec.data == ["sentinel"]


async def test_order_is_preserved_per_subscriber(bus: Bus) -> None:
    rec = Recorder()
    await bus.subscribe("city.test.>", rec)
    for i in range(200):
        # Alternate types so ordering holds across subjects, not just within one.
        await bus.publish(event("city.test.odd.n" if i % 2 else "city.test.even.n", data=i))
    await wait_until(lambda: len(rec.events) == 200)
    assert rec.data == list(range(200))


async def test_publish_many_delivers_every_event_in_order_to_each_subscriber(bus: Bus) -> None:
    every, odd = Recorder(), Recorder()
    await bus.subscribe("city.test.>", every)
    await bus.subscribe("city.test.odd.*", odd)
    await bus.publish_many(
        [event("city.test.odd.n" if i % 2 else "city.test.even.n", data=i) for i in range(300)]
    )
    await bus.publish_many([])
    await wait_until(lambda: len(every.events) == 300 and len(odd.events) == 150)
    assert (every.data, odd.data) == (list(range(300)), list(range(1, 300, 2)))


async def test_every_subscriber_gets_each_event(bus: Bus) -> None:
    first, second = Recorder(), Recorder()
    await bus.subscribe("city.test.thing.happened", first)
    await bus.subscribe("city.test.*.happened", second)
    sent = [event(data=i) for i in range(5)]
    for ev in sent:
        await bus.publish(ev)
    await wait_until(lambda: len(first.events) == 5 and len(second.events) == 5)
    assert first.events == sent
    assert second.events == sent


async def test_group_splits_events_between_members(bus: Bus) -> None:
    members = [Recorder(), Recorder()]
    watcher = Recorder()
    for member in members:
        await bus.subscribe("city.test.job.queued", member, group="workers")
    await bus.subscribe("city.test.job.queued", watcher)
    n = 60
    for i in range(n):
        await bus.publish(event("city.test.job.queued", data=i))
    await wait_until(lambda: sum(len(m.events) for m in members) >= n and len(watcher.events) == n)
    await asyncio.sleep(0.1)
    shares = [m.data for m in members]
    assert sorted(shares[0] + shares[1]) == list(range(n))  # none lost, none twice
    assert all(shares), "each member should get part of the work"
    assert watcher.data == list(range(n))  # a subscriber outside the group sees all


async def test_unsubscribe_stops_delivery(bus: Bus) -> None:
    leaving, staying = Recorder(), Recorder()
    sub = await bus.subscribe("city.test.thing.happened", leaving)
    await bus.subscribe("city.test.thing.happened", staying)
    await bus.publish(event(data="before"))
    await wait_until(lambda: leaving.data == ["before"] and staying.data == ["before"])
    await sub.unsubscribe()
    await bus.publish(event(data="after"))
    await wait_until(lambda: staying.data == ["before", "after"])
    await asyncio.sleep(0.2)
    assert leaving.data == ["before"]


async def test_context_and_data_round_trip_intact(bus: Bus) -> None:
    rec = Recorder()
    await bus.subscribe("city.test.thing.happened", rec)
    ctx = Context(
        actor="u-42",
        department="dept-traffic",
        roles=frozenset({"operator", "viewer"}),
        purpose="城市运行监测",
        parent_id="01HXPARENT",
    )
    sent = CloudEvent(
        type="city.test.thing.happened",
        source="/tests/bus",
        time=datetime(2026, 3, 1, 16, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8))),
        subject="lot/东湖区-17",
        context=ctx,
        data={
            "名称": "八一广场停车场",
            "free": 17,
            "ratio": 0.625,
            "open": True,
            "closed_at": None,
            "big": 2**53 + 1,
            "spots": [{"id": "A1", "ev": False}, {"id": "A2", "ev": True}],
        },
    )
    await bus.publish(sent)
    await wait_until(lambda: len(rec.events) == 1)
    got = rec.events[0]
    assert got == sent
    assert got.context == ctx
    assert got.time.utcoffset() == timedelta(hours=8)


async def test_failing_handler_does_not_stop_later_deliveries(bus: Bus) -> None:
    rec = Recorder(fail_when=lambda ev, _calls: ev.data == 0 and _calls == 1)
    await bus.subscribe("city.test.thing.happened", rec)
    for i in range(3):
        await bus.publish(event(data=i))
    await wait_until(lambda: {1, 2} <= set(rec.data))
    # The failed event may come back later (at-least-once buses redeliver it), at most once.
    assert [d for d in rec.data if d != 0] == [1, 2]
    assert rec.data.count(0) <= 1


async def test_malformed_pattern_is_refused(bus: Bus) -> None:
    for pattern in ("city..x", "city.>.x", "city.a*"):
        with pytest.raises(InvalidInput):
            await bus.subscribe(pattern, Recorder())


# --- NATS-only behaviour ------------------------------------------------------------------


@pytest.fixture
async def nats_bus(nats_target: Any) -> AsyncIterator[NatsBus]:
    """Return a NatsBus on a private stream."""
    bus: NatsBus = await nats_target.connect()
    yield bus
    await bus.close()
    await nats_target.cleanup()


@pytest.mark.nats
async def test_nats_republished_event_is_stored_once(nats_bus: NatsBus) -> None:
    rec = Recorder()
    await nats_bus.subscribe("city.test.thing.happened", rec)
    sent = event(data="once")
    await nats_bus.publish(sent)
    await nats_bus.publish(sent)  # same id: a retried publish
    await nats_bus.publish(event(data="sentinel"))
    await wait_until(lambda: "sentinel" in rec.data)
    assert rec.data == ["once", "sentinel"]


@pytest.mark.nats
async def test_nats_publish_many_delivers_all_in_order(nats_bus: NatsBus) -> None:
    rec = Recorder()
    await nats_bus.subscribe("city.test.>", rec)
    await nats_bus.publish_many(event(data=i) for i in range(500))
    await wait_until(lambda: len(rec.events) == 500)
    assert rec.data == list(range(500))


@pytest.mark.nats
async def test_nats_event_outside_the_stream_is_unavailable(nats_target: Any) -> None:
    bus = await NatsBus.connect(
        nats_target.url, stream=nats_target.stream, subjects=("city.test.>",),
        prefix=nats_target.prefix, storage="memory", timeout_s=2,
    )  # fmt: skip
    try:
        stray = event("city.other.thing.happened")
        with pytest.raises(Unavailable):
            await bus.publish(stray)
        with pytest.raises(Unavailable) as info:
            await bus.publish_many([event(data=1), stray, event(data=2)])
        assert "1 of 3" in info.value.message_en
    finally:
        await bus.close()
        await nats_target.cleanup()


@pytest.mark.nats
async def test_nats_bad_payload_is_dropped_and_loop_goes_on(
    nats_bus: NatsBus, nats_target: Any
) -> None:
    rec = Recorder()
    await nats_bus.subscribe("city.test.>", rec)
    nc = await nats.connect(nats_target.url)
    try:
        js = nc.jetstream()
        subject = f"{nats_target.prefix}.city.test.thing.happened"
        await js.publish(subject, b"not json")
        await js.publish(subject, msgspec.json.encode({"type": "city.test.thing.happened"}))
    finally:
        await nc.close()
    await nats_bus.publish(event(data="good"))
    await wait_until(lambda: rec.data == ["good"])


@pytest.mark.nats
async def test_nats_handler_failure_is_redelivered(nats_bus: NatsBus) -> None:
    rec = Recorder(fail_when=lambda _ev, calls: calls == 1)
    await nats_bus.subscribe("city.test.thing.happened", rec)
    await nats_bus.publish(event(data="retry me"))
    await wait_until(lambda: rec.data == ["retry me"])
    assert rec.calls == 2


@pytest.mark.nats
async def test_nats_group_is_shared_across_connections(nats_target: Any) -> None:
    # Two connections stand for two worker processes of the same service.
    buses = [await nats_target.connect(), await nats_target.connect()]
    try:
        members = [Recorder(), Recorder()]
        for bus, member in zip(buses, members, strict=True):
            await bus.subscribe("city.test.job.queued", member, group="workers")
        await buses[0].publish_many(event("city.test.job.queued", data=i) for i in range(60))
        await wait_until(lambda: sum(len(m.events) for m in members) >= 60)
        await asyncio.sleep(0.1)
        assert sorted(members[0].data + members[1].data) == list(range(60))
        assert members[0].events
        assert members[1].events
    finally:
        for bus in buses:
            await bus.close()
        await nats_target.cleanup()


@pytest.mark.nats
async def test_nats_slow_handler_is_not_redelivered(nats_target: Any) -> None:
    bus = await NatsBus.connect(
        nats_target.url, stream=nats_target.stream, prefix=nats_target.prefix,
        storage="memory", ack_wait_s=1.0,
    )  # fmt: skip
    calls = 0

    async def slow(_ev: CloudEvent) -> None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(2.5)  # well past ack_wait: only progress reports keep it

    try:
        await bus.subscribe("city.test.thing.happened", slow)
        await bus.publish(event())
        await asyncio.sleep(3.5)
        assert calls == 1
    finally:
        await bus.close()
        await nats_target.cleanup()


@pytest.mark.nats
async def test_make_bus_picks_nats(nats_target: Any) -> None:
    url = f"{nats_target.url}?stream={nats_target.stream}&prefix={nats_target.prefix}"
    bus = await make_bus(url)
    try:
        assert isinstance(bus, NatsBus)
        assert bus.stream == nats_target.stream
    finally:
        await bus.close()
        await nats_target.cleanup()


async def test_make_bus_picks_memory_and_refuses_unknown() -> None:
    bus = await make_bus("memory://")
    assert isinstance(bus, InProcessBus)
    await bus.close()
    for url in ("kafka://x:9092", "nats://x:4222?bogus=1"):
        with pytest.raises(InvalidInput):
            await make_bus(url)


async def test_unreachable_nats_is_unavailable() -> None:
    with pytest.raises(Unavailable) as info:
        await NatsBus.connect("nats://user:pw@127.0.0.1:1", timeout_s=0.5)
    assert "pw" not in info.value.message
    assert "user:***" in info.value.message
