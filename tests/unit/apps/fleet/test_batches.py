"""However a stream is cut into batches, and across a snapshot/restore, the alerts are the same."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from opencitybrain.apps.fleet.model import VehicleClass
from opencitybrain.apps.fleet.rules import RuleConfig, Zone, ZoneRule
from tests.unit.apps.fleet.support import T0, east, engine, events, feed, msg, north, square

RULES = RuleConfig(
    zones=ZoneRule(
        zones=[
            Zone(
                id=f"z{i}",
                name=f"区域{i}",
                ring=square(east(600 * i + 300), north(0), 150),
                classes=[VehicleClass.MUCK, VehicleClass.HAZMAT],
            )
            for i in range(6)
        ]
    )
)


@st.composite
def streams(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Draw a random-walk stream for three vehicles, interleaved in time order."""
    out = []
    for device in ("M1", "H1", "T1"):
        t, x = T0, 0.0
        for _ in range(draw(st.integers(1, 40))):
            t += draw(st.sampled_from([5, 30, 120, 300, 900]))
            speed = draw(st.sampled_from([0.0, 0.0, 20.0, 48.0, 70.0]))
            x = min(4800.0, x + speed / 3.6 * 10)
            y = draw(st.sampled_from([0.0, 50.0, 250.0]))
            out.append(msg(device, t, east(x), north(y), speed))
    return sorted(out, key=lambda m: m["time"])


def run(stream: list[dict[str, Any]], cuts: list[int], restore_at: int | None = None) -> list[Any]:
    eng = engine(RULES)
    outs = []
    bounds = [0, *sorted(set(cuts)), len(stream)]
    for i, (a, b) in enumerate(itertools.pairwise(bounds)):
        if a == b:
            continue
        if restore_at is not None and i == restore_at:
            snap = eng.snapshot()
            eng = engine(RULES)
            eng.restore(snap)
        outs.append(feed(eng, stream[a:b], now=stream[b - 1]["time"] / 1000))
    # Offline alerts depend on when ticks happen, not on points: compare the rest.
    return sorted(e for e in events(outs) if e[1] != "terminal_offline")


@settings(max_examples=60, deadline=None)
@given(stream=streams(), data=st.data())
def test_alerts_do_not_depend_on_batch_boundaries(stream: list[dict[str, Any]], data: Any) -> None:
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=6))
    assert run(stream, cuts) == run(stream, [])


@settings(max_examples=30, deadline=None)
@given(stream=streams(), data=st.data())
def test_a_restored_snapshot_continues_exactly(stream: list[dict[str, Any]], data: Any) -> None:
    cuts = data.draw(st.lists(st.integers(0, len(stream)), min_size=1, max_size=4))
    restore_at = data.draw(st.integers(1, len(set(cuts)) + 1))
    assert run(stream, cuts, restore_at) == run(stream, [])


def test_alternating_entries_open_and_close_in_turn() -> None:
    # One vehicle alternating in and out of a zone: opens and closes strictly alternate.
    stream = [msg("M1", T0 + 10 * i, east(300 if i % 2 else 0)) for i in range(10)]
    got = run(stream, [3, 7])
    opens = [e[3] for e in got if e[:2] == ("open", "no_go_zone")]
    closes = [e[3] for e in got if e[:2] == ("close", "no_go_zone")]
    assert opens == [T0 + 10 * i for i in (1, 3, 5, 7, 9)]
    assert closes == [T0 + 10 * i for i in (2, 4, 6, 8)]  # still inside at the end
