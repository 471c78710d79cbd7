"""One JetStream push subscription: decode, hand to the handler, then ack, nak or term.

Messages of one subscription are handled one at a time, in stream order. A handler that
raises gets the message again after a growing delay, up to ``max_deliver`` attempts; a
payload that is not a CloudEvent is terminated at once, since retrying cannot fix it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec

from opencitybrain.kernel.bus import Handler
from opencitybrain.kernel.errors import InvalidInput
from opencitybrain.kernel.events import CloudEvent

if TYPE_CHECKING:
    from opencitybrain.adapters.nats_bus import NatsBus

log = logging.getLogger(__name__)

_DECODER = msgspec.json.Decoder(dict[str, Any])
_MAX_RETRY_DELAY_S = 60.0


@dataclass(frozen=True, slots=True)
class ConsumerSettings:
    """Say how long a handler may hold a message and how failures are retried."""

    ack_wait_s: float = 30.0
    max_deliver: int = 5
    retry_delay_s: float = 1.0

    def retry_delay(self, attempt: int) -> float:
        """Return the delay before redelivering after failed ``attempt`` (1-based)."""
        return float(min(_MAX_RETRY_DELAY_S, self.retry_delay_s * 2 ** max(0, attempt - 1)))


def decode_event(payload: bytes) -> CloudEvent:
    """Rebuild a CloudEvent from its JSON payload, refusing anything else."""
    try:
        return CloudEvent.from_dict(_DECODER.decode(payload))
    except msgspec.DecodeError as exc:
        raise InvalidInput("event.malformed", "事件格式错误", f"malformed payload: {exc}") from exc


class NatsSubscription:
    """Handle the messages of one consumer until unsubscribed."""

    def __init__(
        self,
        bus: NatsBus,
        pattern: str,
        handler: Handler,
        group: str | None,
        consumer: str,
        settings: ConsumerSettings,
    ) -> None:
        self._bus = bus
        self.pattern = pattern
        self._handler = handler
        self.group = group
        self.consumer = consumer
        self._settings = settings
        self._psub: Any = None
        self._stopping = False
        self._current: Any = None
        self._started_at = 0.0
        self._handler_task: asyncio.Task[Any] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None

    async def start(self, nc: Any, js: Any, stream: str, config: Any) -> None:
        """Bind to the consumer's deliver subject and start handling messages."""
        self._psub = await js.subscribe_bind(
            stream=stream, config=config, consumer=self.consumer, cb=self._on_msg, manual_ack=True
        )
        # A round trip, so the server knows our interest before subscribe() returns; else
        # the first events of a group could all go to members that registered earlier.
        await nc.flush()
        self._watchdog = asyncio.create_task(
            self._keep_alive(), name=f"bus-watchdog:{self.pattern}"
        )

    async def _on_msg(self, msg: Any) -> None:
        if self._stopping:
            # Hand it straight back so another group member (or a later run) gets it.
            await _settle(msg.nak())
            return
        try:
            event = decode_event(msg.data)
        except InvalidInput as exc:
            log.warning("dropping a malformed message on %s: %s", msg.subject, exc.message_en)
            await _settle(msg.term())
            return
        self._current, self._started_at = msg, asyncio.get_running_loop().time()
        self._handler_task = asyncio.current_task()
        try:
            await self._handler(event)
        except Exception:
            attempt = int(msg.metadata.num_delivered or 1)
            if attempt >= self._settings.max_deliver:
                log.exception(
                    "bus handler failed for event %s (%s) on attempt %d; giving up",
                    event.id,
                    event.type,
                    attempt,
                )
                await _settle(msg.term())
            else:
                delay = self._settings.retry_delay(attempt)
                log.exception(
                    "bus handler failed for event %s (%s) on attempt %d; retrying in %.1f s",
                    event.id,
                    event.type,
                    attempt,
                    delay,
                )
                await _settle(msg.nak(delay=delay))
        else:
            await _settle(msg.ack())
        finally:
            self._current = None

    async def _keep_alive(self) -> None:
        # A handler slower than ack_wait would see its message redelivered while still
        # working on it; tell the server it is in progress well before that happens.
        interval = self._settings.ack_wait_s / 3
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(interval)
            msg = self._current
            if msg is not None and loop.time() - self._started_at >= interval:
                await _settle(msg.in_progress())

    async def unsubscribe(self) -> None:
        """Stop deliveries; a running handler finishes, buffered messages go back."""
        # Called from inside our own handler, waiting for the drain would wait for itself.
        inside = self._current is not None and asyncio.current_task() is self._handler_task
        if self._closer is None:
            self._stopping = True
            self._closer = asyncio.create_task(self._close(), name=f"bus-unsub:{self.pattern}")
        if not inside:
            await asyncio.shield(self._closer)

    async def _close(self) -> None:
        try:
            await self._psub.drain()
        except Exception as exc:
            log.debug("draining subscription %s: %s", self.pattern, exc)
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        if self.group is None:
            await self._bus._delete_consumer(self.consumer)
        self._bus._forget(self)


async def _settle(ack: Any) -> None:
    # An ack that cannot be sent (connection lost) means redelivery later, not a crash.
    try:
        await ack
    except Exception as exc:
        log.warning("could not settle a bus message: %s", exc)
