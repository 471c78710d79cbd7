"""A partition worker that dies at any step of a batch loses and duplicates no alert.

In-memory stand-ins for the stream (redelivers everything after the last ack), the sink
(drops a change it already holds, as JetStream's Nats-Msg-Id does) and the checkpoint
store; the real ones are exercised in tests/integration/fleet/test_partitioned_workers.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencitybrain.apps.fleet.alerts import Alert
from opencitybrain.apps.fleet.partition import Checkpoint, partition_lines, partition_of
from opencitybrain.apps.fleet.worker import PartitionWorker
from opencitybrain.kernel.clock import ManualClock
from tests.unit.apps.fleet.support import T0, east, engine, msg
from tests.unit.apps.fleet.test_engine import core_rules

MIN = 60.0
STEPS = ["after_publish", "before_checkpoint", "before_ack"]


class Crash(Exception):
    """The worker process died here."""


@dataclass(frozen=True)
class Item:
    seq: int
    data: bytes


class Stream:
    def __init__(self, payloads: list[bytes], per_fetch: int) -> None:
        self.items = [Item(i + 1, p) for i, p in enumerate(payloads)]
        self.acked = 0
        self.per_fetch = per_fetch
        self.crash_on_ack = False

    async def fetch(self, max_messages: int, timeout_s: float) -> Sequence[Item]:
        n = min(max_messages, self.per_fetch)
        return [m for m in self.items if m.seq > self.acked][:n]

    async def ack_through(self, seq: int) -> None:
        if self.crash_on_ack:
            self.crash_on_ack = False
            raise Crash
        self.acked = max(self.acked, seq)


class Sink:
    def __init__(self) -> None:
        self.changes: list[tuple[str, str]] = []
        self.dropped = 0
        self.crash_after = False

    async def publish(self, opened: Sequence[Alert], closed: Sequence[Alert]) -> None:
        for kind, alerts in (("opened", opened), ("closed", closed)):
            for a in alerts:
                if (a.id, kind) in self.changes:
                    self.dropped += 1
                else:
                    self.changes.append((a.id, kind))
        if self.crash_after:
            self.crash_after = False
            raise Crash


class Store:
    def __init__(self) -> None:
        self.saved: dict[int, bytes] = {}
        self.crash_before = False

    def load(self, partition: int) -> Checkpoint:
        data = self.saved.get(partition)
        return Checkpoint() if data is None else msgspec.msgpack.decode(data, type=Checkpoint)

    def save(self, partition: int, checkpoint: Checkpoint) -> None:
        if self.crash_before:
            self.crash_before = False
            raise Crash
        self.saved[partition] = msgspec.msgpack.encode(checkpoint)


def messages() -> list[dict[str, Any]]:
    """A muck truck through the core (zone alert), a speeding taxi, and a silent taxi."""
    out = [msg("M1", T0 + 30 * i, east(1500 + 150 * i)) for i in range(8)]
    out += [msg("T1", T0 + 20 * i, east(100 + 300 * i), speed=130 if 3 <= i < 6 else 40)
            for i in range(9)]  # fmt: skip
    out += [msg("T1", T0 + 20 * 8 + 15 * MIN, east(3000), speed=30)]  # 15 min silent
    out.sort(key=lambda m: m["time"])
    return out


def payloads(msgs: list[dict[str, Any]], chunk: int) -> list[bytes]:
    return [
        b"\n".join(msgspec.json.encode(m) for m in msgs[i : i + chunk])
        for i in range(0, len(msgs), chunk)
    ]


async def drain(w: PartitionWorker) -> None:
    while await w.step():
        pass


async def run(chunk: int, per_fetch: int, crashes: list[tuple[int, str]]) -> tuple[Sink, int]:
    """Run to the end, dying at (batch number, step) points; return the sink and restarts."""
    stream, sink, store = Stream(payloads(messages(), chunk), per_fetch), Sink(), Store()
    clock = ManualClock(datetime.fromtimestamp(T0 + 7200, UTC))
    pending = sorted(crashes)
    restarts, batch = 0, 0
    while True:
        w = PartitionWorker(0, engine(core_rules()), stream, sink, store, clock)
        w.recover()
        try:
            while True:
                batch += 1
                for at, step in pending:
                    if at == batch:
                        sink.crash_after = step == "after_publish"
                        store.crash_before = step == "before_checkpoint"
                        stream.crash_on_ack = step == "before_ack"
                if not await w.step():
                    return sink, restarts
        except Crash:
            restarts += 1
            pending = [(a, s) for a, s in pending if a != batch]


async def test_without_crashes_the_worker_raises_every_alert_once() -> None:
    sink, _ = await run(chunk=3, per_fetch=2, crashes=[])
    rules = {i.split(":")[5] for i, _ in sink.changes}
    assert rules == {"no_go_zone", "speeding", "terminal_offline"}
    assert len(sink.changes) == len(set(sink.changes))


@pytest.mark.parametrize("step", ["after_publish", "before_checkpoint", "before_ack"])
async def test_a_crash_at_any_step_loses_and_duplicates_nothing(step: str) -> None:
    clean, _ = await run(chunk=3, per_fetch=2, crashes=[])
    sink, restarts = await run(chunk=3, per_fetch=2, crashes=[(2, step), (4, step)])
    assert restarts == 2
    assert sorted(sink.changes) == sorted(clean.changes)


@settings(max_examples=25, deadline=None)
@given(
    chunk=st.integers(1, 7),
    per_fetch=st.integers(1, 4),
    crashes=st.lists(
        st.tuples(st.integers(1, 12), st.sampled_from(STEPS)),
        max_size=4,
        unique_by=lambda c: c[0],
    ),
)
async def test_any_cut_and_any_crashes_give_the_same_alerts(
    chunk: int, per_fetch: int, crashes: list[tuple[int, str]]
) -> None:
    clean, _ = await run(chunk=5, per_fetch=1, crashes=[])
    sink, _ = await run(chunk, per_fetch, crashes)
    assert sorted(sink.changes) == sorted(clean.changes)


@given(st.text(min_size=1, max_size=20), st.integers(1, 64))
def test_a_device_always_lands_in_the_same_partition(device: str, n: int) -> None:
    p = partition_of(device, n)
    assert 0 <= p < n
    lines = partition_lines([{"device_id": device, "x": 1}, {"device_id": device}], n)
    assert list(lines) == [p]
    assert len(lines[p].split(b"\n")) == 2
