"""``citybrain fleet …``: partition workers, the stream publisher and the Wuxi replay."""

from __future__ import annotations

import asyncio
import logging
import signal
import urllib.request
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer

from opencitybrain.adapters.mqtt import MqttMessage, device_topic, publish_many
from opencitybrain.adapters.nats_stream import (
    AlertStream,
    JetStreamConnection,
    PartitionConsumer,
    ensure_stream,
)
from opencitybrain.apps.fleet.app import GATEWAY_CHANNEL
from opencitybrain.apps.fleet.engine import FleetEngine
from opencitybrain.apps.fleet.model import Fleet
from opencitybrain.apps.fleet.partition import (
    SUBJECT_PREFIX,
    FileCheckpoints,
    partition_lines,
    points_subject,
)
from opencitybrain.apps.fleet.replay import load_wuxi, wuxi_messages, wuxi_vehicles
from opencitybrain.apps.fleet.worker import FleetSpec, PartitionWorker
from opencitybrain.citypack.loader import load_pack
from opencitybrain.kernel.clock import RealClock

__all__ = ["fleet_app"]

log = logging.getLogger(__name__)
fleet_app = typer.Typer(help="重点车辆监管 / key-vehicle supervision", no_args_is_help=True)

GATEWAY_ARRAY = 500  # positions per gateway publish (about 40 kB of JSON)
Nats = Annotated[str, typer.Option(help="NATS 地址 / NATS URL")]
Stream = Annotated[str, typer.Option(help="位置流名 / points stream")]
Partitions = Annotated[int, typer.Option(help="分区数 / partitions", min=1, max=1024)]
ALERTS_PREFIX = "city.fleet.alerts"


def alerts_stream_name(points_stream: str) -> str:
    """Return the alert stream's name for a points stream."""
    return f"{points_stream}_ALERTS"


def alerts_prefix(points_stream: str) -> str:
    """Return the alert subjects' prefix for a points stream."""
    return f"{ALERTS_PREFIX}.{points_stream.lower()}"


async def _streams(conn: JetStreamConnection, stream: str, prefix: str) -> None:
    await ensure_stream(conn, stream, [f"{prefix}.*"])
    await ensure_stream(conn, alerts_stream_name(stream), [f"{alerts_prefix(stream)}.*"])


@fleet_app.command("worker")
def worker(
    partition: Annotated[int, typer.Option(help="本进程的分区 / this worker's partition", min=0)],
    fleet_file: Annotated[Path, typer.Option(help="车辆与规则 JSON / vehicles and rules")],
    checkpoints: Annotated[Path, typer.Option(help="检查点目录 / checkpoint folder")],
    nats_url: Nats = "nats://127.0.0.1:4222",
    stream: Stream = "CITY_FLEET_POINTS",
    prefix: Annotated[str, typer.Option(help="主题前缀 / subject prefix")] = SUBJECT_PREFIX,
    pack: Annotated[str, typer.Option(help="城市包 / city pack")] = "nanchang",
    batch_max: Annotated[int, typer.Option(help="每批消息数 / messages per batch", min=1)] = 500,
    ack_wait_s: Annotated[float, typer.Option(help="未确认重投秒数 / redelivery after")] = 30.0,
) -> None:
    """Run one partition's worker until SIGTERM/SIGINT (a durable consumer, ack after commit)."""
    spec = msgspec.json.decode(fleet_file.read_bytes(), type=FleetSpec)
    city = load_pack(pack)
    from opencitybrain.citypack.service import CityService

    svc = CityService(city)
    engine = FleetEngine(Fleet(spec.vehicles), spec.rules, svc.graph, svc.projection)

    async def main() -> None:
        conn = await JetStreamConnection.open(nats_url)
        await _streams(conn, stream, prefix)
        source = await PartitionConsumer.bind(
            conn, stream, points_subject(partition, prefix), f"fleet-p{partition}",
            ack_wait_s=ack_wait_s,
        )  # fmt: skip
        sink = AlertStream(conn, alerts_prefix(stream))
        w = PartitionWorker(
            partition, engine, source, sink, FileCheckpoints(checkpoints), RealClock(),
            batch_max=batch_max,
        )  # fmt: skip
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        print(f"worker {partition} ready", flush=True)  # the parent waits for it
        try:
            await w.run(stop)
        finally:
            await conn.close()
        log.info("partition %d stopped: %s", partition, w.counts)

    asyncio.run(main())


