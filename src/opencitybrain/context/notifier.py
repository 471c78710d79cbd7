"""Notify subscribers over HTTP when entities change (spec 1.8, clauses 5.8.6 and 7.2).

The broker publishes each change on the platform bus (``city.context.entity.*``); the
notifier matches it against the tenant's subscriptions (rules in ``subscription_match``),
renders the entity once per subscription and POSTs a Notification to the endpoint.

* Each subscription has its own outbox, drained in order by one task, so a slow or dead
  endpoint delays only its own notifications. Changes that pile up meanwhile (with the
  same trigger reason) leave together, as one Notification whose ``data`` lists them.
* A failed POST is retried with exponential backoff (1 s, 2 s, 4 s by default) in clock
  time, never longer than the same number of real seconds; then it counts as failed.
* Delivery status is written behind, for all subscriptions in one transaction every
  ``flush_s``: one SQLite write per notification would serialise the outboxes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any

import httpx

from opencitybrain.context.model import Entity, from_doc
from opencitybrain.context.notify_mqtt import MqttSender, is_mqtt, message, parse_endpoint
from opencitybrain.context.notify_outbox import Notice, Outbox, notifier_info
from opencitybrain.context.service import ContextBroker
from opencitybrain.context.subscription_match import Watch, change_reasons, compile_watch, payload
from opencitybrain.context.subscription_store import Outcome, SubscriptionStore
from opencitybrain.kernel.bus import Bus, Subscription
from opencitybrain.kernel.events import CloudEvent

log = logging.getLogger(__name__)

PATTERN = "city.context.entity.>"
# One member of the group gets each change, so several workers notify once, not N times.
GROUP = "context-notifier"
Key = tuple[str, str]  # (tenant, subscription id)


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
        backlog: int = 10_000,
        max_batch: int = 100,
        flush_s: float = 0.05,
        cache_ttl_s: float = 30.0,
        tick_s: float = 1.0,
        transport: httpx.AsyncBaseTransport | None = None,
        mqtt: MqttSender | None = None,
    ) -> None:
        self._entities = broker.store
        self._index = broker.index
        self._resolver = broker.resolver
        self._clock = broker.clock
        self._subs = subscriptions
        self._attempts = max(1, attempts)
        self._backoff_s = backoff_s
        self._timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 2.0))
        self._concurrency = concurrency
        self._backlog = backlog
        self._max_batch = max_batch
        self._flush_s = flush_s
        self._cache_ttl_s = cache_ttl_s
        self._transport = transport
        self._mqtt = mqtt
        # Per tenant: when loaded (monotonic) and the compiled subscriptions.
        self._cache: dict[str, tuple[float, list[Watch]]] = {}
        self._generation: dict[str, int] = {}
        self._last_sent: dict[Key, datetime] = {}
        self._outboxes: dict[Key, Outbox] = {}
        self._results: dict[Key, list[Outcome]] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._periodic: asyncio.Task[None] | None = None
        self._period_seen: dict[Key, datetime] = {}
        self._tick_s = tick_s
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
        self._flusher = None
        self._client = httpx.AsyncClient(
            timeout=self._timeout, transport=self._transport, follow_redirects=False
        )
        self._slots = asyncio.Semaphore(self._concurrency)
        self._bus_sub = await bus.subscribe(PATTERN, self.handle, group=GROUP)
        self._periodic = asyncio.create_task(self._periodic_loop(), name="notify:periodic")
        return True

    async def stop(self, within_s: float = 5.0) -> None:
        """Stop listening, cancel pending deliveries and save the delivery status."""
        if self._loop is None or self._loop is not asyncio.get_running_loop():
            return
        if self._bus_sub is not None:
            await self._bus_sub.unsubscribe()
        tasks = [box.task for box in self._outboxes.values() if box.task is not None]
        if self._periodic is not None:
            tasks.append(self._periodic)
        if self._flusher is not None:
            tasks.append(self._flusher)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=within_s)
        await self._flush()
        if self._client is not None:
            await self._client.aclose()
        if self._mqtt is not None:
            await self._mqtt.close()  # its connections belong to this loop
        self._loop, self._bus_sub, self._client, self._slots = None, None, None, None
        self._outboxes.clear()

    async def idle(self, within_s: float = 10.0) -> None:
        """Wait until every queued notification is delivered (or given up) and recorded."""
        async with asyncio.timeout(within_s):
            while tasks := [b.task for b in self._outboxes.values() if b.task is not None]:
                await asyncio.wait(tasks)
            if self._flusher is not None:
                await self._flusher

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
        # Events are matched asynchronously: a subscription activated or created after
        # the change (a load of its new version racing with this event) must not see it.
        candidates = [
            w
            for w in await self._watches(tenant)
            if w.interval is None
            and w.live(now)
            and w.covers(event.time)
            and w.selects(entity_id, types)
        ]
        if not candidates:
            return
        entity: Entity | None = None
        if what != "deleted":
            carried = data.get("entity")
            if isinstance(carried, dict):
                entity = from_doc(carried)  # the state this change produced
            else:
                doc = await asyncio.to_thread(self._entities.get, tenant, entity_id)
                if doc is None:
                    return  # deleted since; its deletion will be announced too
                entity = from_doc(doc)
        reasons = change_reasons(what, tuple(data.get("attrs") or ()), entity)
        before = data.get("previous")
        previous = (
            from_doc({"id": entity_id, "type": [], "attrs": before}).attrs if before else None
        )
        for watch in candidates:
            try:
                reason = watch.trigger(reasons, entity)
                if reason is None or self._throttled(watch, now):
                    continue
                target = entity or Entity(entity_id, types)
                notice = payload(
                    watch,
                    target,
                    reason,
                    now,
                    self._resolver,
                    deleted=not entity,
                    previous=previous,
                )
            except Exception:
                log.exception("subscription %s failed to match %s", watch.id, entity_id)
                continue
            self._post((watch.tenant, watch.id), Notice(*notice, notifier_info(watch)))

    # --- periodic notifications ---------------------------------------------------------

    async def _periodic_loop(self) -> None:
        while True:
            await asyncio.sleep(self._tick_s)
            try:
                await self.run_periods()
            except Exception:
                log.exception("periodic notifications failed")

    async def run_periods(self) -> int:
        """Notify every timeInterval subscription whose interval began; return how many.

        Intervals are aligned on the epoch of the city clock, so every worker computes the
        same one; the store lets one worker claim it.
        """
        now = self._clock.now()
        sent = 0
        for tenant in await asyncio.to_thread(self._subs.tenants):
            for watch in await self._watches(tenant):
                if watch.interval is None or not watch.live(now):
                    continue
                start = now.timestamp() // watch.interval * watch.interval
                due = datetime.fromtimestamp(start, UTC)
                key = (tenant, watch.id)
                if self._period_seen.get(key) == due:
                    continue
                self._period_seen[key] = due
                if not await asyncio.to_thread(self._subs.claim_period, tenant, watch.id, due):
                    continue  # another worker sends this one
                entities = await asyncio.to_thread(self._periodic_entities, watch)
                for entity in entities:
                    notice = payload(watch, entity, "timeInterval", now, self._resolver)
                    self._post(key, Notice(*notice, notifier_info(watch)))
                sent += 1
        return sent

    def _periodic_entities(self, watch: Watch) -> list[Entity]:
        found: dict[str, Entity] = {}
        for selector in watch.selectors or (None,):
            types = sorted(selector.types) if selector is not None else None
            ids = [selector.id] if selector is not None and selector.id else None
            for entity in self._index.candidates(
                watch.tenant, types=types, ids=ids, id_pattern=None
            ):
                if entity.id not in found and watch.matches(entity):
                    found[entity.id] = entity
        return list(found.values())

    def _throttled(self, watch: Watch, now: datetime) -> bool:
        key = (watch.tenant, watch.id)
        last = self._last_sent.get(key, watch.last_notification)
        if last is not None and (now - last).total_seconds() < watch.throttling:
            return True
        self._last_sent[key] = now
        return False

    # --- delivery -----------------------------------------------------------------------

    def _post(self, key: Key, notice: Notice) -> None:
        box = self._outboxes.get(key)
        if box is None:
            box = self._outboxes[key] = Outbox()
            box.task = asyncio.create_task(self._drain(key, box), name=f"notify:{key[1]}")
        if len(box.notices) >= self._backlog:
            if not box.dropped:
                log.warning("subscription %s: outbox full; dropping notifications", key[1])
            box.dropped += 1
            return
        box.notices.append(notice)

    async def _drain(self, key: Key, box: Outbox) -> None:
        try:
            while box.notices:
                first = box.notices.popleft()
                body = first.body
                if isinstance(body["data"], list):
                    body = {**body, "data": self._join(first, box.notices)}
                assert self._slots is not None
                async with self._slots:
                    if is_mqtt(first.uri):
                        ok = await self._publish(first, message(body, first.headers))
                    else:
                        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
                        ok = await self._send(first.uri, raw.encode(), first.headers)
                self._record(key, (self._clock.now(), ok))
        except Exception:
            log.exception("notifying for subscription %s failed", key[1])
        finally:
            if box.dropped:
                log.warning("subscription %s: %d notifications dropped", key[1], box.dropped)
            if self._outboxes.get(key) is box:
                del self._outboxes[key]

    def _join(self, first: Notice, queued: deque[Notice]) -> list[Any]:
        """Return the entities of ``first`` and of the queued notices that may join it."""
        data = list(first.body["data"])
        last = {e.get("id"): e for e in data}
        while queued and len(data) < self._max_batch and first.joins(queued[0]):
            for entity in queued.popleft().body["data"]:
                # Each change is rendered as the entity is when it is matched, so a burst
                # matched at once repeats one state; sending it once says the same.
                if last.get(entity.get("id")) != entity:
                    data.append(entity)
                    last[entity.get("id")] = entity
        return data

    async def _send(self, uri: str, body: bytes, headers: dict[str, str]) -> bool:
        assert self._client is not None
        for attempt in range(self._attempts):
            try:
                res = await self._client.post(uri, content=body, headers=headers)
                if res.is_success:
                    return True
                log.info("notification to %s answered %d", uri, res.status_code)
                if res.status_code < 500 and res.status_code not in (408, 429):
                    return False  # the receiver refuses it; asking again will not help
            except httpx.HTTPError as exc:
                log.info("notification to %s failed: %r", uri, exc)
            if attempt + 1 < self._attempts:
                await self._pause(self._backoff_s * 2**attempt)
        return False

    async def _publish(self, notice: Notice, payload: bytes) -> bool:
        if self._mqtt is None:
            log.warning("no MQTT sender wired; notification to %s not sent", notice.uri)
            return False
        endpoint = parse_endpoint(notice.uri, dict(notice.info))
        for attempt in range(self._attempts):
            if await self._mqtt.publish(endpoint, payload):
                return True
            if attempt + 1 < self._attempts:
                await self._pause(self._backoff_s * 2**attempt)
        return False

    async def _pause(self, seconds: float) -> None:
        # Clock time (a simulated clock runs faster), but never longer than real time:
        # a manual clock nobody advances must not hold deliveries forever.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._clock.sleep(seconds)

    # --- delivery status ----------------------------------------------------------------

    def _record(self, key: Key, outcome: Outcome) -> None:
        self._results.setdefault(key, []).append(outcome)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_soon(), name="notify:status")

    async def _flush_soon(self) -> None:
        # Ends as soon as nothing is left to write; _record starts it again.
        while self._results:
            await asyncio.sleep(self._flush_s)
            await self._flush()

    async def _flush(self) -> None:
        results, self._results = self._results, {}
        if results:
            try:
                await asyncio.to_thread(self._subs.record_deliveries, results)
            except Exception:
                log.exception("recording the status of %d subscriptions failed", len(results))
