"""`citybrain serve --workers 2`: two processes, one socket, one store, one NATS bus."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from opencitybrain.bootstrap import open_accounts
from opencitybrain.cli import app
from opencitybrain.kernel.settings import Settings
from opencitybrain.sim.demo_org import seed_demo_org
from tests.conftest import free_port
from tests.integration.conftest import NatsTarget

runner = CliRunner()
LINK = (
    "<https://smart-data-models.github.io/dataModel.Parking/context.jsonld>; "
    'rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
)


def _status(url: str, hdr: dict[str, str]) -> str:
    deadline = time.monotonic() + 5
    while True:  # the other worker hears the change on the bus within milliseconds
        res = httpx.get(url, params={"options": "keyValues"}, headers=hdr, timeout=5)
        assert res.status_code == 200, res.text
        value = str(res.json()["status"])
        if value != "free" or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


START_S = 150  # a loaded CI machine starts two workers far slower than a quiet one


def _children(parent: int) -> dict[int, bytes]:
    # Children of every thread of the parent, with their command lines.
    found: dict[int, bytes] = {}
    for task in Path(f"/proc/{parent}/task").iterdir():
        for pid in (task / "children").read_text().split():
            with contextlib.suppress(FileNotFoundError):  # it ended between the two reads
                found[int(pid)] = Path(f"/proc/{pid}/cmdline").read_bytes()
    return found


def _worker_pids(parent: int) -> set[int]:
    # Worker processes, not helpers such as multiprocessing's resource tracker.
    return {pid for pid, cmd in _children(parent).items() if b"spawn_main" in cmd}


def _pids_and_cmdlines(parent: int) -> dict[int, str]:
    return {pid: cmd.replace(b"\0", b" ").decode() for pid, cmd in _children(parent).items()}


def _output(proc: subprocess.Popen[str]) -> str:
    return proc.stdout.read() if proc.stdout else ""


def test_several_workers_need_a_shared_bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYBRAIN_DATA_DIR", str(tmp_path / "data"))
    res = runner.invoke(app, ["serve", "--workers", "2"])
    assert res.exit_code == 2
    assert "serve.workers_need_bus" in res.stdout


def test_two_workers_serve_one_city_state(tmp_path: Path, nats_target: NatsTarget) -> None:
    data = tmp_path / "data"
    bus = f"{nats_target.url}?stream={nats_target.stream}&prefix={nats_target.prefix}"
    env = {**os.environ, "CITYBRAIN_DATA_DIR": str(data), "CITYBRAIN_BUS_URL": bus}
    settings = Settings(data_dir=data, bus_url=bus)
    engine, accounts = open_accounts(settings)
    created = seed_demo_org(accounts, "360100", "南昌市", "Nanchang", [])
    engine.dispose()
    password = next(c.secret for c in created if c.username == "operator")
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "opencitybrain.cli",
        "serve",
        "--workers",
        "2",
        "--port",
        str(port),
    ]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        ready = False
        while not ready and time.monotonic() - started < START_S:
            assert proc.poll() is None, _output(proc)
            try:
                ready = httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200
            except httpx.TransportError:
                time.sleep(0.2)
        assert ready, f"no health answer within {START_S} s"
        # The first worker may answer while the second is still starting.
        workers = _worker_pids(proc.pid)
        while len(workers) < 2 and time.monotonic() - started < START_S:
            assert proc.poll() is None, _output(proc)
            time.sleep(0.2)
            workers = _worker_pids(proc.pid)
        assert len(workers) == 2, (workers, _pids_and_cmdlines(proc.pid))
        health = httpx.get(f"{base}/api/v1/health", timeout=5).json()
        assert health["checks"]["bus"] is True
        for _ in range(6):  # every worker refuses a caller without credentials
            assert httpx.get(f"{base}/ngsi-ld/v1/types", timeout=5).status_code == 401
        token = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"grant_type": "password", "username": "operator", "password": password},
            timeout=5,
        ).json()["access_token"]
        hdr = {"Authorization": f"Bearer {token}", "Link": LINK}
        spot = {"id": "urn:ngsi-ld:ParkingSpot:w:1", "type": "ParkingSpot",
                "status": {"type": "Property", "value": "free"}}  # fmt: skip
        res = httpx.post(f"{base}/ngsi-ld/v1/entities", json=spot, headers=hdr, timeout=5)
        assert res.status_code == 201, res.text
        url = f"{base}/ngsi-ld/v1/entities/{spot['id']}"
        for value in ("occupied", "closed"):
            res = httpx.patch(f"{url}/attrs/status", json={"value": value}, headers=hdr, timeout=5)
            assert res.status_code == 204, res.text
            # Fresh connections land on either worker: each has heard of the change.
            seen = [_status(url, hdr) for _ in range(12)]
            assert set(seen) == {value}, seen
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode in (0, -15), out
    assert re.search(r"2 workers", out), out
