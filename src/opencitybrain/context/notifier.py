"""Notify subscribers over HTTP when entities change (spec 1.8, clauses 5.8.6 and 7.2).

The broker publishes each change on the platform bus (``city.context.entity.*``); the
notifier matches it against the tenant's subscriptions (see ``subscription_match.py``
for the rules), renders the entity once per subscription and POSTs a Notification.
Each subscription has its own outbox, drained in order by one task, so a slow or dead
endpoint delays only its own notifications; failed deliveries are retried with
exponential backoff in clock time, never longer than the same number of real seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from opencitybrain.context.model import Entity, from_doc
from opencitybrain.context.service import ContextBroker
from opencitybrain.context.subscription_match import Watch, change_reasons, compile_watch, payload
from opencitybrain.context.subscription_store import SubscriptionStore
from opencitybrain.kernel.bus import Bus, Subscription
from opencitybrain.kernel.events import CloudEvent

log = logging.getLogger(__name__)

PATTERN = "city.context.entity.>"
# One member of the group gets each change, so several workers notify once, not N times.
GROUP = "context-notifier"


@dataclass(frozen=True, slots=True)
class _Notice:
    uri: str
    body: bytes
    headers: dict[str, str]


@dataclass(slots=True)
class _Outbox:
    notices: deque[_Notice] = field(default_factory=deque)
    task: asyncio.Task[None] | None = None


class Notifier:
    """Send NGSI-LD notifications for the changes announced on the bus."""

    def __init__(
        self,
        broker: ContextBroker,
        subscriptions: SubscriptionStore,
        *,
        attempts: int = 4,
        backoff_s: float = 1.0,
        timeout_s: float = 5.0,
        concurrency: int = 64,
        backlog: int = 1000,
        cache_ttl_s: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._entities = broker.store
        self._resolver = broker.resolver
        self._clock = broker.clock
        self._subs = subscriptions
        self._attempts = max(1, attempts)
        self._backoff_s = backoff_s
        self._timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 2.0))
        self._concurrency = concurrency
        self._backlog = backlog
        self._cache_ttl_s = cache_ttl_s
        self._transport = transport
        # Per tenant: when loaded (monotonic) and the compiled subscriptions.
        self._cache: dict[str, tuple[float, list[Watch]]] = {}
        self._generation: dict[str, int] = {}
        self._last_sent: dict[tuple[str, str], datetime] = {}
        self._outboxes: dict[tuple[str, str], _Outbox] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._bus_sub: Subscription | None = None
        self._client: httpx.AsyncClient | None = None
        self._slots: asyncio.Semaphore | None = None
        subscriptions.listen(self.invalidate)

    # --- life cycle ---------------------------------------------------------------------

    async def start(self, bus: Bus) -> bool:
        """Listen for changes in the running event loop; False if already listening.

        A notifier started in an event loop that has since closed (tests build the
        platform in one loop and serve it in another) starts again in this one.
        """
        if self._loop is not None and not self._loop.is_closed():
            return False
        if self._bus_sub is not None:
            # Its task died with its loop; drop it so the bus stops queueing for it.
            with contextlib.suppress(Exception):
                await self._bus_sub.unsubscribe()
        self._loop = asyncio.get_running_loop()
        self._outboxes.clear()
        self._client = httpx.AsyncClient(
            timeout=self._timeout, transport=self._transport, follow_redirects=False
        )
        self._slots = asyncio.Semaphore(self._concurrency)
        self._bus_sub = await bus.subscribe(PATTERN, self.handle, group=GROUP)
        return True

    async def stop(self, within_s: float = 5.0) -> None:
        """Stop listening and cancel pending deliveries (in the loop that started it)."""
        if self._loop is None or self._loop is not asyncio.get_running_loop():
            return
        if self._bus_sub is not None:
            await self._bus_sub.unsubscribe()
        tasks = [box.task for box in self._outboxes.values() if box.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=within_s)
        if self._client is not None:
            await self._client.aclose()
        self._loop, self._bus_sub, self._client, self._slots = None, None, None, None
        self._outboxes.clear()

    async def idle(self, within_s: float = 10.0) -> None:
        """Wait until every queued notification has been delivered or given up on."""
        async with asyncio.timeout(within_s):
            while tasks := [b.task for b in self._outboxes.values() if b.task is not None]:
                await asyncio.wait(tasks)

    # --- subscriptions ------------------------------------------------------------------

    def invalidate(self, tenant: str) -> None:
        """Forget the cached subscriptions of a tenant (called on every CRUD)."""
        # Called from worker threads; bumping the generation makes a load racing with
        # this call discard what it read.
        self._generation[tenant] = self._generation.get(tenant, 0) + 1
        self._cache.pop(tenant, None)

    async def _watches(self, tenant: str) -> list[Watch]:
        cached = self._cache.get(tenant)
        if cached is not None and time.monotonic() - cached[0] < self._cache_ttl_s:
            return cached[1]
        generation = self._generation.get(tenant, 0)
        docs = await asyncio.to_thread(self._subs.list, tenant)
        watches = []
        for doc in docs:
            try:
                watches.append(compile_watch(tenant, doc, self._resolver))
            except Exception:
                log.warning("subscription %s cannot be compiled; skipped", doc.get("id"))
        if self._generation.get(tenant, 0) == generation:
            self._cache[tenant] = (time.monotonic(), watches)
        return watches

    # --- matching -----------------------------------------------------------------------

    async def handle(self, event: CloudEvent) -> None:
        """Match one entity change against the tenant's subscriptions and queue notices."""
        data: dict[str, Any] = event.data if isinstance(event.data, dict) else {}
        tenant, entity_id = str(data.get("tenant", "")), data.get("id")
        if not isinstance(entity_id, str):
            return
        what = event.type.rsplit(".", 1)[-1]
        types = tuple(data.get("type") or ())
        now = self._clock.now()
        candidates = [
            w for w in await self._watches(tenant) if w.live(now) and w.selects(entity_id, types)
        ]
        if not candidates:
            return
        entity: Entity | None = None
        if what != "deleted":
            doc = await asyncio.to_thread(self._entities.get, tenant, entity_id)
            if doc is None:
                return  # deleted since; its deletion will be announced too
            entity = from_doc(doc)
        reasons = change_reasons(what, tuple(data.get("attrs") or ()), entity)
        for watch in candidates:
            try:
                reason = watch.trigger(reasons, entity)
                if reason is None or self._throttled(watch, now):
                    continue
                target = entity or Entity(entity_id, types)
                notice = payload(watch, target, reason, now, self._resolver, deleted=not entity)
            except Exception:
                log.exception("subscription %s failed to match %s", watch.id, entity_id)
                continue
            self._post(watch, _Notice(*notice))

    def _throttled(self, watch: Watch, now: datetime) -> bool:
        key = (watch.tenant, watch.id)
        last = self._last_sent.get(key, watch.last_notification)
        if last is not None and (now - last).total_seconds() < watch.throttling:
            return True
        self._last_sent[key] = now
        return False

    # --- delivery -----------------------------------------------------------------------

    def _post(self, watch: Watch, notice: _Notice) -> None:
        key = (watch.tenant, watch.id)
        box = self._outboxes.get(key)
        if box is None:
            box = self._outboxes[key] = _Outbox()
            box.task = asyncio.create_task(self._drain(key, box), name=f"notify:{watch.id}")
        if len(box.notices) >= self._backlog:
            log.warning(
                "subscription %s: %d notifications waiting; dropped one", key[1], len(box.notices)
            )
            return
        box.notices.append(notice)

    async def _drain(self, key: tuple[str, str], box: _Outbox) -> None:
        tenant, sub_id = key
        try:
            while box.notices:
                notice = box.notices.popleft()
                assert self._slots is not None
                async with self._slots:
                    ok = await self._send(notice)
                await asyncio.to_thread(
                    self._subs.record_notification, tenant, sub_id, self._clock.now(), ok
                )
        except Exception:
            log.exception("notifying for subscription %s failed", sub_id)
        finally:
            if self._outboxes.get(key) is box:
                del self._outboxes[key]

    async def _send(self, notice: _Notice) -> bool:
        assert self._client is not None
        for attempt in range(self._attempts):
            try:
                res = await self._client.post(
                    notice.uri, content=notice.body, headers=notice.headers
                )
                if res.is_success:
                    return True
                log.info("notification to %s answered %d", notice.uri, res.status_code)
                if res.status_code < 500 and res.status_code not in (408, 429):
                    return False  # the receiver refuses it; asking again will not help
            except httpx.HTTPError as exc:
                log.info("notification to %s failed: %s", notice.uri, exc)
            if attempt + 1 < self._attempts:
                await self._pause(self._backoff_s * 2**attempt)
        return False

    async def _pause(self, seconds: float) -> None:
        # Clock time (a simulated clock runs faster), but never longer than real time:
        # a manual clock nobody advances must not hold deliveries forever.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._clock.sleep(seconds)
