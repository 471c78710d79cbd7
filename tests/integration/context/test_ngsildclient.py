"""A real NGSI-LD client, ngsildclient from PyPI, drives the broker over HTTP (issue 3, item 10).

ngsildclient pins old httpx and rich, so it lives in its own venv (``make clients-venv``,
from ``clients-requirements.txt``); the test runs ``tests/clients/ngsild_client_script.py``
with that venv's python against the live demo server, and a tiny HTTP receiver here
catches the subscription's notifications. Without the venv the test is skipped, except
on CI (env ``CI`` set), where a missing venv is a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from tests.conftest import free_port
from tests.support import bearer, build_demo_city

ROOT = Path(__file__).parents[3]
CLIENT_PYTHON = ROOT / ".venv-clients" / "bin" / "python"
SCRIPT = ROOT / "tests" / "clients" / "ngsild_client_script.py"
PREFIX = "urn:ngsi-ld:ParkingSpot:ncbtest"
TENANT = "ngsildclient"  # every request names it (NGSILD-Tenant), as do the notifications
WAIT_S = 10.0


class Receiver:
    """Collect the JSON bodies POSTed to a tiny HTTP server on 127.0.0.1."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.tenants: list[str | None] = []
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.changed:
                    receiver.bodies.append(json.loads(raw))
                    receiver.tenants.append(self.headers.get("NGSILD-Tenant"))
                    receiver.changed.notify_all()
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/notify"

    def statuses(self, entity_id: str) -> list[Any]:
        """Return the notified ``status`` values of one entity, in arrival order."""
        with self.changed:
            return [
                e.get("status", {}).get("value")
                for body in self.bodies
                for e in body.get("data", [])
                if e.get("id") == entity_id
            ]

    def wait_for(self, entity_id: str, status: str) -> list[Any]:
        """Wait (at most WAIT_S) until ``entity_id`` was notified with ``status``."""
        with self.changed:
            self.changed.wait_for(lambda: status in self.statuses(entity_id), timeout=WAIT_S)
        return self.statuses(entity_id)


