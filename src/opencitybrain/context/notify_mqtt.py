"""Notifications over MQTT (NGSI-LD MQTT binding): endpoint, message and the sender port.

An endpoint ``mqtt://[user:password@]host[:port]/topic`` (``mqtts://`` for TLS) names the
broker and the topic. The message is a JSON object with the notification as ``body`` and,
as ``metadata``, what HTTP would carry as headers (Content-Type, Link, NGSILD-Tenant and
the subscription's receiverInfo). ``notifierInfo`` may set ``MQTT-QoS`` (0, 1, 2; 0 by
default) and ``MQTT-Version`` (``mqtt3.1.1`` by default, or ``mqtt5.0``).

The context capability builds the message; publishing is an adapter's work
(``adapters/mqtt_notify.py``), handed to the notifier as a :class:`MqttSender`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

SCHEMES = ("mqtt", "mqtts")
QOS_KEY = "MQTT-QoS"
VERSION_KEY = "MQTT-Version"
VERSIONS = ("mqtt3.1.1", "mqtt5.0")


@dataclass(frozen=True, slots=True)
class MqttEndpoint:
    """Where an MQTT notification goes, and how."""

    tls: bool
    host: str
    port: int
    topic: str
    username: str | None = None
    password: str | None = None
    qos: int = 0
    version: str = "mqtt3.1.1"


class MqttSender(Protocol):
    """Publish one message to an MQTT broker (an adapter implements it)."""

    async def publish(self, endpoint: MqttEndpoint, payload: bytes) -> bool:
        """Publish; return whether the broker took the message."""
        ...

    async def close(self) -> None:
        """Disconnect from every broker."""
        ...


def endpoint_problem(uri: str, notifier_info: Mapping[str, str]) -> str | None:
    """Return what is wrong with an MQTT endpoint (None: nothing), in English."""
    parts = urlsplit(uri)
    if parts.scheme not in SCHEMES or not parts.hostname:
        return "must be mqtt://host[:port]/topic"
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        return "has a bad port"
    topic = unquote(parts.path.lstrip("/"))
    if not topic or "+" in topic or "#" in topic:
        return "must name a topic without wildcards"
    qos = notifier_info.get(QOS_KEY, "0")
    if qos not in ("0", "1", "2"):
        return f"{QOS_KEY} must be 0, 1 or 2"
    if notifier_info.get(VERSION_KEY, VERSIONS[0]) not in VERSIONS:
        return f"{VERSION_KEY} must be one of {', '.join(VERSIONS)}"
    return None


def parse_endpoint(uri: str, notifier_info: Mapping[str, str]) -> MqttEndpoint:
    """Return the endpoint of a checked MQTT URI and its notifierInfo."""
    parts = urlsplit(uri)
    tls = parts.scheme == "mqtts"
    return MqttEndpoint(
        tls=tls,
        host=parts.hostname or "",
        port=parts.port or (8883 if tls else 1883),
        topic=unquote(parts.path.lstrip("/")),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        qos=int(notifier_info.get(QOS_KEY, "0")),
        version=notifier_info.get(VERSION_KEY, VERSIONS[0]),
    )


def message(body: Mapping[str, Any], headers: Mapping[str, str]) -> bytes:
    """Return the MQTT payload of a notification: ``{"metadata": …, "body": …}``."""
    return json.dumps(
        {"metadata": dict(headers), "body": body}, ensure_ascii=False, separators=(",", ":")
    ).encode()


def is_mqtt(uri: str) -> bool:
    """Tell whether an endpoint URI is an MQTT one."""
    return uri.split(":", 1)[0] in SCHEMES
