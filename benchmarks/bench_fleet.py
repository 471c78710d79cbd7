"""Fleet: points/s through decode → road matching → rules → state, with 2,000 no-go zones.

A fleet reports every 30 s on the Nanchang roads (points near real road segments, speeds
0–90 km/h, hazmat corridors from real routes, muck sites); 2,000 zones bar random
classes in random windows. The engine's batched pipeline is measured on one core against
a naive per-point Python loop over the same rules (decode one message, scalar STRtree
queries, dict state), timed on a sample in the same run. Goal: ≥ 300,000 points/s.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec
import nats
import numpy as np
import shapely

from benchmarks import fleet_mqtt
from benchmarks.harness import Harness
from opencitybrain.apps.fleet.cli import alerts_stream_name, publish_stream
from opencitybrain.apps.fleet.engine import FleetEngine
from opencitybrain.apps.fleet.messages import PositionMessage, decode_positions
from opencitybrain.apps.fleet.model import CLASSES, Fleet, Permit, TimeWindow, Vehicle, VehicleClass
from opencitybrain.apps.fleet.rules import RuleConfig, Zone, ZoneRule
from opencitybrain.apps.fleet.sim import plate_for, square_ring
from opencitybrain.apps.fleet.worker import FleetSpec
from opencitybrain.apps.fleet.zones import minute_of_day_beijing, minutes_table
from opencitybrain.citypack.loader import load_pack
from opencitybrain.citypack.service import CityService

GROUP = "fleet engine"
MQTT_URL = os.environ.get("CITYBRAIN_BENCH_MQTT_URL", "mqtt://127.0.0.1:1883")
NATS_URL = os.environ.get("CITYBRAIN_BENCH_NATS_URL", "nats://127.0.0.1:4222")
T0 = 1_795_132_800.0 + 3600  # 09:00 Beijing time


def _rules(city: CityService, n_zones: int, rng: np.random.Generator) -> RuleConfig:
    g = city.graph
    lons = rng.uniform(g.node_lon.min(), g.node_lon.max(), n_zones)
    lats = rng.uniform(g.node_lat.min(), g.node_lat.max(), n_zones)
    zones = []
    for i, (lon, lat) in enumerate(zip(lons.tolist(), lats.tolist(), strict=True)):
        # Mostly small zones (school gates, bridges, markets) barring one or two classes.
        barred = list({CLASSES[int(c)] for c in rng.integers(0, len(CLASSES), 2)})
        windows = [TimeWindow("07:00", "21:00")] if rng.random() < 0.5 else []
        ring = square_ring(lon, lat, rng.uniform(30, 120))
        zones.append(Zone(f"z{i}", f"区域{i}", ring, barred, windows))
    return RuleConfig(zones=ZoneRule(zones=zones))


def _fleet(city: CityService, n: int, rng: np.random.Generator) -> list[Vehicle]:
    g = city.graph
    out = []
    for i in range(n):
        vclass = CLASSES[i % len(CLASSES)]
        permits = []
        if vclass is VehicleClass.HAZMAT:
            a, b = rng.integers(0, g.n_nodes, 2)
            line = city.router.fastest_path(int(a), int(b)).line if a != b else None
            if line is not None and len(line) >= 2:
                permits = [Permit(f"p{i}", corridors=[[tuple(p) for p in line.tolist()]])]
        if vclass is VehicleClass.MUCK:
            node = int(rng.integers(0, g.n_nodes))
            site = square_ring(float(g.node_lon[node]), float(g.node_lat[node]), 150)
            permits = [Permit(f"p{i}", sites=[site])]
        out.append(Vehicle(f"V{i:06d}", plate_for(i, vclass), vclass, permits=permits))
    return out


def _batches(
    city: CityService, vehicles: list[Vehicle], n_batches: int, rng: np.random.Generator
) -> list[bytes]:
    """Drive every vehicle along the roads, one report each per batch, 30 s apart.

    Most drive at three quarters of the road's limit, a quarter are stopped, one in a
    hundred speeds: alerts are the exception, as in a real fleet.
    """
    g = city.graph
    n = len(vehicles)
    limit = g.edge_speed_mps * 3.6
    out_edges = [np.flatnonzero(g.edge_from == node) for node in range(g.n_nodes)]
    edge = rng.integers(0, g.n_edges, n)
    f = rng.random(n)
    out = []
    for k in range(n_batches):
        speed = limit[edge] * rng.uniform(0.5, 0.9, n)
        speed[rng.random(n) < 0.25] = 0.0
        fast = rng.random(n) < 0.01
        speed[fast] = limit[edge[fast]] + 20.0
        f += speed / 3.6 * 30.0 / g.edge_length_m[edge]
        for i in np.flatnonzero(f >= 1.0):  # on to a next road at the intersection
            nxt = out_edges[g.edge_to[edge[i]]]
            edge[i] = rng.choice(nxt) if len(nxt) else rng.integers(0, g.n_edges)
            f[i] = 0.0
        lon = g.node_lon[g.edge_from[edge]] * (1 - f) + g.node_lon[g.edge_to[edge]] * f
        lat = g.node_lat[g.edge_from[edge]] * (1 - f) + g.node_lat[g.edge_to[edge]] * f
        lon += rng.normal(0, 3e-5, n)
        lat += rng.normal(0, 3e-5, n)
        msgs = [
            {"device_id": v.device_id, "plate": v.plate, "time": int((T0 + 30 * k) * 1000),
             "lon": round(x, 7), "lat": round(y, 7), "speed": round(s, 1), "heading": 90.0}
            for v, x, y, s in zip(vehicles, lon.tolist(), lat.tolist(), speed.tolist(), strict=True)
        ]  # fmt: skip
        out.append(msgspec.json.encode(msgs))
    return out


class NaiveEngine:
    """Apply the same rules one point at a time: the baseline a first version would write."""

    def __init__(self, eng: FleetEngine) -> None:
        self.eng = eng
        self.plate = re.compile(r"^[\u4e00-\u9fff][A-HJ-NP-Z][A-HJ-NP-Z0-9学]{5,6}$")
        self.decoder = msgspec.json.Decoder(PositionMessage)
        self.state: dict[str, dict[str, Any]] = {}
        self.open: set[tuple[str, str]] = set()
        self.when = [minutes_table(z.windows) for z in eng.zones.zones]
        self.zone_tree = shapely.STRtree(eng.zones.polygons)
        limits = eng.rules.speeding.class_limits_kmh
        self.limits = {c: limits.get(c, np.inf) for c in CLASSES}
        self.road_tree = shapely.STRtree(
            shapely.linestrings(
                np.stack([np.column_stack([eng.matcher.ax, eng.matcher.ay]),
                          np.column_stack([eng.matcher.bx, eng.matcher.by])], axis=1)
            )
        )  # fmt: skip

    def point(self, raw: bytes) -> None:
        m = self.decoder.decode(raw)
        if not self.plate.match(m.plate):
            return
        eng = self.eng
        slot = eng.fleet.slot[m.device_id]
        v = eng.fleet.vehicles[slot]
        t = m.time / 1000 if isinstance(m.time, int) else m.time.timestamp()
        st = self.state.setdefault(m.device_id, {"t": -1.0, "stop": None, "drive": None})
        if t <= st["t"]:
            return
        x, y = eng.projection.to_metres(m.lon, m.lat)
        p = shapely.Point(float(x), float(y))
        minute = int(minute_of_day_beijing(np.array([t]))[0])
        for zi in self.zone_tree.query(p, predicate="within"):
            z = eng.zones.zones[zi]
            if v.vclass in z.classes and self.when[zi][minute]:
                self.open.add((m.device_id, z.id))
        limit = self.limits[v.vclass]
        if m.speed > min(limit, eng.matcher.min_limit_kmh + 5):
            hit = self.road_tree.query_nearest(p, max_distance=eng.matcher.radius_m)
            if len(hit):
                limit = min(limit, eng.matcher.edge_limit_kmh[eng.matcher.seg_edge[hit[0]]] + 5)
            if m.speed > limit:
                self.open.add((m.device_id, "speeding"))
        corridor = eng._permits.corridor[slot]
        if corridor is not None and shapely.distance(p, corridor) > 200:
            self.open.add((m.device_id, "corridor"))
        stopped = m.speed <= 3
        st["stop"] = (st["stop"] or t) if stopped else None
        st["drive"] = st["drive"] or (None if stopped else t)
        if stopped and t - st["stop"] > 900 and not len(eng._permits.site_tree.query(p)):
            self.open.add((m.device_id, "dwell"))
        st["t"] = t


def run(h: Harness) -> None:
    """Measure the batched engine and the naive per-point loop on the same stream."""
    n_vehicles = 500 if h.quick else 20_000
    n_batches = 3 if h.quick else 15
    n_zones = 100 if h.quick else 2_000
    rng = np.random.default_rng(5)
    city = CityService(load_pack("nanchang"))
    rules = _rules(city, n_zones, rng)
    vehicles = _fleet(city, n_vehicles, rng)
    batches = _batches(city, vehicles, n_batches + 1, rng)
    points = n_vehicles * n_batches

    eng = FleetEngine(Fleet(vehicles), rules, city.graph, city.projection)
    eng.process(batches[0], T0 + 60)  # first reports: state starts
    naive = NaiveEngine(eng)
    sample = msgspec.json.decode(batches[1])[: 300 if h.quick else 3_000]
    raws = [msgspec.json.encode(m) for m in sample]
    t0, c0 = time.perf_counter(), time.process_time()
    for raw in raws:
        naive.point(raw)
    per_point = (time.perf_counter() - t0) / len(raws)
    per_point_cpu = (time.process_time() - c0) / len(raws)
    h.record(GROUP, "naive per-point loop", 1 / per_point, "points/s", higher_is_better=True,
             note=f"{len(raws):,} points, {n_zones:,} zones")  # fmt: skip
    h.record(GROUP, "naive per-point loop, per CPU second", 1 / per_point_cpu, "points/s",
             higher_is_better=True, note="process CPU time")  # fmt: skip

    alerts = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for k, body in enumerate(batches[1:], start=1):
        out = eng.process(body, T0 + 30 * k + 60)
        alerts += len(out.opened)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    h.record(GROUP, "batched pipeline", points / elapsed, "points/s", higher_is_better=True,
             baseline="naive per-point loop",
             note=f"{points:,} points in batches of {n_vehicles:,}, {n_zones:,} zones, "
                  f"{alerts:,} alerts opened, one core, wall clock")  # fmt: skip
    h.record(GROUP, "batched pipeline, per CPU second", points / cpu, "points/s",
             higher_is_better=True, baseline="naive per-point loop, per CPU second",
             note=f"process CPU time ({cpu:.2f} s for {points:,} points): the per-core rate "
                  "on a machine shared with other jobs")  # fmt: skip
    # The same stream through fresh engines twice more: the least CPU time of the three
    # passes is the figure least inflated by other jobs on a shared machine.
    cpus = [cpu]
    for _ in range(2):
        again = FleetEngine(Fleet(vehicles), rules, city.graph, city.projection)
        again.process(batches[0], T0 + 60)
        c0 = time.process_time()
        for k, body in enumerate(batches[1:], start=1):
            again.process(body, T0 + 30 * k + 60)
        cpus.append(time.process_time() - c0)
    h.record(GROUP, "batched pipeline, per CPU second, best of 3 passes", points / min(cpus),
             "points/s", higher_is_better=True,
             note="CPU seconds per pass: " + ", ".join(f"{c:.2f}" for c in cpus))  # fmt: skip
    best = h.time(lambda: decode_positions(batches[1], T0 + 600), repeat=3).best
    h.record(GROUP, "decode only", n_vehicles / best, "points/s", higher_is_better=True,
             note="msgspec batch decode + validation")  # fmt: skip
    _stream_workers(h, vehicles, rules, batches[1:])
    fleet_mqtt.run(h, MQTT_URL, city)


def _stream_workers(
    h: Harness, vehicles: list[Vehicle], rules: RuleConfig, batches: list[bytes]
) -> None:
    """Drain a backlog on the partitioned JetStream stream with two worker processes."""
    try:
        with socket.create_connection(("127.0.0.1", 4222), timeout=2):
            pass
    except OSError:
        h.console.print("[yellow]NATS not reachable: partitioned-worker figure skipped[/yellow]")
        return
    msgs = [m for b in batches for m in msgspec.json.decode(b)]
    tag = secrets.token_hex(4)
    stream, prefix = f"BENCH_FLEET_{tag}", f"bench.{tag}.points"
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "fleet.json"
        spec.write_bytes(msgspec.json.encode(FleetSpec(vehicles, rules)))
        asyncio.run(publish_stream(NATS_URL, stream, prefix, msgs, 2, batch=1000))
        cmd = [sys.executable, "-m", "opencitybrain.cli", "fleet", "worker", "--fleet-file",
               str(spec), "--checkpoints", str(Path(tmp) / "ckpt"), "--stream", stream,
               "--prefix", prefix, "--batch-max", "20", "--nats-url", NATS_URL]  # fmt: skip
        procs = [
            subprocess.Popen([*cmd, "--partition", str(p)], stdout=subprocess.PIPE, text=True)
            for p in range(2)
        ]
        try:
            for proc in procs:
                assert proc.stdout is not None
                proc.stdout.readline()  # "ready": bound to its consumer
            t0 = time.perf_counter()
            while asyncio.run(_pending(stream)) > 0:
                time.sleep(0.05)
            elapsed = time.perf_counter() - t0
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)
            asyncio.run(_drop(stream))
    h.record(GROUP, "partitioned stream, 2 worker processes", len(msgs) / elapsed, "points/s",
             higher_is_better=True,
             note=f"{len(msgs):,} points backlog on JetStream, 2 partitions, checkpoint + ack "
                  f"per 20 stream messages (~10,000 points); 2 shared cores")  # fmt: skip


async def _pending(stream: str) -> int:
    nc = await nats.connect(NATS_URL)
    try:
        js = nc.jetstream()
        infos = [await js.consumer_info(stream, f"fleet-p{p}") for p in range(2)]
        return sum(i.num_pending + i.num_ack_pending for i in infos)
    finally:
        await nc.close()


async def _drop(stream: str) -> None:
    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    for name in (stream, alerts_stream_name(stream)):
        with contextlib.suppress(Exception):
            await js.delete_stream(name)
    await nc.close()
