import asyncio
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencitybrain.kernel.bus import InProcessBus, subject_matches, validate_pattern
from opencitybrain.kernel.errors import InvalidInput
from opencitybrain.kernel.events import CloudEvent, Context

T0 = datetime(2026, 11, 22, tzinfo=UTC)


def ev(type_: str, data: object = None) -> CloudEvent:
    return CloudEvent(type=type_, source="/test", time=T0, data=data)


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("city.a.b.c", "city.a.b.c", True),
        ("city.a.b.c", "city.a.b.d", False),
        ("city.*.b.c", "city.x.b.c", True),
        ("city.*.b", "city.x.b.c", False),
        ("city.>", "city.a.b.c", True),
        ("city.>", "city", False),
        ("city.a.>", "city.a", False),
        (">", "anything.at.all", True),
        ("*", "one", True),
        ("*", "one.two", False),
    ],
)
def test_subject_matching(pattern: str, subject: str, expected: bool) -> None:
    assert subject_matches(pattern, subject) is expected


@pytest.mark.parametrize("bad", ["", "city..a", "city.>.a", "city.a*", "city.>x"])
def test_bad_patterns_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        validate_pattern(bad)


tokens = st.lists(st.text(alphabet="abcxyz", min_size=1, max_size=3), min_size=1, max_size=5)


@given(tokens)
def test_literal_pattern_matches_only_itself(toks: list[str]) -> None:
    subject = ".".join(toks)
    assert subject_matches(subject, subject)
    assert subject_matches(">", subject)
    assert subject_matches(".".join("*" for _ in toks), subject)
    assert not subject_matches(subject + ".more", subject)


async def test_delivery_order_and_wildcards() -> None:
    bus = InProcessBus()
    got_all: list[str] = []
    got_parking: list[object] = []

    async def all_handler(e: CloudEvent) -> None:
        got_all.append(e.type)

    async def parking_handler(e: CloudEvent) -> None:
        got_parking.append(e.data)

    await bus.subscribe("city.>", all_handler)
    await bus.subscribe("city.parking.*.updated", parking_handler)
    for i in range(100):
        await bus.publish(ev("city.parking.spot.updated", i))
    await bus.publish(ev("city.fleet.vehicle.moved"))
    await bus.drain()
    assert got_parking == list(range(100))
    assert len(got_all) == 101
    await bus.close()


async def test_groups_split_without_loss_or_duplicates() -> None:
    bus = InProcessBus()
    seen: dict[str, list[int]] = {"a": [], "b": []}

    def make(name: str):  # type: ignore[no-untyped-def]
        async def handler(e: CloudEvent) -> None:
            seen[name].append(e.data)

        return handler

    await bus.subscribe("city.x.y.z", make("a"), group="workers")
    await bus.subscribe("city.x.y.z", make("b"), group="workers")
    for i in range(50):
        await bus.publish(ev("city.x.y.z", i))
    await bus.drain()
    assert sorted(seen["a"] + seen["b"]) == list(range(50))
    assert seen["a"]
    assert seen["b"]
    await bus.close()


async def test_failing_handler_does_not_stop_later_events() -> None:
    bus = InProcessBus()
    got: list[int] = []

    async def flaky(e: CloudEvent) -> None:
        if e.data == 1:
            raise RuntimeError("boom")
        got.append(e.data)

    await bus.subscribe("city.a.b.c", flaky)
    for i in range(3):
        await bus.publish(ev("city.a.b.c", i))
    await bus.drain()
    assert got == [0, 2]
    await bus.close()


async def test_unsubscribe_stops_delivery() -> None:
    bus = InProcessBus()
    got: list[int] = []

    async def h(e: CloudEvent) -> None:
        got.append(e.data)

    sub = await bus.subscribe("city.a.b.c", h)
    await bus.publish(ev("city.a.b.c", 1))
    await bus.drain()
    await sub.unsubscribe()
    await bus.publish(ev("city.a.b.c", 2))
    await bus.drain()
    await asyncio.sleep(0)
    assert got == [1]
    await bus.close()
    with pytest.raises(RuntimeError):
        await bus.publish(ev("city.a.b.c", 3))


def test_event_round_trip_keeps_context() -> None:
    ctx = Context(actor="u1", department="transport", roles=frozenset({"operator"}), purpose="p")
    e = CloudEvent(
        type="city.parking.spot.updated",
        source="/parking",
        time=T0,
        data={"a": 1},
        subject="spot-1",
        context=ctx,
    )
    back = CloudEvent.from_dict(e.to_dict())
    assert back == e
    assert back.context == ctx


@pytest.mark.parametrize("bad_type", ["parking.updated", "city.x", "City.a.b.c", "city.a.b"])
def test_event_type_must_follow_naming(bad_type: str) -> None:
    with pytest.raises(InvalidInput):
        ev(bad_type)


def test_malformed_event_dict_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        CloudEvent.from_dict({"type": "city.a.b.c"})
    assert err.value.code == "event.malformed"


async def test_a_subscriber_added_or_removed_after_events_flowed_is_routed_at_once() -> None:
    # The bus remembers which subscribers an event type goes to; (un)subscribing must
    # change that for the very next event.
    bus = InProcessBus()
    first: list[object] = []
    later: list[object] = []

    async def on_first(e: CloudEvent) -> None:
        first.append(e.data)

    async def on_later(e: CloudEvent) -> None:
        later.append(e.data)

    sub = await bus.subscribe("city.parking.>", on_first)
    await bus.publish(ev("city.parking.spot.updated", 1))
    await bus.subscribe("city.parking.spot.*", on_later)
    await bus.publish(ev("city.parking.spot.updated", 2))
    await bus.drain()  # unsubscribing drops what is still queued
    await sub.unsubscribe()
    await bus.publish(ev("city.parking.spot.updated", 3))
    await bus.drain()
    assert (first, later) == ([1, 2], [2, 3])
    await bus.close()
