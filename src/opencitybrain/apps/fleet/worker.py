"""A partition worker: the engine behind a durable stream consumer, with checkpoints.

For each fetched batch, in this order: decode → rules (event time) → publish the alert
changes → save the checkpoint (stream sequence, watermark, engine state) → ack. A crash
anywhere leaves a consistent restart:

- before the alerts were published: the batch is redelivered and recomputed from the
  checkpointed state; the engine is deterministic, so the same alerts come out;
- after publishing, before the checkpoint: the same, and the sink drops the changes it
  already holds (alert ids are deterministic per vehicle, rule, zone and start time);
- after the checkpoint, before the ack: redelivered messages at or below the
  checkpointed sequence are acknowledged without being processed again.

Time is event time: "now" for the rules is the highest position time the partition has
seen (the watermark, checkpointed too), so a replay after a crash ticks exactly as the
first run did. Offline silences inside the stream are found from the points themselves
(see ``FleetEngine._close_offline``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import msgspec
import numpy as np

from opencitybrain.apps.fleet.engine import FleetEngine
from opencitybrain.apps.fleet.messages import decode_positions
from opencitybrain.apps.fleet.model import Vehicle
from opencitybrain.apps.fleet.partition import (
    AlertSink,
    Checkpoint,
    CheckpointStore,
    PointSource,
)
from opencitybrain.apps.fleet.rules import RuleConfig
from opencitybrain.kernel.clock import Clock

__all__ = ["FleetSpec", "PartitionWorker", "WorkerCounts"]

log = logging.getLogger(__name__)


class FleetSpec(msgspec.Struct, frozen=True):
    """The vehicles and rules every worker of a deployment shares (a JSON file)."""

    vehicles: list[Vehicle]
    rules: RuleConfig = msgspec.field(default_factory=RuleConfig)


@dataclass
class WorkerCounts:
    """Running counts of a worker since it started."""

    batches: int = 0
    messages: int = 0
    redelivered: int = 0
    points: int = 0
    quarantined: int = 0
    opened: int = 0
    closed: int = 0


class PartitionWorker:
    """Process one partition's stream into alerts, exactly once in effect."""

    def __init__(
        self,
        partition: int,
        engine: FleetEngine,
        source: PointSource,
        sink: AlertSink,
        checkpoints: CheckpointStore,
        clock: Clock,
        *,
        batch_max: int = 2000,
        fetch_timeout_s: float = 0.5,
    ) -> None:
        self.partition = partition
        self.engine = engine
        self.source = source
        self.sink = sink
        self.checkpoints = checkpoints
        self.clock = clock
        self.batch_max = batch_max
        self.fetch_timeout_s = fetch_timeout_s
        self.seq = 0
        self.watermark = 0.0
        self.counts = WorkerCounts()

    def recover(self) -> None:
        """Load the partition's checkpoint into the engine (nothing: a fresh start)."""
        cp = self.checkpoints.load(self.partition)
        if cp.state is not None:
            self.engine.restore(cp.state)
        self.seq, self.watermark = cp.seq, cp.watermark
        log.info("partition %d recovered at sequence %d", self.partition, self.seq)

    async def step(self) -> int:
        """Fetch, process, publish, checkpoint and ack one batch; return messages handled."""
        items = await self.source.fetch(self.batch_max, self.fetch_timeout_s)
        if not items:
            return 0
        fresh = [m for m in items if m.seq > self.seq]
        self.counts.redelivered += len(items) - len(fresh)
        if fresh:
            body = b"\n".join(m.data for m in fresh)
            batch = decode_positions(body, self.clock.now().timestamp())
            if len(batch):
                self.watermark = max(self.watermark, float(np.max(batch.t)))
            outcome = self.engine.process_batch(batch, self.watermark)
            await self.sink.publish(outcome.opened, outcome.closed)
            self.seq = fresh[-1].seq
            cp = Checkpoint(self.seq, self.watermark, self.engine.snapshot())
            await asyncio.to_thread(self.checkpoints.save, self.partition, cp)
            c = self.counts
            c.batches += 1
            c.messages += len(fresh)
            c.points += outcome.accepted
            c.quarantined += len(outcome.quarantined)
            c.opened += len(outcome.opened)
            c.closed += len(outcome.closed)
        await self.source.ack_through(items[-1].seq)
        return len(items)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Recover, then process batches until ``stop`` is set."""
        self.recover()
        while stop is None or not stop.is_set():
            await self.step()
