"""Fleet supervision use cases: ingest a batch, read vehicles, alerts, tracks and rules.

Every ingress (HTTP, MQTT, later a JetStream worker) calls :meth:`FleetService.ingest`
with raw bytes, so all of them share one pipeline. The engine is synchronous numpy work:
it runs in a worker thread under a lock, and what it produced is published afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import msgspec
import msgspec.structs
import numpy as np

from opencitybrain.apps.fleet.alerts import Alert
from opencitybrain.apps.fleet.directory import VehicleDirectory, enrich
from opencitybrain.apps.fleet.engine import FleetEngine
from opencitybrain.apps.fleet.history import TrackPoint, TrackStore
from opencitybrain.apps.fleet.messages import PositionBatch
from opencitybrain.apps.fleet.outcome import Outcome
from opencitybrain.apps.fleet.publish import FleetPublisher, vehicle_entities
from opencitybrain.apps.fleet.rules import RuleCode, RuleConfig, decode_rules
from opencitybrain.apps.fleet.watch import AlertWatch
from opencitybrain.kernel.clock import Clock
from opencitybrain.kernel.events import Context

__all__ = ["FleetService", "QuarantineRecord"]

log = logging.getLogger(__name__)
AlertState = Literal["open", "closed", "all"]


_KEEP_BYTES = 2048


@dataclass(frozen=True, slots=True)
class QuarantineRecord:
    """Hold one refused message: where it came from, its index in its batch, why."""

    source: str
    index: int
    code: str
    reason: str
    payload: bytes | None = None


class FleetService:
    """Run positions through the engine and answer questions about the fleet."""

    def __init__(
        self,
        engine: FleetEngine,
        clock: Clock,
        *,
        publisher: FleetPublisher | None = None,
        tracks: TrackStore | None = None,
        rules_path: Path | None = None,
        closed_kept: int = 10_000,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.publisher = publisher
        self.tracks = tracks or TrackStore()
        self.rules_path = rules_path
        self._closed: deque[Alert] = deque(maxlen=closed_kept)
        # Running counts since start, and the most recent refused messages with their
        # reasons (and payloads, where the transport gave no one an answer: MQTT).
        self.counts = {"received": 0, "accepted": 0, "duplicates": 0, "quarantined": 0}
        self.quarantine: deque[QuarantineRecord] = deque(maxlen=closed_kept)
        self._lock = threading.Lock()
        self.watch = AlertWatch()  # the alert list's version, for long polls
        if rules_path is not None and rules_path.is_file():
            engine.set_rules(decode_rules(rules_path.read_bytes()))

    # --- ingest -------------------------------------------------------------------------

    def _process(self, body: bytes | PositionBatch) -> Outcome:
        with self._lock:
            now = self.clock.now().timestamp()
            if isinstance(body, PositionBatch):
                outcome = self.engine.process_batch(body, now)
            else:
                outcome = self.engine.process(body, now)
            p = outcome.points
            self.tracks.append(outcome.slots, p.t, p.lon, p.lat, p.speed, p.heading)
            self._closed.extend(outcome.closed)
            self.counts["received"] += outcome.received
            self.counts["accepted"] += outcome.accepted
            self.counts["duplicates"] += outcome.duplicates
            self.counts["quarantined"] += len(outcome.quarantined)
            return outcome

    async def ingest(self, body: bytes, ctx: Context | None = None) -> Outcome:
        """Run a batch (JSON array or JSON lines) through the rules and publish the result."""
        return await self.ingest_batch(body, ctx)

    async def ingest_batch(
        self,
        batch: bytes | PositionBatch,
        ctx: Context | None = None,
        *,
        source: str = "http",
        payloads: Sequence[bytes] | None = None,
    ) -> Outcome:
        """Run raw bytes or an already decoded batch through the rules; publish the result.

        ``payloads`` (one per message) are kept with quarantined messages, truncated.
        """
        outcome = await asyncio.to_thread(self._process, batch)
        if outcome.opened or outcome.closed:
            self.watch.bump()
        for q in outcome.quarantined:
            raw = payloads[q.index][:_KEEP_BYTES] if payloads is not None else None
            self.quarantine.append(QuarantineRecord(source, q.index, q.code, q.reason, raw))
        if self.publisher is not None:
            await self.publisher.publish(self.engine, outcome, ctx)
        return outcome

    async def tick(self) -> list[Alert]:
        """Check for silent terminals now; publish and return the alerts opened."""
        now = self.clock.now().timestamp()
        with self._lock:
            opened = self.engine.tick(now)
        if opened:
            self.watch.bump()
        if opened and self.publisher is not None:
            await self.publisher.publish_alerts(opened, [], None)
        return opened

    async def run_ticks(self, every_s: float = 10.0) -> None:
        """Tick forever every ``every_s`` clock seconds (a background task)."""
        while True:
            await self.clock.sleep(every_s)
            try:
                await self.tick()
            except Exception:  # a failed tick must not end the loop
                log.exception("fleet tick failed")

    # --- reads --------------------------------------------------------------------------

    def vehicles(self) -> list[dict[str, Any]]:
        """Return every vehicle's latest state as NGSI-LD Vehicle entities."""
        with self._lock:
            return vehicle_entities(self.engine, list(range(len(self.engine.fleet))))

    def alerts(
        self, state: AlertState = "open", rule: RuleCode | None = None, limit: int = 500
    ) -> list[Alert]:
        """Return alerts, newest first: open ones, recently closed ones, or both."""
        with self._lock:
            found: list[Alert] = []
            if state in ("open", "all"):
                found += self.engine.state.open_alerts()
            if state in ("closed", "all"):
                found += list(self._closed)
        if rule is not None:
            found = [a for a in found if a.rule is rule]
        found.sort(key=lambda a: a.opened_at, reverse=True)
        return found[:limit]

    def track(
        self, device_id: str, since: float | None = None, until: float | None = None
    ) -> list[TrackPoint]:
        """Return a vehicle's recorded positions (NotFound if no such vehicle)."""
        self.engine.fleet.get(device_id)
        slot = self.engine.fleet.slot[device_id]
        lo = -np.inf if since is None else since
        hi = np.inf if until is None else until
        with self._lock:
            return self.tracks.track(slot, lo, hi)

    # --- rules --------------------------------------------------------------------------

    def rules(self) -> RuleConfig:
        """Return the rule configuration in force."""
        return self.engine.rules

    def refresh_vehicles(self, directory: VehicleDirectory) -> int:
        """Take what the directory now says of the supervised vehicles; return how many changed."""
        with self._lock:
            fleet = self.engine.fleet
            fresh = enrich(list(fleet.vehicles), directory)
            changed = [n for o, n in zip(fleet.vehicles, fresh, strict=True) if n != o]
            if changed:
                self.engine.register(changed)
        return len(changed)

    def set_rules(self, rules: RuleConfig) -> RuleConfig:
        """Put a new rule configuration in force (its version follows the current one)."""
        with self._lock:
            new = msgspec.structs.replace(rules, version=self.engine.rules.version + 1)
            self.engine.set_rules(new)
        self.watch.bump()  # alerts of rules no longer in force may have closed
        if self.rules_path is not None:
            self.rules_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.rules_path.with_suffix(".tmp")
            tmp.write_bytes(msgspec.json.encode(new))
            tmp.replace(self.rules_path)  # atomic: a crash never leaves half a file
        return new


async def cancel(task: asyncio.Task[None] | None) -> None:
    """Cancel a background task and wait for it to end."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
