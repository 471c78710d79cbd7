"""The platform event bus: its port, subject matching, and the in-process implementation.

Subjects are dot-separated tokens (the event type). Patterns follow NATS: ``*`` matches
exactly one token, ``>`` (last token only) matches one or more tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from opencitybrain.kernel.errors import InvalidInput
from opencitybrain.kernel.events import CloudEvent

log = logging.getLogger(__name__)
_ROUTES_MAX = 4096  # distinct event types remembered; a flood of new ones starts over

Handler = Callable[[CloudEvent], Awaitable[None]]


def validate_pattern(pattern: str) -> tuple[str, ...]:
    """Split a subject pattern into tokens, refusing malformed ones."""
    tokens = tuple(pattern.split("."))
    bad = any(t == "" for t in tokens) or any(
        (">" in t and (t != ">" or i != len(tokens) - 1)) or ("*" in t and t != "*")
        for i, t in enumerate(tokens)
    )
    if bad:
        raise InvalidInput(
            "bus.bad_pattern", f"订阅主题模式 {pattern!r} 无效", f"bad subject pattern {pattern!r}"
        )
    return tokens


def subject_matches(pattern: str | tuple[str, ...], subject: str) -> bool:
    """Tell whether ``subject`` matches the NATS-style ``pattern``."""
    ptoks = validate_pattern(pattern) if isinstance(pattern, str) else pattern
    stoks = subject.split(".")
    for i, p in enumerate(ptoks):
        if p == ">":
            return len(stoks) > i
        if i >= len(stoks) or (p != "*" and p != stoks[i]):
            return False
    return len(stoks) == len(ptoks)


class Subscription(Protocol):
    """A live subscription; cancel it to stop deliveries."""

    async def unsubscribe(self) -> None:
        """Stop deliveries to this subscription."""
        ...


class Bus(Protocol):
    """Publish CloudEvents and deliver them to subscribers whose pattern matches the type."""

    async def publish(self, event: CloudEvent) -> None:
        """Publish one event; returns once the bus has accepted it."""
        ...

    async def publish_many(self, events: Sequence[CloudEvent]) -> None:
        """Publish events in order; returns once the bus has accepted them all.

        A networked bus sends them pipelined (one round trip for the lot, not one each).
        """
        ...

    async def subscribe(
        self, pattern: str, handler: Handler, *, group: str | None = None
    ) -> Subscription:
        """Deliver matching events to ``handler``; one member per ``group`` gets each event."""
        ...

    async def close(self) -> None:
        """Stop all deliveries and release resources."""
        ...

    def healthy(self) -> bool:
        """Tell whether the bus can take events now (for health checks)."""
        ...


@dataclass(eq=False)
class _LocalSub:
    bus: InProcessBus
    tokens: tuple[str, ...]
    handler: Handler
    group: str | None
    queue: asyncio.Queue[CloudEvent | None] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        while True:
            event = await self.queue.get()
            if event is None:
                return
            try:
                await self.handler(event)
            except Exception:
                log.exception("bus handler failed for event %s (%s)", event.id, event.type)
            finally:
                self.bus._delivered(self)

    async def unsubscribe(self) -> None:
        """Stop deliveries and let queued events drain away."""
        await self.bus._remove(self)


class InProcessBus:
    """Deliver events inside one process, each subscriber in order on its own task."""

    def __init__(self) -> None:
        self._subs: list[_LocalSub] = []
        # Event type -> the subscribers whose pattern matches it, in subscription order;
        # types are few and repeat, so each is matched once (cleared on (un)subscribe).
        self._routes: dict[str, list[_LocalSub]] = {}
        self._rr: dict[tuple[str, tuple[str, ...]], int] = {}
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False

    async def publish(self, event: CloudEvent) -> None:
        """Queue the event for every matching subscriber (one per group)."""
        if self._closed:
            raise RuntimeError("bus is closed")
        routes = self._routes.get(event.type)
        if routes is None:
            if len(self._routes) >= _ROUTES_MAX:
                self._routes.clear()
            routes = [sub for sub in self._subs if subject_matches(sub.tokens, event.type)]
            self._routes[event.type] = routes
        groups: dict[tuple[str, tuple[str, ...]], list[_LocalSub]] = {}
        for sub in routes:
            if sub.group is None:
                self._enqueue(sub, event)
            else:
                groups.setdefault((sub.group, sub.tokens), []).append(sub)
        for key, members in groups.items():
            turn = self._rr.get(key, 0)
            self._rr[key] = turn + 1
            self._enqueue(members[turn % len(members)], event)

    async def publish_many(self, events: Sequence[CloudEvent]) -> None:
        """Queue the events in order, as ``publish`` does each."""
        for event in events:
            await self.publish(event)

    def _enqueue(self, sub: _LocalSub, event: CloudEvent) -> None:
        self._pending += 1
        self._idle.clear()
        sub.queue.put_nowait(event)

    def _delivered(self, sub: _LocalSub) -> None:
        self._pending -= 1
        if self._pending <= 0:
            self._pending = 0
            self._idle.set()

    async def subscribe(
        self, pattern: str, handler: Handler, *, group: str | None = None
    ) -> Subscription:
        """Start delivering matching events to ``handler``."""
        sub = _LocalSub(self, validate_pattern(pattern), handler, group)
        sub.task = asyncio.create_task(sub.run(), name=f"bus-sub:{pattern}")
        self._subs.append(sub)
        self._routes.clear()
        return sub

    async def _remove(self, sub: _LocalSub) -> None:
        if sub in self._subs:
            self._subs.remove(sub)
        self._routes.clear()
        # Count events still queued for it as settled, then stop its task.
        while not sub.queue.empty():
            if sub.queue.get_nowait() is not None:
                self._delivered(sub)
        sub.queue.put_nowait(None)
        if sub.task is None:
            return
        loop = sub.task.get_loop()
        if loop is asyncio.get_running_loop():
            with contextlib.suppress(asyncio.CancelledError):
                await sub.task
        elif not loop.is_closed():
            # Subscribed from another event loop (e.g. a test's): stop it there.
            loop.call_soon_threadsafe(sub.task.cancel)

    def healthy(self) -> bool:
        """Tell whether the bus is open."""
        return not self._closed

    async def drain(self, within_s: float = 5.0) -> None:
        """Wait until every queued event has been handled, at most ``within_s`` seconds."""
        async with asyncio.timeout(within_s):
            await self._idle.wait()

    async def close(self) -> None:
        """Stop every subscriber."""
        self._closed = True
        for sub in list(self._subs):
            await self._remove(sub)
