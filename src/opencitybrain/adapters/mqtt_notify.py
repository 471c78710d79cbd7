"""Publish NGSI-LD notifications to MQTT brokers (the notifier's ``MqttSender``).

One connection per broker and credentials, opened on first use and kept: a subscription
notifying on every change of a busy sensor must not pay a connect per message. A
connection that fails is dropped and opened again on the next attempt (the notifier
retries with back-off). Connections belong to the event loop that opened them; ``close``
ends them all.
"""

from __future__ import annotations

import asyncio
import logging
import ssl

import aiomqtt

from opencitybrain.context.notify_mqtt import MqttEndpoint

log = logging.getLogger(__name__)

Key = tuple[bool, str, int, str | None, str | None, str]
_VERSIONS = {"mqtt3.1.1": aiomqtt.ProtocolVersion.V311, "mqtt5.0": aiomqtt.ProtocolVersion.V5}


class AiomqttSender:
    """An ``MqttSender`` on aiomqtt: one kept connection per broker, user and version."""

    def __init__(self, *, timeout_s: float = 5.0) -> None:
        self._timeout_s = timeout_s
        self._clients: dict[Key, aiomqtt.Client] = {}
        self._locks: dict[Key, asyncio.Lock] = {}

    async def _client(self, endpoint: MqttEndpoint) -> aiomqtt.Client:
        e = endpoint
        key: Key = (e.tls, e.host, e.port, e.username, e.password, e.version)
        client = self._clients.get(key)
        if client is not None:
            return client
        async with self._locks.setdefault(key, asyncio.Lock()):
            client = self._clients.get(key)
            if client is None:
                client = aiomqtt.Client(
                    e.host,
                    e.port,
                    username=e.username,
                    password=e.password,
                    protocol=_VERSIONS[e.version],
                    tls_context=ssl.create_default_context() if e.tls else None,
                    timeout=self._timeout_s,
                )
                await client.__aenter__()
                self._clients[key] = client
        return client

    async def publish(self, endpoint: MqttEndpoint, payload: bytes) -> bool:
        """Publish one notification; False (connection dropped) if the broker failed."""
        try:
            client = await self._client(endpoint)
            await client.publish(endpoint.topic, payload, qos=endpoint.qos, timeout=self._timeout_s)
            return True
        except (aiomqtt.MqttError, OSError, TimeoutError) as exc:
            log.info("MQTT notification to %s:%s failed: %r", endpoint.host, endpoint.port, exc)
            await self._drop(endpoint)
            return False

    async def _drop(self, endpoint: MqttEndpoint) -> None:
        e = endpoint
        client = self._clients.pop((e.tls, e.host, e.port, e.username, e.password, e.version), None)
        if client is not None:
            await _quietly_close(client)

    async def close(self) -> None:
        """Disconnect from every broker."""
        clients, self._clients = list(self._clients.values()), {}
        self._locks.clear()
        for client in clients:
            await _quietly_close(client)


async def _quietly_close(client: aiomqtt.Client) -> None:
    try:
        await client.__aexit__(None, None, None)
    except Exception as exc:  # already gone: nothing left to release
        log.debug("closing an MQTT connection: %r", exc)
