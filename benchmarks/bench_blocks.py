"""Block data: locate and aggregate 10M rows to grids, and block query latency.

Rows are points spread over the demo city's built-up grids (each a grid's inside point
plus up to ±40 m of jitter), with a category (5 values) and a number, in a Parquet
snapshot as a load leaves it. Figures, in one run:

* locate: the snapshot's points to county, street, community and grid (geo's locator);
* aggregate to grids: count by grid over all rows in DuckDB (no cached result); the naive
  baseline counts grid codes row by row in Python (a dict), on a slice of the rows,
  scaled to the whole;
* summarise: the located rows grouped once by every place (and category), with every
  metric's parts: what preparing a version adds, and the memory it holds;
* block query p95: a cockpit-like mix (county → street → community drill-downs, counts,
  sums, counts by category) through the service: each distinct query once, uncached, cut
  from the version's summary, against the same queries scanning the prepared rows (copied
  into DuckDB sorted by region; the path before summaries); then the mix as users repeat
  it (cached per snapshot version). The naive baseline answers a query from the snapshot
  alone (read, locate, group) each time.
"""

from __future__ import annotations

import gc
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from benchmarks.harness import Harness
from opencitybrain.adapters.duckdb_blocks import DuckBlockEngine
from opencitybrain.blocks.locate import Placement, locate
from opencitybrain.blocks.model import BlockQuery, Metric, Op
from opencitybrain.blocks.service import BlockService
from opencitybrain.blocks.store import GroupPlan
from opencitybrain.citypack.loader import load_pack
from opencitybrain.geo.lookup import RegionLocator

GROUP = "blocks"
RID = "bench"
NAIVE = "naive: query from the snapshot"
SCANNED = "block query p95, uncached, scanning rows"


def _rows(n: int, lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]) -> pa.Table:
    rng = np.random.default_rng(7)
    pick = rng.integers(0, len(lon), n)
    # ~0.0004° is ~40 m: points stay near their grid's inside point.
    x = lon[pick] + rng.uniform(-0.0004, 0.0004, n)
    y = lat[pick] + rng.uniform(-0.0004, 0.0004, n)
    kinds = pa.array(["住宅", "商铺", "学校", "医院", "工地"]).take(pa.array(rng.integers(0, 5, n)))
    return pa.table({"lon": x, "lat": y, "kind": kinds, "amount": rng.integers(1, 100, n)})


def _distinct(service: BlockService) -> list[BlockQuery]:
    """Return the queries a cockpit user asks drilling down (each once)."""
    counties = [b.code for b in service.aggregate(BlockQuery(RID, "county")).blocks]
    queries = [BlockQuery(RID, "county", by="kind")]
    for county in counties:
        queries.append(BlockQuery(RID, "street", county))
        queries.append(BlockQuery(RID, "street", county, Metric(Op.SUM, "amount")))
    for county in counties[:4]:
        for street in service.aggregate(BlockQuery(RID, "street", county)).blocks[:5]:
            queries.append(BlockQuery(RID, "community", street.code))
            queries.append(BlockQuery(RID, "community", street.code, by="kind"))
    return list(dict.fromkeys(queries))


def _timed(service: BlockService, queries: list[BlockQuery]) -> tuple[list[float], list[float]]:
    """Return each query's wall and CPU seconds (CPU: the shared machine's waits left out)."""
    wall, cpu = [], []
    for query in queries:
        t0, c0 = time.perf_counter(), time.process_time()
        service.aggregate(query)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu


def _p95_ms(samples: list[float]) -> float:
    return float(np.percentile(samples, 95)) * 1000


