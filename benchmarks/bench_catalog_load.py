"""Loading rows into a resource: the column-wise loader against a per-row Python loader.

A CSV of residents (name, citizen ID as the key, birth date, mobile, address, registration
time; 1% of rows bad: a wrong check character, an impossible date or a short mobile) is
written to a file and loaded from it through ``LoadService`` — streamed in chunks of
100,000 rows: pyarrow decoding, column-wise checks, staging, one DuckDB merge, Parquet
snapshot, report and quarantine in SQLite — 1,000,000 rows (5,000 with --quick), then
loaded again unchanged; the peak RSS the first load adds is recorded too. The baseline,
in the same run, is what a script would do: ``csv.reader`` row by row, each value checked
in Python (python-stdnum for the ID, ``strptime`` for dates, a regex for the mobile), one
``INSERT OR REPLACE`` per good row into SQLite; it runs on the first 100,000 rows (1,000
with --quick), and the figures compared are rows per second.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import resource
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
from stdnum.cn import ric

from benchmarks.harness import Harness
from opencitybrain.accounts.model import DepartmentKind
from opencitybrain.adapters.duckdb_rows import DuckRows
from opencitybrain.bootstrap import open_accounts
from opencitybrain.catalog.load_model import FileSource, LoadFormat
from opencitybrain.catalog.load_store import SqlLoadStore
from opencitybrain.catalog.loading import Connectors, LoadService
from opencitybrain.catalog.model import (
    Classification,
    DataType,
    Domain,
    FieldSpec,
    Level,
    Masking,
    ResourceFormat,
    ResourceSpec,
    SharingType,
    UpdateCycle,
)
from opencitybrain.catalog.rules import uscc_check_char
from opencitybrain.catalog.service import CatalogService
from opencitybrain.catalog.store import SqlCatalogStore
from opencitybrain.kernel.bus import InProcessBus
from opencitybrain.kernel.clock import ManualClock
from opencitybrain.kernel.events import Context
from opencitybrain.kernel.settings import Settings
from opencitybrain.sim.population.codes import ascii_strings, ric_matrix

FIELDS = (
    FieldSpec("name", "姓名", DataType.STRING, Level.IMPORTANT, Masking.NAME),
    FieldSpec(
        "id_number", "公民身份号码", DataType.CITIZEN_ID, Level.CORE, Masking.ID_NUMBER, True
    ),
    FieldSpec("birth_date", "出生日期", DataType.DATE),
    FieldSpec("mobile", "手机", DataType.MOBILE, Level.IMPORTANT, Masking.MOBILE),
    FieldSpec("address", "住址", DataType.STRING, Level.IMPORTANT, Masking.ADDRESS),
    FieldSpec("registered_at", "登记时间", DataType.DATETIME),
)
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙胡朱高林何郭马罗")
MOBILE = re.compile(r"^1[3-9][0-9]{9}$")


def residents_csv(n: int, seed: int = 7) -> bytes:
    """Return n residents as CSV bytes, 1% of them bad, built column-wise."""
    rng = np.random.default_rng(seed)
    i = np.arange(n, dtype=np.int64)
    days = np.datetime64("1950-01-01") + (i // 1000).astype("timedelta64[D]")
    ymd = days.astype("datetime64[D]").astype(str)
    born = np.char.replace(ymd, "-", "").astype(np.int64)
    ids = ascii_strings(ric_matrix(np.full(n, 360102), born, i % 1000)).to_numpy(
        zero_copy_only=False
    )
    ymd = ymd.astype(object)
    mobiles = (13_000_000_000 + rng.integers(0, 999_999_999, n)).astype(str).astype(object)
    bad = np.flatnonzero(rng.random(n) < 0.01)
    for k, j in enumerate(bad):  # 1%: spoil one value of each bad row
        if k % 3 == 0:
            ids[j] = ids[j][:17] + ("0" if ids[j][17] != "0" else "1")
        elif k % 3 == 1:
            ymd[j] = ymd[j][:5] + "02-30"
        else:
            mobiles[j] = mobiles[j][:7]
    names = np.array(SURNAMES, dtype=object)[i % len(SURNAMES)] + "某"
    table = pa.table(
        {
            "name": pa.array(names, pa.string()),
            "id_number": pa.array(ids, pa.string()),
            "birth_date": pa.array(ymd, pa.string()),
            "mobile": pa.array(mobiles, pa.string()),
            "address": pa.array(
                np.char.add("南昌市东湖区八一大道", (i % 999).astype(str)).astype(object),
                pa.string(),
            ),
            "registered_at": pa.array(np.full(n, "2026-11-01 09:30:00", dtype=object), pa.string()),
        }
    )
    out = io.BytesIO()
    pa_csv.write_csv(table, out, pa_csv.WriteOptions(quoting_style="needed"))
    return out.getvalue()


def naive_load(data: bytes, db: Path) -> tuple[int, int]:
    """Load row by row in Python: check each value, one INSERT per good row."""
    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE TABLE IF NOT EXISTS people (name TEXT, id_number TEXT PRIMARY KEY, "
        "birth_date TEXT, mobile TEXT, address TEXT, registered_at TEXT)"
    )
    landed = quarantined = 0
    reader = csv.reader(io.StringIO(data.decode("utf-8")))
    next(reader)
    for row in reader:
        try:
            name, id_number, birth, mobile, address, registered = row
            ok = ric.is_valid(id_number) and MOBILE.match(mobile) is not None
            birth_date = datetime.strptime(birth, "%Y-%m-%d").date()
            at = datetime.strptime(registered, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        except ValueError:
            ok = False
        if not ok:
            quarantined += 1
            continue
        conn.execute(
            "INSERT OR REPLACE INTO people VALUES (?, ?, ?, ?, ?, ?)",
            (name, id_number, birth_date.isoformat(), mobile, address, at.isoformat()),
        )
        landed += 1
    conn.commit()
    conn.close()
    return landed, quarantined


def _loader(root: Path) -> tuple[LoadService, str]:
    settings = Settings(data_dir=root)
    engine, accounts = open_accounts(settings)
    sys = Context.system()
    accounts.create_department(sys, "city", "示例市", "Example City", DepartmentKind.CITY)
    accounts.create_department(
        sys, "ps", "公安局", "Public Security", DepartmentKind.DEPARTMENT, "city"
    )
    clock = ManualClock(datetime(2026, 11, 22, tzinfo=UTC))
    bus = InProcessBus()
    catalog = CatalogService(SqlCatalogStore(engine), accounts, clock, bus)
    spec = ResourceSpec(
        classification=Classification("1", "01", "001", "001"),
        name_zh="户籍人口基本信息", name_en="Registered residents", department_id="ps",
        provider_code="11360100MB1234567" + uscc_check_char("11360100MB1234567"),
        abstract="基准测试用的居民数据。", format=ResourceFormat.DATABASE, fields=FIELDS,
        sharing_type=SharingType.CONDITIONAL, sharing_condition="基准测试",
        domain=Domain.POPULATION, update_cycle=UpdateCycle.DAILY,
    )  # fmt: skip
    resource = asyncio.run(catalog.publish(sys, spec))
    loader = LoadService(
        catalog, DuckRows(root / "analytics"), SqlLoadStore(engine), clock, bus,
        Connectors(root / "connectors", settings.sql_url),
    )  # fmt: skip
    return loader, resource.id


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def run(h: Harness) -> None:
    """Load N rows column-wise and the baseline's share row by row; compare rows/s."""
    n = 5_000 if h.quick else 1_000_000
    n_naive = 1_000 if h.quick else 100_000
    data = residents_csv(n)
    group = f"catalog load (CSV, {n:,} rows, {len(data) / 2**20:.0f} MiB)"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        loader, rid = _loader(root)
        ctx = Context.system("bench")
        (root / "people.csv").write_bytes(data)
        source = FileSource("people.csv", root / "people.csv", LoadFormat.CSV)
        rss_before = _rss()
        t0 = time.perf_counter()
        first = asyncio.run(loader.load(ctx, rid, source))
        took = time.perf_counter() - t0
        grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before
        t0 = time.perf_counter()
        again = asyncio.run(loader.load(ctx, rid, source))
        took_again = time.perf_counter() - t0
        head = data[: data.index(b"\n", int(len(data) * n_naive / n)) + 1]
        t0 = time.perf_counter()
        landed, _ = naive_load(head, root / "naive.db")
        took_naive = time.perf_counter() - t0
    assert first.rows_in == n
    assert first.landed + first.quarantined == n
    assert again.unchanged == first.inserted
    assert again.inserted == 0
    h.record(group, "per-row Python csv + INSERT", n_naive / took_naive, "rows/s",
             higher_is_better=True, note=f"{n_naive:,} rows in {took_naive:.2f} s")  # fmt: skip
    h.record(group, "column-wise load (first)", n / took, "rows/s",
             baseline="per-row Python csv + INSERT", higher_is_better=True,
             note=f"{took:.2f} s; {first.inserted:,} in, {first.quarantined:,} bad")  # fmt: skip
    h.record(group, "reload unchanged", n / took_again, "rows/s",
             baseline="per-row Python csv + INSERT", higher_is_better=True,
             note=f"{took_again:.2f} s; {again.unchanged:,} unchanged")  # fmt: skip
    h.record(group, "load wall time (first)", took, "s")
    h.record(group, "peak RSS added by the first load", grew / 2**20, "MiB",
             note="ru_maxrss after the load minus RSS before it")  # fmt: skip
    _ = landed
