"""Two worker processes on a JetStream stream partitioned by vehicle; one is SIGKILLed
mid-stream and replaced; every alert change reaches the alert stream exactly once and the
set equals what one engine computes over the whole stream."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import nats
import pytest

from opencitybrain.apps.fleet.cli import alerts_prefix, alerts_stream_name, publish_stream
from opencitybrain.apps.fleet.engine import FleetEngine
from opencitybrain.apps.fleet.model import Fleet
from opencitybrain.apps.fleet.partition import FileCheckpoints, partition_of
from opencitybrain.apps.fleet.sim import simulate
from opencitybrain.apps.fleet.worker import FleetSpec
from opencitybrain.citypack.loader import load_pack
from opencitybrain.citypack.service import CityService
from tests.integration.conftest import service_missing
from tests.unit.apps.fleet.support import T0

NATS_URL = os.environ.get("CITYBRAIN_TEST_NATS_URL", "nats://127.0.0.1:4222")
PARTITIONS = 2


@pytest.fixture
def nats_url() -> str:
    host, _, port = NATS_URL.removeprefix("nats://").partition(":")
    try:
        with socket.create_connection((host, int(port or 4222)), timeout=2):
            pass
    except OSError as exc:
        service_missing("NATS", str(exc))
    return NATS_URL


@pytest.fixture
async def names(nats_url: str) -> AsyncIterator[tuple[str, str]]:
    """A stream and subject prefix of this test's own; deleted afterwards."""
    tag = uuid.uuid4().hex[:10]
    stream, prefix = f"FLEETTEST_{tag}", f"fleettest.{tag}.points"
    yield stream, prefix
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    for name in (stream, alerts_stream_name(stream)):
        with contextlib.suppress(Exception):  # a stream never created is fine
            await js.delete_stream(name)
    await nc.close()


def start_worker(
    p: int, spec: Path, ckpt: Path, url: str, stream: str, prefix: str
) -> subprocess.Popen[str]:
    cmd = [
        sys.executable, "-m", "opencitybrain.cli", "fleet", "worker",
        "--partition", str(p), "--fleet-file", str(spec), "--checkpoints", str(ckpt),
        "--nats-url", url, "--stream", stream, "--prefix", prefix,
        "--batch-max", "3", "--ack-wait-s", "2",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # blocks until the worker is bound to its consumer
    assert "ready" in line, line
    return proc


async def pending(url: str, stream: str) -> int:
    """Messages not yet acknowledged by every partition's consumer."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    left = 0
    for p in range(PARTITIONS):
        info = await js.consumer_info(stream, f"fleet-p{p}")
        left += info.num_pending + info.num_ack_pending
    await nc.close()
    return left


async def alert_changes(url: str, stream: str) -> list[str]:
    """Every message id on the alert stream, in order."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    info = await js.stream_info(alerts_stream_name(stream))
    ids = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        m = await js.get_msg(alerts_stream_name(stream), seq)
        assert m.subject.startswith(alerts_prefix(stream))
        ids.append((m.headers or {})["Nats-Msg-Id"])
    await nc.close()
    return ids


def expected(city: CityService, spec: FleetSpec, msgs: list[dict[str, Any]]) -> list[str]:
    eng = FleetEngine(Fleet(spec.vehicles), spec.rules, city.graph, city.projection)
    changes: list[str] = []
    i = 0
    for j in range(60, len(msgs) + 60, 60):  # one engine, the whole stream
        chunk = msgs[i:j]
        if not chunk:
            break
        out = eng.process(msgspec.json.encode(chunk), chunk[-1]["time"] / 1000)
        changes += [f"{a.id}:opened" for a in out.opened] + [f"{a.id}:closed" for a in out.closed]
        i = j
    return sorted(changes)


async def test_a_killed_worker_loses_and_duplicates_no_alert(
    nats_url: str, names: tuple[str, str], tmp_path: Path
) -> None:
    stream, prefix = names
    city = CityService(load_pack("nanchang"))
    scenario = simulate(city.graph, city.projection, per_class=4, start=T0, seed=5)
    spec = FleetSpec([v.vehicle for v in scenario.vehicles], scenario.rules)
    msgs = scenario.messages()
    want = expected(city, spec, msgs)
    assert {w.split(":")[5] for w in want} >= {"speeding", "no_go_zone", "fatigue"}
    spec_file = tmp_path / "fleet.json"
    spec_file.write_bytes(msgspec.json.encode(spec))
    ckpt = tmp_path / "checkpoints"
    half = len(msgs) // 2
    first = await publish_stream(nats_url, stream, prefix, msgs[:half], PARTITIONS, batch=40)
    workers = {p: start_worker(p, spec_file, ckpt, nats_url, stream, prefix)
               for p in range(PARTITIONS)}  # fmt: skip
    try:
        store = FileCheckpoints(ckpt)
        for _ in range(500):  # until partition 0 has committed a few batches
            if store.load(0).seq > 10:
                break
            await asyncio.sleep(0.01)
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(10)
        killed_at = store.load(0).seq
        await publish_stream(nats_url, stream, prefix, msgs[half:], PARTITIONS, batch=40)
        assert await pending(nats_url, stream) > 0  # the killed partition is behind
        workers[0] = start_worker(0, spec_file, ckpt, nats_url, stream, prefix)
        for _ in range(1500):
            if await pending(nats_url, stream) == 0:
                break
            await asyncio.sleep(0.1)
        assert await pending(nats_url, stream) == 0
    finally:
        for w in workers.values():
            w.send_signal(signal.SIGTERM)
            w.wait(20)
    got = await alert_changes(nats_url, stream)
    assert len(got) == len(set(got)), "an alert change was published twice"
    assert sorted(got) == want
    assert 0 < killed_at < first  # it died mid-stream, after committing some batches
    devices = {m["device_id"] for m in msgs}
    assert {partition_of(d, PARTITIONS) for d in devices} == set(range(PARTITIONS))
