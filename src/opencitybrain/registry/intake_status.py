"""Where the registry's intake stands: generating, loading, building, aggregating.

One ``IntakeStatus`` per platform (held by ``RegistryService.intake``): the demo's
background seeding writes it from its threads, the registry API reads a copy of it
(``GET /api/v1/registry/intake``). It holds counts and messages only, never a record.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any, Literal

State = Literal["idle", "disabled", "running", "done", "failed"]
# The steps in order; ``fraction`` is the share of the current step that is done.
PHASES = ("generate", "load", "build", "aggregate")


class IntakeStatus:
    """The state of the departments' data intake, safe to update from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._doc: dict[str, Any] = {
            "state": "idle",
            "phase": None,
            "message": "未装载部门数据 / no departments' data loaded by the platform",
            "fraction": 0.0,
            "started_at": None,
            "finished_at": None,
            "sizes": {},
            "skipped": [],
            "tables": {},
            "builds": {},
            "resources": {},
            "error": None,
        }

    def snapshot(self) -> dict[str, Any]:
        """Return a copy of the status as plain JSON-able values."""
        with self._lock:
            doc = dict(self._doc)
            for key in ("sizes", "tables", "builds", "resources"):
                doc[key] = dict(doc[key])
            doc["skipped"] = list(doc["skipped"])
        for key in ("started_at", "finished_at"):
            if isinstance(doc[key], datetime):
                doc[key] = doc[key].isoformat()
        return doc

    @property
    def state(self) -> State:
        """Return the current state."""
        with self._lock:
            state: State = self._doc["state"]
            return state

    def disable(self, message: str) -> None:
        """Say that no intake runs here (e.g. the demo size is 0)."""
        with self._lock:
            self._doc.update(state="disabled", message=message)

    def start(self, now: datetime, sizes: dict[str, int]) -> None:
        """Begin an intake of a city of the given sizes."""
        with self._lock:
            self._doc.update(
                state="running", phase=PHASES[0], fraction=0.0, started_at=now,
                finished_at=None, sizes=dict(sizes), skipped=[], tables={}, builds={},
                resources={}, error=None,
            )  # fmt: skip

    def step(self, phase: str, message: str, fraction: float = 0.0) -> None:
        """Record progress within a phase (a message and the share done, 0–1)."""
        with self._lock:
            self._doc.update(phase=phase, message=message, fraction=round(fraction, 4))

    def skip(self, phase: str) -> None:
        """Record that a phase found its work done already (a restart)."""
        with self._lock:
            self._doc["skipped"] = [*self._doc["skipped"], phase]

    def table(self, source: str, counts: dict[str, Any]) -> None:
        """Record one department table's load (rows in, inserted, …, quarantined)."""
        with self._lock:
            self._doc["tables"] = {**self._doc["tables"], source: counts}

    def build(self, kind: str, counts: dict[str, Any]) -> None:
        """Record one registry kind's build (its number, golden records, reconciled)."""
        with self._lock:
            self._doc["builds"] = {**self._doc["builds"], kind: counts}

    def resource(self, kind: str, resource_id: str) -> None:
        """Record the catalogue resource holding a kind's golden records (its block data)."""
        with self._lock:
            self._doc["resources"] = {**self._doc["resources"], kind: resource_id}

    def finish(self, now: datetime, message: str) -> None:
        """Say the intake is complete."""
        with self._lock:
            self._doc.update(
                state="done", phase=None, fraction=1.0, finished_at=now, message=message
            )

    def fail(self, now: datetime, error: str) -> None:
        """Say the intake stopped on an error (its text, without data)."""
        with self._lock:
            self._doc.update(
                state="failed", finished_at=now, error=error,
                message="部门数据装载失败 / the departments' data intake failed",
            )  # fmt: skip
