"""NGSI-LD notifications over MQTT, received from the real Mosquitto on 127.0.0.1:1883."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as paho
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion

from tests.integration.conftest import service_missing
from tests.support import DemoCity, bearer

MQTT_URL = os.environ.get("CITYBRAIN_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
CONTEXT = "https://smart-data-models.github.io/dataModel.Parking/context.jsonld"
LINK = f'<{CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
WAIT_S = 15


class Listener:
    """A subscriber on one topic, collecting the decoded messages."""

    def __init__(self, host: str, port: int, topic: str) -> None:
        self.messages: list[dict[str, Any]] = []
        self._arrived = threading.Condition()
        self.client = paho.Client(CallbackAPIVersion.VERSION2)
        self.client.on_message = self._on_message
        self.client.connect(host, port)
        self.client.subscribe(topic, qos=1)
        self.client.loop_start()

    def _on_message(self, _c: paho.Client, _u: Any, message: paho.MQTTMessage) -> None:
        with self._arrived:
            self.messages.append(json.loads(message.payload))
            self._arrived.notify_all()

    def wait(self, count: int) -> list[dict[str, Any]]:
        """Return the messages once ``count`` have arrived (fail after WAIT_S)."""
        deadline = time.monotonic() + WAIT_S
        with self._arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(self.messages)} of {count} MQTT notifications arrived"
                self._arrived.wait(left)
            return list(self.messages)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture(scope="module")
def broker() -> tuple[str, int]:
    """Return Mosquitto's host and port, skipping (failing on CI) when it is unreachable."""
    parts = urlsplit(MQTT_URL)
    host, port = parts.hostname or "127.0.0.1", parts.port or 1883
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        service_missing("Mosquitto", repr(exc))
    return host, port


@pytest.fixture
def topic(broker: tuple[str, int]) -> Iterator[tuple[str, Listener]]:
    """Return a fresh topic and a listener on it."""
    name = f"citybrain-test/notify/{uuid.uuid4().hex}"
    listener = Listener(*broker, name)
    time.sleep(0.2)  # the SUBSCRIBE is on its way
    yield name, listener
    listener.close()


def _headers(demo_city: DemoCity, client: TestClient) -> dict[str, str]:
    res = client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "password",
            "username": "operator",
            "password": demo_city.password("operator"),
        },
    )
    assert res.status_code == 200, res.text
    return {
        **bearer(res.json()["access_token"]),
        "Content-Type": "application/json",
        "Link": LINK,
        "NGSILD-Tenant": "mqttnotify",
    }


def test_changes_are_published_to_the_subscriptions_topic(
    client: TestClient,
    demo_city: DemoCity,
    broker: tuple[str, int],
    topic: tuple[str, Listener],
) -> None:
    name, listener = topic
    h = _headers(demo_city, client)
    host, port = broker
    spot_id = f"urn:ngsi-ld:ParkingSpot:mqtt:{uuid.uuid4().hex[:8]}"
    sub = {
        "type": "Subscription",
        "entities": [{"type": "ParkingSpot", "id": spot_id}],
        "notification": {
            "attributes": ["status"],
            "endpoint": {
                "uri": f"mqtt://{host}:{port}/{name}",
                "accept": "application/json",
                "notifierInfo": [{"key": "MQTT-QoS", "value": "1"}],
                "receiverInfo": [{"key": "X-Department", "value": "transport"}],
            },
        },
    }
    res = client.post("/ngsi-ld/v1/subscriptions", json=sub, headers=h)
    assert res.status_code == 201, res.text
    sub_id = res.headers["Location"].rsplit("/", 1)[-1]
    spot = {"id": spot_id, "type": "ParkingSpot", "status": {"type": "Property", "value": "free"}}
    assert client.post("/ngsi-ld/v1/entities", json=spot, headers=h).status_code == 201
    patch = {"status": {"type": "Property", "value": "occupied"}}
    url = f"/ngsi-ld/v1/entities/{spot_id}/attrs"
    assert client.patch(url, json=patch, headers=h).status_code == 204
    first, second = listener.wait(2)[:2]
    assert first["metadata"]["Content-Type"] == "application/json"
    assert first["metadata"]["Link"] == LINK
    assert first["metadata"]["NGSILD-Tenant"] == "mqttnotify"
    assert first["metadata"]["X-Department"] == "transport"
    assert first["body"]["type"] == "Notification"
    assert first["body"]["subscriptionId"] == sub_id
    assert [m["body"]["data"][0]["status"]["value"] for m in (first, second)] == [
        "free",
        "occupied",
    ]
    shown = client.get(f"/ngsi-ld/v1/subscriptions/{sub_id}", headers=h).json()
    deadline = time.monotonic() + WAIT_S
    while shown["notification"].get("timesSent", 0) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
        shown = client.get(f"/ngsi-ld/v1/subscriptions/{sub_id}", headers=h).json()
    assert shown["notification"]["timesSent"] == 2
    assert shown["notification"]["status"] == "ok"


@pytest.mark.parametrize(
    ("endpoint", "reason"),
    [
        ({"uri": "mqtt://127.0.0.1:1883/"}, "topic"),
        ({"uri": "mqtt://127.0.0.1:1883/city/+/spots"}, "topic"),
        (
            {"uri": "mqtt://127.0.0.1:1883/t", "notifierInfo": [{"key": "MQTT-QoS", "value": "3"}]},
            "QoS",
        ),
        (
            {
                "uri": "mqtt://127.0.0.1:1883/t",
                "notifierInfo": [{"key": "MQTT-Version", "value": "4"}],
            },
            "Version",
        ),
        ({"uri": "amqp://127.0.0.1/t"}, "mqtt(s)"),
    ],
)
def test_bad_mqtt_endpoints_are_refused(
    client: TestClient, demo_city: DemoCity, endpoint: dict[str, Any], reason: str
) -> None:
    h = _headers(demo_city, client)
    sub = {
        "type": "Subscription",
        "entities": [{"type": "ParkingSpot"}],
        "notification": {"endpoint": endpoint},
    }
    res = client.post("/ngsi-ld/v1/subscriptions", json=sub, headers=h)
    assert res.status_code == 400, res.text
    assert reason in res.text
