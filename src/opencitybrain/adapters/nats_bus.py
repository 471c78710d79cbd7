"""The event bus on NATS JetStream: durable, at-least-once, shared across processes.

An event is published as its structured-mode CloudEvents JSON, with the event type as the
NATS subject (behind an optional ``prefix``, so several deployments or test runs can share
one server) and the event id as ``Nats-Msg-Id``, so a retried publish is stored once.
Subscribers get push consumers: without a group an ephemeral consumer of new events, with
a group one durable consumer whose members share the events (see ``nats_consumer``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import msgspec
import nats
from nats.js import api
from nats.js.errors import BadRequestError, NotFoundError

from opencitybrain.adapters.nats_consumer import ConsumerSettings, NatsSubscription
from opencitybrain.adapters.nats_publish import publish_pipelined
from opencitybrain.adapters.sql import redact
from opencitybrain.kernel.bus import Handler, Subscription, validate_pattern
from opencitybrain.kernel.errors import InvalidInput, Unavailable
from opencitybrain.kernel.events import CloudEvent

log = logging.getLogger(__name__)

_ENCODER = msgspec.json.Encoder()
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_STREAM_IN_USE = 10058  # JetStream error code: stream name already in use


def _unavailable(code: str, zh: str, en: str, exc: BaseException) -> Unavailable:
    return Unavailable(code, zh, f"{en}: {type(exc).__name__}: {exc}")


class NatsBus:
    """Publish and deliver CloudEvents through one NATS JetStream stream."""

    def __init__(
        self, nc: Any, stream: str, prefix: str, settings: ConsumerSettings, timeout: float
    ) -> None:
        self._nc = nc
        self._js = nc.jetstream(timeout=timeout)
        self._stream = stream
        self._prefix = f"{prefix}." if prefix else ""
        self._settings = settings
        self._timeout = timeout
        self._subs: set[NatsSubscription] = set()
        self._closed = False
        self._watch = _ConnectionWatch()

    @classmethod
    async def connect(
        cls,
        url: str,
        stream: str = "CITYBRAIN",
        subjects: Sequence[str] = ("city.>",),
        *,
        prefix: str = "",
        storage: Literal["file", "memory"] = "file",
        max_age_s: float | None = None,
        duplicate_window_s: float = 120.0,
        ack_wait_s: float = 30.0,
        max_deliver: int = 5,
        retry_delay_s: float = 1.0,
        timeout_s: float = 5.0,
    ) -> NatsBus:
        """Connect to NATS and create or update ``stream`` to hold ``subjects``."""
        if not _TOKEN_RE.match(stream):
            raise InvalidInput(
                "bus.bad_stream", f"流名称 {stream!r} 无效", f"bad stream {stream!r}"
            )
        if prefix:
            validate_pattern(prefix)
            if "*" in prefix or ">" in prefix:
                raise InvalidInput(
                    "bus.bad_prefix", "主题前缀不能含通配符", "subject prefix cannot have wildcards"
                )
        for pattern in subjects:
            validate_pattern(pattern)
        watch = _ConnectionWatch()
        try:
            nc = await nats.connect(
                servers=[url],
                name="opencitybrain",
                connect_timeout=timeout_s,
                # Fail fast when the server is down at start-up (-1 would retry forever)...
                max_reconnect_attempts=1,
                error_cb=watch.on_error,
                disconnected_cb=watch.on_disconnect,
                reconnected_cb=watch.on_reconnect,
            )
        except Exception as exc:
            raise _unavailable(
                "bus.unreachable",
                f"无法连接消息总线 {redact(url)}",
                f"cannot reach the NATS server at {redact(url)}",
                exc,
            ) from exc
        # ...but once connected, ride out any outage by reconnecting without limit.
        nc.options["max_reconnect_attempts"] = -1
        settings = ConsumerSettings(ack_wait_s, max_deliver, retry_delay_s)
        bus = cls(nc, stream, prefix, settings, timeout_s)
        bus._watch = watch
        config = api.StreamConfig(
            name=stream,
            subjects=[bus._subject(s) for s in subjects],
            storage=api.StorageType.MEMORY if storage == "memory" else api.StorageType.FILE,
            max_age=max_age_s,
            duplicate_window=duplicate_window_s,
        )
        try:
            await _ensure_stream(bus._js, config)
        except Exception as exc:
            await nc.close()
            raise _unavailable(
                "bus.stream_failed",
                f"无法创建或更新流 {stream}",
                f"cannot set up stream {stream}",
                exc,
            ) from exc
        log.info("bus on NATS %s, stream %s", redact(url), stream)
        return bus

    @property
    def stream(self) -> str:
        """Return the JetStream stream name."""
        return self._stream

    def _subject(self, event_type_or_pattern: str) -> str:
        return self._prefix + event_type_or_pattern

    async def publish(self, event: CloudEvent) -> None:
        """Publish one event and wait until JetStream has stored it."""
        self._check_open()
        subject, payload, headers = self._message(event)
        try:
            await self._js.publish(subject, payload, stream=self._stream, headers=headers)
        except Exception as exc:
            raise _unavailable(
                "bus.publish_failed", "事件发布失败", f"publishing {event.type} failed", exc
            ) from exc

    async def publish_many(self, events: Iterable[CloudEvent]) -> None:
        """Publish events pipelined, then wait for every ack; retrying the batch is safe."""
        self._check_open()
        # Encode everything first, so a bad event fails the call before anything is sent.
        messages = [self._message(event) for event in events]
        try:
            await publish_pipelined(self._nc, self._stream, messages, self._timeout)
        except Unavailable:
            raise
        except Exception as exc:
            raise _unavailable(
                "bus.publish_failed", "事件发布失败", "publishing failed", exc
            ) from exc

    def _message(self, event: CloudEvent) -> tuple[str, bytes, dict[str, str]]:
        try:
            payload = _ENCODER.encode(event.to_dict())
        except (TypeError, msgspec.EncodeError) as exc:
            raise InvalidInput(
                "bus.unencodable",
                "事件数据无法编码为 JSON",
                f"event data is not JSON-encodable: {exc}",
            ) from exc
        return self._subject(event.type), payload, {"Nats-Msg-Id": event.id}

    async def subscribe(
        self, pattern: str, handler: Handler, *, group: str | None = None
    ) -> Subscription:
        """Deliver new events matching ``pattern``; a ``group`` shares one durable consumer."""
        self._check_open()
        validate_pattern(pattern)
        filter_subject = self._subject(pattern)
        config = api.ConsumerConfig(
            deliver_policy=api.DeliverPolicy.NEW,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=self._settings.ack_wait_s,
            max_deliver=self._settings.max_deliver,
            filter_subject=filter_subject,
        )
        if group is None:
            config.deliver_subject = self._nc.new_inbox()
            # Lets the server drop the consumer if this process dies without unsubscribing.
            config.inactive_threshold = 30.0
        else:
            durable = durable_name(group, pattern)
            config.durable_name = durable
            config.deliver_group = durable
            # Every member must agree on the deliver subject; derive it, never randomise.
            config.deliver_subject = f"_CB.deliver.{self._stream}.{durable}"
        try:
            info = await _ensure_consumer(self._js, self._stream, config)
            sub = NatsSubscription(self, pattern, handler, group, info.name, self._settings)
            await sub.start(self._nc, self._js, self._stream, info.config)
        except Exception as exc:
            raise _unavailable(
                "bus.subscribe_failed", "订阅失败", f"subscribing to {pattern} failed", exc
            ) from exc
        self._subs.add(sub)
        return sub

    def _forget(self, sub: NatsSubscription) -> None:
        self._subs.discard(sub)

    async def _delete_consumer(self, name: str) -> None:
        try:
            await self._js.delete_consumer(self._stream, name)
        except NotFoundError:
            pass
        except Exception as exc:
            log.warning("could not delete consumer %s: %s", name, exc)

    def healthy(self) -> bool:
        """Tell whether the bus is open and connected to NATS."""
        return not self._closed and bool(self._nc.is_connected)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("bus is closed")

    async def close(self) -> None:
        """Stop every subscription, flush pending acks and close the connection."""
        if self._closed:
            return
        self._closed = True
        self._watch.closing = True
        for sub in list(self._subs):
            await sub.unsubscribe()
        try:
            await self._nc.drain()
        except Exception as exc:
            log.warning("closing the NATS connection failed: %s", exc)


def durable_name(group: str, pattern: str) -> str:
    """Return the durable consumer name shared by ``group`` members on ``pattern``."""
    digest = hashlib.sha256(f"{group}\0{pattern}".encode()).hexdigest()[:12]
    readable = re.sub(r"[^A-Za-z0-9_-]", "_", group)[:48]
    return f"{readable}_{digest}"


async def _ensure_stream(js: Any, config: api.StreamConfig) -> None:
    try:
        info = await js.stream_info(config.name)
    except NotFoundError:
        try:
            await js.add_stream(config)
            return
        except BadRequestError as exc:
            # Another process created it first; fall through and reconcile.
            if exc.err_code != _STREAM_IN_USE:
                raise
            info = await js.stream_info(config.name)
    current = info.config
    wanted = dataclasses.replace(
        current,
        subjects=config.subjects,
        max_age=config.max_age if config.max_age is not None else current.max_age,
        duplicate_window=config.duplicate_window,
    )
    if wanted != current:
        log.info("updating stream %s to subjects %s", config.name, config.subjects)
        await js.update_stream(wanted)


async def _ensure_consumer(js: Any, stream: str, config: api.ConsumerConfig) -> Any:
    if config.durable_name:
        try:
            return await js.consumer_info(stream, config.durable_name)
        except NotFoundError:
            pass
    return await js.add_consumer(stream, config)


class _ConnectionWatch:
    """Log connection trouble, but not the disconnect that closing causes."""

    def __init__(self) -> None:
        self.closing = False

    async def on_error(self, exc: Exception) -> None:
        """Log an asynchronous NATS error."""
        log.warning("NATS error: %s", exc)

    async def on_disconnect(self) -> None:
        """Log a lost connection."""
        if not self.closing:
            log.warning("NATS disconnected; reconnecting")

    async def on_reconnect(self) -> None:
        """Log a restored connection."""
        log.info("NATS reconnected")
