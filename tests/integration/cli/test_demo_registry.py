"""``citybrain demo`` loads, resolves and aggregates the departments' data in the background.

A real demo process with 2,000 people (``CITYBRAIN_DEMO__PEOPLE``): the cockpit answers
at once; the status route shows the intake run to its end; the golden records of people,
companies and vehicles and the departments' tables are then there as resources, with
block data; a restart on the same data finds everything done and redoes none of it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import free_port

PEOPLE = 2000


@contextmanager
def _demo(data: Path, lines: list[str]) -> Iterator[str]:
    """Run ``citybrain demo`` on a free port; yield its base URL once it answers."""
    port = free_port()
    env = {**os.environ, "CITYBRAIN_DATA_DIR": str(data), "COLUMNS": "200",
           "CITYBRAIN_DEMO__PEOPLE": str(PEOPLE)}  # fmt: skip
    cmd = [sys.executable, "-m", "opencitybrain.cli", "demo", "--port", str(port)]
    proc = subprocess.Popen(
        cmd, cwd=data.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")))  # type: ignore[union-attr]
    reader.start()
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        while time.monotonic() - started < 90 and proc.poll() is None:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError("the demo did not answer:\n" + "".join(lines))
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        reader.join(timeout=5)


def _admin(base: str, lines: list[str], password: str | None = None) -> tuple[dict[str, str], str]:
    """Sign in as the bureau's admin (its password is printed once, on the first start)."""
    if password is None:
        match = re.search(r"admin\s*│\s*bureau_admin\s*│\s*bureau\s*│\s*(\S+)", "".join(lines))
        assert match, "".join(lines)
        password = match.group(1)
    token = httpx.post(
        f"{base}/api/v1/auth/token",
        data={"grant_type": "password", "username": "admin", "password": password},
        timeout=10,
    )
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}, password


def _wait_done(base: str, auth: dict[str, str], limit: float) -> dict[str, Any]:
    """Poll the intake status until it is done (the cockpit keeps answering meanwhile)."""
    started = time.monotonic()
    status: dict[str, Any] = {}
    while time.monotonic() - started < limit:
        status = httpx.get(f"{base}/api/v1/registry/intake", headers=auth, timeout=10).json()
        assert status["state"] in ("running", "done"), status
        if status["state"] == "done":
            return status
        time.sleep(1)
    raise AssertionError(f"the intake did not finish in {limit} s: {status}")


def test_demo_loads_resolves_and_aggregates_the_departments_data(tmp_path: Path) -> None:
    data = tmp_path / "data"
    lines: list[str] = []
    with _demo(data, lines) as base:
        auth, password = _admin(base, lines)
        first = httpx.get(f"{base}/api/v1/registry/intake", headers=auth, timeout=10).json()
        assert first["state"] in ("running", "done"), first
        assert first["sizes"] == {"people": PEOPLE, "companies": 200, "vehicles": 1000}
        status = _wait_done(base, auth, 300)
        # Seven department tables loaded through the catalogue, none quarantined.
        assert len(status["tables"]) == 7, status
        assert all(t["quarantined"] == 0 and t["rows_in"] > 0 for t in status["tables"].values())
        for table in status["tables"].values():
            got = httpx.get(
                f"{base}/api/v1/catalog/resources/{table['resource_id']}", headers=auth, timeout=10
            )
            assert got.status_code == 200, got.text
        builds = status["builds"]
        assert set(builds) == {"people", "companies", "vehicles"}
        assert all(b["reconciles"] for b in builds.values())
        assert builds["people"]["golden"] > PEOPLE * 0.95
        assert builds["vehicles"]["golden"] == 1000
        for kind, build in builds.items():
            counts = httpx.get(f"{base}/api/v1/registry/{kind}/counts", headers=auth, timeout=10)
            assert counts.json()["golden"] == build["golden"]
            # Block data of the golden records: every one counted, by county.
            rid = status["resources"][kind]
            blocks = httpx.get(f"{base}/api/v1/blocks/{rid}", params={"level": "county"},
                               headers=auth, timeout=30).json()  # fmt: skip
            assert blocks["rows"] == build["golden"], blocks
            assert sum(b["value"] for b in blocks["blocks"]) + blocks["unlocated"] == blocks["rows"]
            assert blocks["blocks"], blocks
        assert "基础库就绪" in "".join(lines)
    cached = sorted(p.name for p in (data / "demo").iterdir())
    assert cached == ["population-g2-s2026-p2000-c200-v1000"]

    # A restart on the same data: nothing generated, loaded or built again.
    again: list[str] = []
    with _demo(data, again) as base:
        auth, _ = _admin(base, again, password)
        status = _wait_done(base, auth, 120)
        assert status["skipped"] == ["generate", "load", "build"], status
        assert {k: b["build"] for k, b in status["builds"].items()} == {
            k: b["build"] for k, b in builds.items()
        }
        assert set(status["resources"]) == {"people", "companies", "vehicles"}
