"""NGSI-LD subscriptions over HTTP on the demo city, with a real receiver on 127.0.0.1.

The demo clock runs at x60, so the notifier's backoff (1 s, 2 s, 4 s of clock time) takes
about a tenth of a real second, and clock-time limits (throttling, expiresAt) are set
in clock time. Every wait is bounded by a deadline.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from opencitybrain.context.model import format_datetime
from tests.conftest import free_port
from tests.support import DemoCity, bearer

FIXTURES = Path(__file__).parents[2] / "fixtures" / "ngsi-ld"
JSONLD = "application/ld+json"
BAYI = [115.9070, 28.6760]  # 八一广场, Nanchang
WAIT_S = 5.0


class Receiver:
    """Record the notifications POSTed to a tiny HTTP server, by path."""

    def __init__(self) -> None:
        self.got: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver would

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.changed:
                    receiver.got.append((self.path, dict(self.headers), json.loads(raw)))
                    receiver.changed.notify_all()
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def notes(self, path: str) -> list[dict[str, Any]]:
        """Return the notifications received at ``path`` so far."""
        with self.changed:
            return [body for p, _, body in self.got if p == path]

    def at(self, path: str) -> list[dict[str, Any]]:
        """Return the entities notified at ``path`` so far (several may share a POST)."""
        return [entity for note in self.notes(path) for entity in note["data"]]

    def headers_at(self, path: str) -> list[dict[str, str]]:
        """Return the headers of the requests received at ``path``."""
        with self.changed:
            return [headers for p, headers, _ in self.got if p == path]

    def wait(self, path: str, n: int) -> list[dict[str, Any]]:
        """Wait (at most WAIT_S) until ``n`` entities were notified at ``path``."""
        with self.changed:
            self.changed.wait_for(lambda: len(self.at(path)) >= n, timeout=WAIT_S)
        got = self.at(path)
        assert len(got) >= n, f"{path}: {len(got)} entities notified, expected {n}"
        return got

    def wait_for_state(self, path: str, entity_id: str, status: str) -> None:
        """Wait (at most WAIT_S) until ``path`` was notified of the entity in ``status``."""

        def seen() -> bool:
            return any(e["id"] == entity_id and _status(e) == status for e in self.at(path))

        with self.changed:
            assert self.changed.wait_for(seen, timeout=WAIT_S), f"{path}: no {status}"


def _status(entity: dict[str, Any]) -> Any:
    status = entity.get("status")
    return status.get("value") if isinstance(status, dict) else status


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    thread = threading.Thread(target=r.server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()
    thread.join(timeout=5)


def spot(n: int, lon: float = BAYI[0], lat: float = BAYI[1]) -> dict[str, Any]:
    """Return a ParkingSpot (Smart Data Models example) moved into Nanchang."""
    body = json.loads((FIXTURES / "ParkingSpot.normalized.jsonld").read_text(encoding="utf-8"))
    body = copy.deepcopy(body)
    body["id"] = f"urn:ngsi-ld:ParkingSpot:nanchang:subs:{n:04d}"
    body["location"]["value"]["coordinates"] = [lon, lat]
    return body


CONTEXT = spot(0)["@context"]


@pytest.fixture(scope="module")
def h(tokens: dict[str, str]) -> dict[str, str]:
    return {**bearer(tokens["operator"]), "Content-Type": JSONLD, "NGSILD-Tenant": "subtest"}


@pytest.fixture(scope="module")
def jh(h: dict[str, str]) -> dict[str, str]:
    """Return headers for application/json bodies with the ParkingSpot @context."""
    link = f'<{CONTEXT[1]}>; rel="http://www.w3.org/ns/json-ld#context"; type="{JSONLD}"'
    return {**h, "Content-Type": "application/json", "Link": link}


Subscribe = Callable[..., str]


@pytest.fixture
def subscribe(client: TestClient, h: dict[str, str], receiver: Receiver) -> Iterator[Subscribe]:
    """Create subscriptions on ParkingSpot notifying ``/<path>``; delete them afterwards."""
    made: list[str] = []

    def make(path: str, notification: dict[str, Any] | None = None, **members: Any) -> str:
        body: dict[str, Any] = {
            "type": "Subscription",
            "entities": [{"type": "ParkingSpot"}],
            "notification": {
                "endpoint": {"uri": f"{receiver.base}/{path}"},
                **(notification or {}),
            },
            "@context": CONTEXT,
            **members,
        }
        res = client.post("/ngsi-ld/v1/subscriptions", json=body, headers=h)
        assert res.status_code == 201, res.text
        sub_id = res.headers["Location"].rsplit("/", 1)[-1]
        made.append(sub_id)
        return sub_id

    yield make
    for sub_id in made:
        client.delete(f"/ngsi-ld/v1/subscriptions/{sub_id}", headers=h)


def set_status(client: TestClient, jh: dict[str, str], spot_id: str, status: str) -> None:
    res = client.patch(
        f"/ngsi-ld/v1/entities/{spot_id}/attrs",
        json={"status": {"type": "Property", "value": status}},
        headers=jh,
    )
    assert res.status_code == 204, res.text


def new_spot(client: TestClient, h: dict[str, str], n: int, **where: float) -> str:
    body = spot(n, **where)
    client.delete(f"/ngsi-ld/v1/entities/{body['id']}", headers=h)
    res = client.post("/ngsi-ld/v1/entities", json=body, headers=h)
    assert res.status_code == 201, res.text
    return str(body["id"])


def test_crud_paging_and_errors(client: TestClient, h: dict, jh: dict, tokens: dict) -> None:
    body = {
        "id": "urn:ngsi-ld:Subscription:crud",
        "type": "Subscription",
        "entities": [{"type": "ParkingSpot", "idPattern": "^urn:ngsi-ld:ParkingSpot:"}],
        "watchedAttributes": ["status"],
        "q": 'status=="free"',
        "notification": {"attributes": ["status"], "endpoint": {"uri": "http://127.0.0.1:9/x"}},
        "@context": CONTEXT,
    }
    client.delete(f"/ngsi-ld/v1/subscriptions/{body['id']}", headers=h)
    res = client.post("/ngsi-ld/v1/subscriptions", json=body, headers=h)
    assert res.status_code == 201, res.text
    assert res.headers["Location"] == f"/ngsi-ld/v1/subscriptions/{body['id']}"
    assert client.post("/ngsi-ld/v1/subscriptions", json=body, headers=h).status_code == 409
    url = f"/ngsi-ld/v1/subscriptions/{body['id']}"
    got = client.get(url, headers=jh).json()
    assert got["entities"][0]["type"] == "ParkingSpot"
    assert got["watchedAttributes"] == ["status"]
    assert got["notification"]["attributes"] == ["status"]
    assert got["status"] == "active"
    ld = client.get(url, headers={**jh, "Accept": JSONLD}).json()
    assert ld["@context"] == CONTEXT[1]
    res = client.patch(url, json={"isActive": False, "throttling": 2}, headers=jh)
    assert res.status_code == 204, res.text
    got = client.get(url + "?options=sysAttrs", headers=jh).json()
    assert (got["status"], got["throttling"]) == ("paused", 2)
    assert got["modifiedAt"] >= got["createdAt"]
    res = client.get("/ngsi-ld/v1/subscriptions?limit=1&count=true", headers=jh)
    assert res.status_code == 200, res.text
    assert len(res.json()) == 1
    assert int(res.headers["NGSILD-Results-Count"]) >= 1
    bad = {**body, "id": "urn:ngsi-ld:Subscription:bad", "throttling": -1}
    res = client.post("/ngsi-ld/v1/subscriptions", json=bad, headers=h)
    assert res.status_code == 400
    assert res.json()["type"].endswith("/BadRequestData")
    assert res.json()["errors"][0]["field"] == "throttling"
    other = {**h, "NGSILD-Tenant": "someone-else"}
    assert client.get(url, headers=other).status_code == 404
    citizen = bearer(tokens["citizen"])
    assert client.get("/ngsi-ld/v1/subscriptions", headers=citizen).status_code == 403
    assert client.delete(url, headers=h).status_code == 204
    assert client.get(url, headers=h).status_code == 404
    assert client.delete(url, headers=h).status_code == 404
    assert client.patch(url, json={"isActive": True}, headers=jh).status_code == 404
    assert client.get("/ngsi-ld/v1/subscriptions/not-a-uri", headers=h).status_code == 400


def test_watched_attributes_and_notification_shape(
    client: TestClient, h: dict, jh: dict, receiver: Receiver, subscribe: Subscribe
) -> None:
    sub_id = subscribe("watched", watchedAttributes=["status"])
    spot_id = new_spot(client, h, 1)
    receiver.wait("/watched", 1)  # creating the spot creates its status
    first = receiver.notes("/watched")[0]
    assert first["subscriptionId"] == sub_id
    assert first["triggerReason"] == "attributeCreated"
    res = client.patch(
        f"/ngsi-ld/v1/entities/{spot_id}/attrs",
        json={"name": {"type": "Property", "value": "B-7"}},
        headers=jh,
    )
    assert res.status_code == 204, res.text
    set_status(client, jh, spot_id, "occupied")
    got = receiver.wait("/watched", 2)
    assert len(got) == 2  # the name change was not watched
    note = receiver.notes("/watched")[1]
    assert note["type"] == "Notification"
    assert note["id"].startswith("urn:ngsi-ld:Notification:")
    assert note["triggerReason"] == "attributeUpdated"
    entity = got[1]
    assert (entity["id"], entity["type"]) == (spot_id, "ParkingSpot")
    assert entity["status"]["value"] == "occupied"
    assert entity["name"]["value"] == "B-7"  # all attributes by default
    headers = receiver.headers_at("/watched")[1]
    assert headers["NGSILD-Tenant"] == "subtest"
    assert headers["Content-Type"] == "application/json"
    assert CONTEXT[1] in headers["Link"]
    status = client.get(f"/ngsi-ld/v1/subscriptions/{sub_id}", headers=jh).json()["notification"]
    deadline = time.monotonic() + WAIT_S
    while status.get("timesSent", 0) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
        status = client.get(f"/ngsi-ld/v1/subscriptions/{sub_id}", headers=jh).json()
        status = status["notification"]
    assert status["status"] == "ok"
    assert status["timesSent"] == 2
    assert status["lastSuccess"] == status["lastNotification"]


def test_q_and_geoq_filter(
    client: TestClient, h: dict, jh: dict, receiver: Receiver, subscribe: Subscribe
) -> None:
    near = {"georel": "near;maxDistance==300", "geometry": "Point", "coordinates": BAYI}
    far = {**near, "coordinates": [116.2, 28.9]}
    subscribe("occupied", q='status=="occupied"')
    subscribe("near", geoQ=near)
    subscribe("far", geoQ=far)
    subscribe("all-q")
    spot_id = new_spot(client, h, 2)
    set_status(client, jh, spot_id, "closed")
    set_status(client, jh, spot_id, "occupied")
    receiver.wait("/all-q", 3)
    got = receiver.wait("/occupied", 1)
    assert [e["status"]["value"] for e in got] == ["occupied"]
    assert len(receiver.wait("/near", 3)) == 3
    assert receiver.at("/far") == []


def test_throttling_pauses_and_expiry(
    client: TestClient,
    h: dict,
    jh: dict,
    receiver: Receiver,
    subscribe: Subscribe,
    demo_city: DemoCity,
) -> None:
    spot_id = new_spot(client, h, 3)
    subscribe("sentinel")
    subscribe("throttled", throttling=3600)  # an hour of clock time: a minute of real time
    paused = subscribe("paused", isActive=False)
    soon = demo_city.platform.clock.now() + timedelta(seconds=3)  # 0.05 s of real time
    # It watches a spot created only after it expired: no earlier event can reach it.
    later_id = str(spot(5)["id"])
    expiring = subscribe(
        "expiring",
        expiresAt=format_datetime(soon),
        entities=[{"type": "ParkingSpot", "id": later_id}],
    )
    time.sleep(0.1)
    new_spot(client, h, 5)
    set_status(client, jh, later_id, "occupied")
    set_status(client, jh, spot_id, "occupied")
    receiver.wait("/throttled", 1)
    set_status(client, jh, spot_id, "free")
    # Every change before the activation must have been matched first (events are
    # handled asynchronously): the sentinel saw the last one.
    receiver.wait_for_state("/sentinel", spot_id, "free")
    res = client.patch(f"/ngsi-ld/v1/subscriptions/{paused}", json={"isActive": True}, headers=jh)
    assert res.status_code == 204, res.text
    set_status(client, jh, spot_id, "closed")
    receiver.wait("/sentinel", 3)
    assert len(receiver.wait("/paused", 1)) == 1  # only once active again
    assert len(receiver.at("/throttled")) == 1
    assert receiver.at("/expiring") == []
    shown = client.get(f"/ngsi-ld/v1/subscriptions/{expiring}", headers=h).json()
    assert shown["status"] == "expired"


def test_key_values_and_attribute_selection(
    client: TestClient, h: dict, jh: dict, receiver: Receiver, subscribe: Subscribe
) -> None:
    subscribe("kv", {"format": "keyValues", "attributes": ["status"]})
    subscribe("concise-ld", {"format": "concise", "endpoint": {
        "uri": f"{receiver.base}/concise-ld", "accept": JSONLD,
        "receiverInfo": [{"key": "X-Token", "value": "t0k"}]}})  # fmt: skip
    spot_id = new_spot(client, h, 4)
    set_status(client, jh, spot_id, "occupied")
    got = receiver.wait("/kv", 2)
    assert got[1] == {"id": spot_id, "type": "ParkingSpot", "status": "occupied"}
    concise = receiver.wait("/concise-ld", 2)[1]
    assert receiver.notes("/concise-ld")[-1]["@context"] == CONTEXT
    assert (concise["status"], concise["name"]) == ("occupied", "A-13")
    assert concise["location"]["type"] == "Point"  # a bare geometry: a GeoProperty
    assert set(concise["refParkingSite"]) == {"object"}
    headers = receiver.headers_at("/concise-ld")[-1]
    assert headers["Content-Type"] == JSONLD
    assert headers["X-Token"] == "t0k"


def test_failing_receiver_is_recorded(
    client: TestClient, h: dict, jh: dict, subscribe: Subscribe
) -> None:
    closed = free_port()  # nothing listens there: connection refused
    sub_id = subscribe("unused", {"endpoint": {"uri": f"http://127.0.0.1:{closed}/nobody"}})
    started = time.monotonic()
    new_spot(client, h, 5)
    url = f"/ngsi-ld/v1/subscriptions/{sub_id}"
    notification: dict[str, Any] = {}
    while time.monotonic() - started < WAIT_S:
        notification = client.get(url, headers=jh).json()["notification"]
        if notification.get("status") == "failed":
            break
        time.sleep(0.02)
    assert notification.get("status") == "failed", notification
    assert notification["timesFailed"] == 1
    assert notification["timesSent"] == 0
    assert notification["lastFailure"] == notification["lastNotification"]
    assert "lastSuccess" not in notification
    assert time.monotonic() - started < 3  # four attempts, backoff in x60 clock time


def test_scope_query_selects_the_notified_entities(
    client: TestClient, h: dict, jh: dict, receiver: Receiver, subscribe: Subscribe
) -> None:
    sub_id = subscribe("scoped", scopeQ="/Nanchang/Donghu/#")
    shown = client.get(f"/ngsi-ld/v1/subscriptions/{sub_id}", headers=jh).json()
    assert shown["scopeQ"] == "/Nanchang/Donghu/#"
    made = []
    for n, scope in ((40, "/Nanchang/Donghu/Bayi"), (41, "/Nanchang/Xihu")):
        body = {**spot(n), "scope": scope}
        client.delete(f"/ngsi-ld/v1/entities/{body['id']}", headers=h)
        res = client.post("/ngsi-ld/v1/entities", json=body, headers=h)
        assert res.status_code == 201, res.text
        made.append(str(body["id"]))
    for spot_id in made:
        set_status(client, jh, spot_id, "occupied")
    sentinel = new_spot(client, h, 42)  # unscoped: not notified either
    set_status(client, jh, sentinel, "occupied")
    receiver.wait("/scoped", 2)
    time.sleep(0.3)  # any wrongly matched change would have arrived by now
    assert {e["id"] for e in receiver.at("/scoped")} == {made[0]}
    bad = {
        "type": "Subscription",
        "entities": [{"type": "ParkingSpot"}],
        "scopeQ": "/a/#/b",
        "notification": {"endpoint": {"uri": "http://127.0.0.1:9/x"}},
    }
    res = client.post("/ngsi-ld/v1/subscriptions", json=bad, headers=jh)
    assert res.status_code == 400
    assert "scopeQ" in res.text
