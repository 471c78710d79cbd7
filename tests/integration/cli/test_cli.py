"""The ``citybrain`` command, including a real ``citybrain demo`` process on 127.0.0.1."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from opencitybrain import __version__
from opencitybrain.adapters.migrate import head_revision
from opencitybrain.cli import app
from tests.conftest import free_port

runner = CliRunner()


@pytest.fixture
def data_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CITYBRAIN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "data"


def test_version_and_help() -> None:
    assert runner.invoke(app, ["version"]).stdout.strip() == __version__
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    for command in ("demo", "serve", "db", "users"):
        assert command in res.stdout


def test_db_upgrade_and_user_admin(data_env: Path) -> None:
    res = runner.invoke(app, ["db", "upgrade"])
    assert res.exit_code == 0, res.stdout
    assert (data_env / "citybrain.db").is_file()
    head = head_revision()
    assert head is not None
    assert f"{head} (head {head})" in res.stdout.replace("\n", "")
    res = runner.invoke(app, ["db", "current"])
    assert f"{head} (head {head})" in res.stdout.replace("\n", "")
    # No departments yet: creating a user must fail with a clear message.
    res = runner.invoke(
        app, ["users", "create", "ana", "--department", "nope", "--role", "operator"]
    )
    assert res.exit_code == 1
    assert "部门不存在" in res.stdout


def test_bad_settings_exit_with_a_message(data_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYBRAIN_BUS_URL", "kafka://x")
    res = runner.invoke(app, ["db", "upgrade"])
    assert res.exit_code == 2
    assert "配置错误" in res.stdout


def test_demo_process_serves_the_city(tmp_path: Path) -> None:
    port = free_port()
    # No departments' data here (tests/integration/cli/test_demo_registry.py loads some).
    env = {**os.environ, "CITYBRAIN_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200",
           "CITYBRAIN_DEMO__PEOPLE": "0"}  # fmt: skip
    cmd = [sys.executable, "-m", "opencitybrain.cli", "demo", "--port", str(port), "--speed", "120"]
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")))  # type: ignore[union-attr]
    reader.start()
    try:
        base = f"http://127.0.0.1:{port}"
        ready = False
        while time.monotonic() - started < 60 and proc.poll() is None:
            try:
                ready = httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200
            except httpx.TransportError:
                ready = False
            if ready:
                break
            time.sleep(0.2)
        assert ready, "citybrain demo did not answer /api/v1/health within 60 s:\n" + "".join(lines)
        assert time.monotonic() - started < 30, "the demo must be ready in under 30 s"
        assert httpx.get(f"{base}/api/v1/clock", timeout=5).status_code == 401  # default deny
        assert httpx.get(base + "/", timeout=5).status_code == 200
        # The operator's password was printed once, in the credentials table: it works.
        match = re.search(
            r"operator\s*│\s*operator\s*│\s*command-centre\s*│\s*(\S+)", "".join(lines)
        )
        assert match, "".join(lines)
        token = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"grant_type": "password", "username": "operator", "password": match.group(1)},
            timeout=5,
        )
        assert token.status_code == 200, token.text
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        clock = httpx.get(f"{base}/api/v1/clock", headers=auth, timeout=5).json()
        assert clock["mode"] == "simulated"
        assert clock["speed"] == 120
        intake = httpx.get(f"{base}/api/v1/registry/intake", headers=auth, timeout=5).json()
        assert intake["state"] == "disabled", intake
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        reader.join(timeout=5)
    assert proc.returncode in (0, -15)


def test_pack_info_checks_alignment(data_env: Path) -> None:
    res = runner.invoke(app, ["pack", "list"])
    assert "nanchang" in res.stdout.split()
    res = runner.invoke(app, ["pack", "info", "nanchang"])
    assert res.exit_code == 0, res.stdout
    assert "2,067" in res.stdout
    assert "100.0%" in res.stdout  # every intersection inside a (shifted) county
    res = runner.invoke(app, ["pack", "info", "atlantis"])
    assert res.exit_code == 1
    assert "找不到城市包" in res.stdout
