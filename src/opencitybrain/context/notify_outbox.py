"""What the notifier queues per subscription: a notice (endpoint, body, headers) and its outbox.

A notice is one Notification waiting to be sent; notices that may share one Notification
(same trigger reason, entity lists) are joined when the outbox drains.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from opencitybrain.context.subscription_match import Watch


@dataclass(frozen=True, slots=True)
class Notice:
    """One Notification waiting to be sent: endpoint, body, headers and notifierInfo."""

    uri: str
    body: dict[str, Any]
    headers: dict[str, str]
    info: tuple[tuple[str, str], ...] = ()  # the endpoint's notifierInfo (MQTT QoS, version)

    def joins(self, other: Notice) -> bool:
        """Tell whether ``other`` may ride in this notice's Notification."""
        if self.body["triggerReason"] != other.body["triggerReason"]:
            return False
        return isinstance(self.body["data"], list) and isinstance(other.body["data"], list)


@dataclass(slots=True)
class Outbox:
    """A subscription's queue of notices and the task draining it (one at a time)."""

    notices: deque[Notice] = field(default_factory=deque)
    task: asyncio.Task[None] | None = None
    dropped: int = 0


def notifier_info(watch: Watch) -> tuple[tuple[str, str], ...]:
    """Return a subscription's notifierInfo as pairs (MQTT QoS and version)."""
    pairs = watch.notification["endpoint"].get("notifierInfo", ())
    return tuple((p["key"], p["value"]) for p in pairs)