def run(h: Harness) -> None:
    """Locate and aggregate N rows; time block queries uncached and as a cached mix."""
    n = 200_000 if h.quick else 10_000_000
    pack = load_pack("nanchang")
    assert pack.divisions is not None
    locator = RegionLocator(pack.counties, pack.divisions)
    grids = pack.divisions.grids
    table = _rows(n, np.asarray(grids.lon), np.asarray(grids.lat))
    engine = DuckBlockEngine()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.parquet"
        pq.write_table(table, path)

        t0, c0 = time.perf_counter(), time.process_time()
        located = locate(table, Placement(lon="lon", lat="lat"), points=locator)
        located_s, located_cpu = time.perf_counter() - t0, time.process_time() - c0
        placed = int(pc.sum(pc.not_equal(located["_grid"], "")).as_py() or 0)
        h.record(GROUP, f"locate {n:,} points", located_s, "s",
                 note=f"county, street, community, grid; {placed:,} in a grid; "
                 f"{located_cpu:.1f} s CPU")  # fmt: skip

        plan = GroupPlan(key="_grid", metric=Metric())
        timing = h.time(lambda: engine.group(located, plan), repeat=3, warmup=1)
        cells = len(engine.group(located, plan).rows)
        slice_n = min(n, 2_000_000)
        codes = located["_grid"].slice(0, slice_n).to_pylist()
        t0 = time.perf_counter()
        counter: Counter[str] = Counter()
        for code in codes:
            if code:
                counter[code] += 1
        naive_s = (time.perf_counter() - t0) * n / slice_n
        h.record(GROUP, "naive: count by grid, row by row", naive_s, "s",
                 note=f"Python dict over {slice_n:,} rows, scaled to {n:,}")  # fmt: skip
        h.record(GROUP, f"aggregate {n:,} rows to grids", timing.best, "s",
                 baseline="naive: count by grid, row by row",
                 note=f"DuckDB GROUP BY over Arrow, best of 3 (median {timing.median:.2f} s); "
                 f"{cells:,} grids; goal < 2 s")  # fmt: skip

        t0, c0 = time.perf_counter(), time.process_time()
        summary = engine.summarise(located)
        summarised_s, summarised_cpu = time.perf_counter() - t0, time.process_time() - c0
        h.record(GROUP, f"summarise {n:,} rows", summarised_s, "s",
                 note=f"{summarised_cpu:.1f} s CPU; grouped by county, street, "
                 f"community, grid (+ {', '.join(sorted(summary.categories))}): "
                 f"{summary.num_rows:,} rows")  # fmt: skip
        h.record(
            GROUP,
            "summary memory",
            summary.nbytes / 2**20,
            "MB",
            note=f"Arrow tables; the located rows take {located.nbytes / 2**20:,.0f} MB",
        )
        del summary

        # The path before summaries: every uncached query scans the prepared rows.
        scan = BlockService(lambda _: path, engine, points=locator, summaries=False)
        scan.aggregate(BlockQuery(RID, "county"))  # locate, copy into DuckDB sorted by region
        distinct = _distinct(scan)
        scanned, scanned_cpu = _timed(scan, distinct)
        naive = [_naive(path, locator, engine, q) for q in distinct[:2]]
        h.record(GROUP, NAIVE, float(np.percentile(naive, 95)) * 1000, "ms",
                 note=f"read + locate + group per query; {len(naive)} queries")  # fmt: skip
        h.record(GROUP, SCANNED, float(np.percentile(scanned, 95)) * 1000, "ms",
                 baseline=NAIVE,
                 note=f"the {len(distinct)} queries each once over the prepared rows (sorted "
                 f"by region); median {np.median(scanned) * 1000:.0f} ms; CPU p95 "
                 f"{_p95_ms(scanned_cpu):.0f} ms")  # fmt: skip
        del scan
        gc.collect()

        service = BlockService(lambda _: path, engine, points=locator)
        t0, c0 = time.perf_counter(), time.process_time()
        service.aggregate(BlockQuery(RID, "county"))  # the first query after a load
        first_s, first_cpu = time.perf_counter() - t0, time.process_time() - c0
        h.record(GROUP, "first query after a load", first_s, "s",
                 note=f"read the snapshot, locate, summarise; {first_cpu:.1f} s CPU")  # fmt: skip
        cold, cold_cpu = _timed(service, distinct)
        mix = [random.Random(3).choice(distinct) for _ in range(400)]
        warm, _ = _timed(service, mix)
        h.record(GROUP, "block query p95, uncached", float(np.percentile(cold, 95)) * 1000,
                 "ms", baseline=SCANNED,
                 note=f"{len(distinct)} distinct drill-down queries over {n:,} rows, each "
                 f"cut from the summary; median {np.median(cold) * 1000:.1f} ms, max "
                 f"{max(cold) * 1000:.1f} ms; CPU p95 {_p95_ms(cold_cpu):.1f} ms; "
                 "goal < 50 ms")  # fmt: skip
        h.record(GROUP, "block query p95, mix", float(np.percentile(warm, 95)) * 1000, "ms",
                 baseline=NAIVE,
                 note=f"{len(mix)} queries drawn from the {len(distinct)}, cached per "
                 "snapshot version; goal < 50 ms")  # fmt: skip


def _naive(path: Path, locator: RegionLocator, engine: DuckBlockEngine, q: BlockQuery) -> float:
    t0 = time.perf_counter()
    fresh = locate(pq.read_table(path), Placement(lon="lon", lat="lat"), points=locator)
    column = {"county": "_county", "street": "_street", "community": "_community"}[q.level]
    engine.group(fresh, GroupPlan(key=column, metric=q.metric))
    return time.perf_counter() - t0
