"""What one batch through the engine did: counts, quarantine, accepted points, alerts."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from opencitybrain.apps.fleet.alerts import Alert
from opencitybrain.apps.fleet.messages import PositionBatch, Quarantined


@dataclass(eq=False)
class Outcome:
    """Say what one batch did: counts, quarantine, accepted points, alerts opened/closed.

    ``points`` holds every accepted point (late ones too, for history); ``late`` marks
    those older than their vehicle's last point, which did not drive state or rules.
    """

    received: int
    accepted: int
    duplicates: int
    quarantined: list[Quarantined]
    points: PositionBatch
    slots: NDArray[np.int64]
    late: NDArray[np.bool_]
    opened: list[Alert] = field(default_factory=list)
    closed: list[Alert] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        """Return the ingest answer: received, accepted, duplicates, quarantined."""
        return {
            "received": self.received,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "quarantined": [
                {"index": q.index, "code": q.code, "reason": q.reason} for q in self.quarantined
            ],
        }
