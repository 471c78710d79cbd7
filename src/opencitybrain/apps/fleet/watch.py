"""A version of the alert list and a wait for its next change: long polls of alerts.

The cockpit asks for the open alerts with the version it holds (``If-None-Match``) and
``wait``; the answer comes as soon as an alert opens or closes, or ``304`` when the wait
ends with nothing new. A violation then reaches the screen in one HTTP round trip, not
after up to a poll interval, and an idle cockpit costs one request per wait.
"""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["AlertWatch"]


class AlertWatch:
    """Count changes of the alert list and wake whoever waits for the next one.

    Used from the event loop that serves the app (``bump`` and ``wait`` both).
    """

    def __init__(self) -> None:
        self.version = 0
        self._changed: asyncio.Event | None = None

    @property
    def etag(self) -> str:
        """Return the current version as an HTTP entity tag."""
        return f'"alerts-{self.version}"'

    def bump(self) -> None:
        """Record a change (an alert opened or closed, rules replaced); wake the waiters."""
        self.version += 1
        changed, self._changed = self._changed, None
        if changed is not None:
            changed.set()

    async def wait(self, seen: str, timeout_s: float) -> str:
        """Wait until the entity tag differs from ``seen`` or ``timeout_s`` passes; return it."""
        if self.etag != seen or timeout_s <= 0:
            return self.etag
        if self._changed is None:
            self._changed = asyncio.Event()
        changed = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), timeout_s)
        return self.etag