@pytest.fixture(scope="module")
def client_python() -> Path:
    """Return the client venv's python; skip (fail on CI) when it was not built."""
    if not CLIENT_PYTHON.exists():
        reason = f"ngsildclient venv missing ({CLIENT_PYTHON}); run `make clients-venv`"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return CLIENT_PYTHON


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    thread = threading.Thread(target=r.server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Serve a demo city of this module's own over real HTTP; yield its URL and a token.

    Not the session's ``live_server``: that platform's background work (the notifier)
    runs in whichever loop served it first, often the TestClient's, and notifications of
    changes made through another loop would then wait on it.
    """
    city = build_demo_city(tmp_path_factory.mktemp("ngsildclient-city"))
    config = uvicorn.Config(city.app, host="127.0.0.1", port=free_port(), log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert time.monotonic() < deadline, "the server did not start in 30 s"
        assert thread.is_alive(), "the server stopped while starting"
        time.sleep(0.05)
    url = f"http://127.0.0.1:{config.port}"
    res = httpx.post(
        f"{url}/api/v1/auth/token",
        data={
            "grant_type": "password",
            "username": "operator",
            "password": city.password("operator"),
        },
    )
    assert res.status_code == 200, res.text
    yield url, res.json()["access_token"]
    uv.should_exit = True
    thread.join(timeout=10)
    city.platform.engine.dispose()


@pytest.fixture(scope="module")
def run(client_python: Path, server: tuple[str, str], receiver: Receiver) -> dict[str, Any]:
    """Run the client script once against the server; return its JSON report."""
    url, token = server
    done = subprocess.run(
        [
            str(client_python),
            str(SCRIPT),
            "--url",
            url,
            "--token",
            token,
            "--receiver",
            receiver.url,
            "--prefix",
            PREFIX,
            "--tenant",
            TENANT,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    sys.stderr.write(done.stderr)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def test_client_connects_and_creates(run: dict[str, Any]) -> None:
    assert run["connected"] is True
    assert run["create"] is True
    assert run["exists"] is True


def test_client_retrieves_with_the_smart_data_models_context(run: dict[str, Any]) -> None:
    got = run["retrieve"]
    assert got["id"] == f"{PREFIX}:1"
    assert got["type"] == "ParkingSpot"
    assert got["status"]["value"] == "free"
    assert got["refParkingSite"]["object"] == "urn:ngsi-ld:ParkingSite:ncbtest:bayi"


def test_client_updates_attributes_and_queries(run: dict[str, Any]) -> None:
    assert run["update_attrs"] == {"status_code": 204}
    assert run["after_update"] == "occupied"
    assert f"{PREFIX}:1" in run["query"]
    assert isinstance(run["count"], int)
    assert run["count"] >= 1


def test_client_batch_upserts(run: dict[str, Any]) -> None:
    upsert = run["batch_upsert"]
    assert upsert["ok"] is True, upsert
    assert upsert["errors"] == []
    # Spec 6.15.3.1: 201 with the ids of the entities created (2–5); spot 1 existed and
    # was replaced, so it is not listed, and ngsildclient reports that list as "success".
    assert sorted(upsert["success"]) == [f"{PREFIX}:{n}" for n in range(2, 6)]
    assert [i for i in run["query_free"] if i.startswith(PREFIX)] == [
        f"{PREFIX}:{n}" for n in range(2, 6)
    ]


def test_client_queries_by_post_and_lists_types_and_contexts(run: dict[str, Any]) -> None:
    alt = run["query_alt"]
    free = [f"{PREFIX}:{n}" for n in range(2, 6)]
    assert [i for i in alt["ids"] if i.startswith(PREFIX)] == free
    assert alt["count"] == len(alt["ids"])
    # No Link header: the type is named by its IRI (the core context has no ParkingSpot).
    assert "https://smartdatamodels.org/dataModel.Parking/ParkingSpot" in run["types"]
    # GET /jsonldContexts lists the hosted @contexts (spec 5.13.3, kind=Hosted by default).
    assert "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld" in run["contexts"]


def test_client_reads_temporal_values(run: dict[str, Any]) -> None:
    temporal = run["temporal"]
    assert temporal["id"] == f"{PREFIX}:1", temporal
    # Every status the client wrote is in the history: created free, patched to occupied,
    # replaced by the batch upsert as closed.
    values = {value for value, _ in temporal["status"]["values"]}
    assert values == {"free", "occupied", "closed"}, temporal


def test_client_subscription_is_notified(run: dict[str, Any], receiver: Receiver) -> None:
    assert isinstance(run["subscribe"], str), run["subscribe"]
    assert run["subscribe"].startswith("urn:")
    notified = receiver.wait_for(f"{PREFIX}:1", "occupied")
    assert "occupied" in notified, receiver.bodies
    assert set(receiver.tenants) == {TENANT}  # notifications name their tenant
    status = run["subscription"]
    assert status["id"] == run["subscribe"]
    assert status["isActive"] is True
    assert status["watchedAttributes"] == ["status"]
    assert run["unsubscribe"] is True


def test_client_deletes(run: dict[str, Any]) -> None:
    assert run["delete"] is True
    assert run["exists_after_delete"] is False
    assert run["batch_delete"] is True
    assert run["left"] == 0


def test_resource_uris_with_a_trailing_slash_are_served(
    client: TestClient, tokens: dict[str, str]
) -> None:
    """The spec writes ``/entities/`` (Annex A); the routes answer it without a redirect."""
    h = {**bearer(tokens["operator"]), "Content-Type": "application/json"}
    body = {"id": f"{PREFIX}:slash", "type": "SlashProbe", "n": {"type": "Property", "value": 1}}
    assert client.post("/ngsi-ld/v1/entities/", json=body, headers=h).status_code == 201
    got = client.get("/ngsi-ld/v1/entities/", params={"type": "SlashProbe"}, headers=h)
    assert got.status_code == 200
    assert [e["id"] for e in got.json()] == [f"{PREFIX}:slash"]
    gone = client.post("/ngsi-ld/v1/entityOperations/delete/", json=[f"{PREFIX}:slash"], headers=h)
    assert gone.status_code == 204
