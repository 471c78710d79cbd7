"""MQTT ingress: subscribe to device topics and hand over messages in batches.

Devices publish one message per report; handling them one by one would cost a Python
round trip each, so messages are gathered into batches, closed by count (``max_batch``)
or by age (``max_wait_s`` after the first message), and the handler gets the whole
batch. The subscriber reconnects with back-off when the broker goes away.

Topic scheme for device data (documented in docs/fleet.md)::

    citybrain/<tenant>/<app>/<device-id>/<channel>     e.g. citybrain/nanchang/fleet/T-0001/position

The device id in the topic is what the broker's ACL ties to a terminal's credentials
(``pattern write citybrain/+/fleet/%c/position`` in Mosquitto), so handlers can refuse a
payload that claims another device.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiomqtt

from opencitybrain.kernel.errors import InvalidInput

__all__ = ["MqttBatcher", "MqttMessage", "device_topic", "parse_mqtt_url", "publish_many"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MqttMessage:
    """Hold one received message: its topic and raw payload."""

    topic: str
    payload: bytes


BatchHandler = Callable[[Sequence[MqttMessage]], Awaitable[None]]


def device_topic(tenant: str, app: str, device_id: str, channel: str) -> str:
    """Return the topic a device publishes a channel on."""
    for part in (tenant, app, device_id, channel):
        if not part or any(c in part for c in "/+#") or len(part) > 64:
            raise InvalidInput(
                "mqtt.bad_topic_part",
                f"主题片段 {part!r} 无效",
                f"topic part {part!r} is empty, too long or has / + #",
            )
    return f"citybrain/{tenant}/{app}/{device_id}/{channel}"


def topic_device(topic: str) -> str | None:
    """Return the device id of a ``citybrain/<tenant>/<app>/<device>/<channel>`` topic."""
    parts = topic.split("/")
    return parts[3] if len(parts) == 5 and parts[0] == "citybrain" else None


def parse_mqtt_url(url: str) -> tuple[str, int, str | None, str | None]:
    """Return host, port, username and password of an ``mqtt://`` URL."""
    parts = urlsplit(url)
    if parts.scheme != "mqtt" or not parts.hostname:
        raise InvalidInput(
            "mqtt.bad_url", f"MQTT 地址 {url!r} 须为 mqtt://主机:端口", f"bad MQTT URL {url!r}"
        )
    return parts.hostname, parts.port or 1883, parts.username, parts.password


class MqttBatcher:
    """Subscribe to topic filters and deliver messages to a handler in batches."""

    def __init__(
        self,
        url: str,
        topics: Sequence[str],
        handler: BatchHandler,
        *,
        max_batch: int = 5000,
        max_wait_s: float = 0.2,
        client_id: str | None = None,
        qos: int = 1,
    ) -> None:
        self.host, self.port, self.username, self.password = parse_mqtt_url(url)
        self.topics = list(topics)
        self.handler = handler
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.client_id = client_id
        self.qos = qos
        self.received = 0
        self.batches = 0
        self.connected = asyncio.Event()

    async def run(self) -> None:
        """Receive and deliver batches until cancelled, reconnecting after failures."""
        delay = 0.5
        while True:
            try:
                await self._session()
            except aiomqtt.MqttError as exc:
                self.connected.clear()
                log.warning("MQTT %s:%s unavailable (%s); retrying in %.1fs",
                            self.host, self.port, exc, delay)  # fmt: skip
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def _session(self) -> None:
        async with aiomqtt.Client(
            self.host,
            self.port,
            username=self.username,
            password=self.password,
            identifier=self.client_id,
        ) as client:
            for topic in self.topics:
                await client.subscribe(topic, qos=self.qos)
            self.connected.set()
            queue: asyncio.Queue[MqttMessage] = asyncio.Queue()
            pump = asyncio.create_task(self._pump(client, queue))
            try:
                await self._deliver(queue, pump)
            finally:
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                    await pump

    @staticmethod
    async def _pump(client: aiomqtt.Client, queue: asyncio.Queue[MqttMessage]) -> None:
        async for message in client.messages:
            payload = message.payload
            raw = payload if isinstance(payload, bytes) else str(payload).encode()
            queue.put_nowait(MqttMessage(str(message.topic), raw))

    async def _deliver(self, queue: asyncio.Queue[MqttMessage], pump: asyncio.Task[None]) -> None:
        while True:
            first = await _next(queue, pump)
            batch = [first]
            deadline = time.monotonic() + self.max_wait_s
            while len(batch) < self.max_batch:
                while not queue.empty() and len(batch) < self.max_batch:
                    batch.append(queue.get_nowait())
                left = deadline - time.monotonic()
                if left <= 0 or len(batch) >= self.max_batch:
                    break
                try:
                    batch.append(await asyncio.wait_for(_next(queue, pump), left))
                except TimeoutError:
                    break
            self.received += len(batch)
            self.batches += 1
            try:
                await self.handler(batch)
            except Exception:  # one bad batch must not stop ingestion
                log.exception("MQTT batch handler failed on %d messages", len(batch))


async def _next(queue: asyncio.Queue[MqttMessage], pump: asyncio.Task[None]) -> MqttMessage:
    """Return the next message, or raise what ended the pump (a lost connection)."""
    if pump.done():
        pump.result()  # raises MqttError when the connection dropped
        raise aiomqtt.MqttError("MQTT message stream ended")
    getter = asyncio.ensure_future(queue.get())
    done, _ = await asyncio.wait({getter, pump}, return_when=asyncio.FIRST_COMPLETED)
    if getter in done:
        return getter.result()
    getter.cancel()
    pump.result()
    raise aiomqtt.MqttError("MQTT message stream ended")


async def publish_many(url: str, messages: Sequence[MqttMessage], *, qos: int = 1) -> None:
    """Publish messages to the broker (device simulators, tests, replays)."""
    host, port, username, password = parse_mqtt_url(url)
    async with aiomqtt.Client(host, port, username=username, password=password) as client:
        for m in messages:
            await client.publish(m.topic, m.payload, qos=qos)