async def publish_stream(
    url: str, stream: str, prefix: str, messages: list[dict[str, Any]], partitions: int,
    *, batch: int = 500,
) -> int:  # fmt: skip
    """Publish messages to the partitioned stream in time order, ``batch`` at a time."""
    conn = await JetStreamConnection.open(url)
    try:
        await _streams(conn, stream, prefix)
        sent = 0
        for i in range(0, len(messages), batch):
            for p, payload in sorted(partition_lines(messages[i : i + batch], partitions).items()):
                await conn.publish(points_subject(p, prefix), payload)
                sent += 1
        return sent
    finally:
        await conn.close()


@fleet_app.command("replay")
def replay(
    to: Annotated[str, typer.Option(help="http(s)://…/api/v1/fleet/positions, mqtt://…, nats://…")],
    api_key: Annotated[str | None, typer.Option(help="HTTP: API key (fleet:ingest)")] = None,
    rate: Annotated[float, typer.Option(help="时间压缩倍数 / time compression", min=0.01)] = 60.0,
    tenant: Annotated[str, typer.Option(help="MQTT tenant")] = "nanchang",
    partitions: Partitions = 2,
    stream: Stream = "CITY_FLEET_POINTS",
    pack: Annotated[str, typer.Option(help="目标城市包（中心）/ city pack to move onto")] = (
        "nanchang"
    ),
    pace: Annotated[bool, typer.Option(help="按时间节奏发送 / send in real time")] = True,
    vehicles_out: Annotated[
        Path | None, typer.Option(help="写出车辆 JSON / write the vehicles")
    ] = None,
    gateway: Annotated[
        str | None,
        typer.Option(help="MQTT：作为接入网关按数组发布 / MQTT: publish arrays as this gateway"),
    ] = None,
) -> None:
    """Replay the Wuxi taxis moved onto the city, over HTTP, MQTT or the JetStream stream."""
    tr = load_wuxi()
    if vehicles_out is not None:
        vehicles_out.write_bytes(msgspec.json.encode(FleetSpec(wuxi_vehicles(tr))))
    start = RealClock().now().timestamp()
    msgs = wuxi_messages(tr, load_pack(pack).center, start, rate=rate)
    asyncio.run(_replay(to, msgs, api_key, tenant, partitions, stream, pace, gateway))


def mqtt_messages(
    chunk: list[dict[str, Any]], tenant: str, gateway: str | None
) -> list[MqttMessage]:
    """Return a chunk's MQTT publishes: per terminal, or as a gateway's arrays.

    Without a gateway each position goes on its device's ``position`` topic (what a
    terminal sends). With one, the chunk leaves as arrays of at most ``GATEWAY_ARRAY``
    positions on ``citybrain/<tenant>/fleet/<gateway>/positions``: the documented path
    at tens of thousands of points a second, where one publish per point is capped by
    the client library.
    """
    if gateway is None:
        return [
            MqttMessage(device_topic(tenant, "fleet", m["device_id"], "position"),
                        msgspec.json.encode(m))
            for m in chunk
        ]  # fmt: skip
    topic = device_topic(tenant, "fleet", gateway, GATEWAY_CHANNEL)
    return [
        MqttMessage(topic, msgspec.json.encode(chunk[i : i + GATEWAY_ARRAY]))
        for i in range(0, len(chunk), GATEWAY_ARRAY)
    ]


async def _replay(
    to: str, msgs: list[dict[str, Any]], api_key: str | None, tenant: str, partitions: int,
    stream: str, pace: bool, gateway: str | None = None,
) -> None:  # fmt: skip
    clock = RealClock()
    i = 0
    while i < len(msgs):
        now_ms = clock.now().timestamp() * 1000 if pace else float("inf")
        j = i
        while j < len(msgs) and msgs[j]["time"] <= now_ms and j - i < 5000:
            j += 1
        if j == i:
            await asyncio.sleep(min(1.0, (msgs[i]["time"] - now_ms) / 1000))
            continue
        chunk = msgs[i:j]
        if to.startswith(("http://", "https://")):
            await asyncio.to_thread(_post, to, msgspec.json.encode(chunk), api_key)
        elif to.startswith("mqtt://"):
            await publish_many(to, mqtt_messages(chunk, tenant, gateway))
        else:
            await publish_stream(to, stream, SUBJECT_PREFIX, chunk, partitions)
        typer.echo(f"{j}/{len(msgs)}")
        i = j


def _post(url: str, body: bytes, api_key: str | None) -> None:
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["X-API-Key"] = api_key
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    with urllib.request.urlopen(req, timeout=30) as res:  # noqa: S310 - an operator's URL
        res.read()
