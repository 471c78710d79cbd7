"""Loading rows into a resource, on SQLite and PostgreSQL load metadata: every format, the
quarantine, idempotent reloads by key, who may load, and the SQL connector's fences."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
from datetime import date
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest
import sqlalchemy as sa

from opencitybrain.adapters.duckdb_rows import DuckRows
from opencitybrain.catalog.load_model import (
    FileSource,
    LoadFormat,
    LoadOptions,
    LoadReport,
    LoadStatus,
    SqlSource,
)
from opencitybrain.catalog.load_store import SqlLoadStore
from opencitybrain.catalog.loading import Connectors, LoadService
from opencitybrain.catalog.model import Resource
from opencitybrain.catalog.service import CatalogService
from opencitybrain.kernel.clock import ManualClock
from opencitybrain.kernel.errors import Conflict, Forbidden, InvalidInput
from tests.integration.catalog.conftest import ADMIN, RecordingBus, staff
from tests.unit.catalog.samples import spec

PS = staff("public-security")
GOOD = ["11010519491231002X", "36010219900101123X", "360103198512120018"]
HEADER = "name,id_number,birth_date,address\n"


def csv_of(*rows: str) -> bytes:
    return (HEADER + "".join(r + "\n" for r in rows)).encode()


@pytest.fixture
def loader(
    catalog: CatalogService,
    engine: sa.Engine,
    clock: ManualClock,
    bus: RecordingBus,
    tmp_path: Path,
) -> LoadService:
    connectors = Connectors(tmp_path / "connectors", str(engine.url))
    (tmp_path / "connectors").mkdir()
    rows = DuckRows(tmp_path / "analytics")
    return LoadService(catalog, rows, SqlLoadStore(engine), clock, bus, connectors)


@pytest.fixture
def resource(catalog: CatalogService) -> Resource:
    return asyncio.run(catalog.publish(PS, spec()))


def load(
    loader: LoadService,
    ref: str,
    data: bytes,
    fmt: LoadFormat = LoadFormat.CSV,
    key: tuple[str, ...] = (),
) -> LoadReport:
    source = FileSource(f"f.{fmt.value}", data, fmt)
    return asyncio.run(loader.load(PS, ref, source, LoadOptions(key=key)))


def test_csv_load_lands_good_rows_and_quarantines_bad_ones(
    loader: LoadService, resource: Resource, bus: RecordingBus
) -> None:
    data = csv_of(
        f"张三,{GOOD[0]},1949-12-31,东湖区1号",
        "李四,360102199001011234,1990-01-01,西湖区2号",  # wrong check character
        f"王五,{GOOD[1]},1990-02-30,青山湖区3号",  # no such day
        f"赵六,{GOOD[2]},1985-12-12,",
        f"重复,{GOOD[0]},1949-12-31,东湖区1号",  # repeats row 1's key
        "孙七,,1980-01-01,无号",  # no key
    )
    report = load(loader, resource.id, data)
    assert (report.rows_in, report.inserted, report.quarantined) == (6, 2, 4)
    assert report.rows_in == report.landed + report.quarantined
    assert report.status is LoadStatus.DONE
    assert report.key == ("id_number",)
    _, bad = loader.quarantined(PS, resource.id, report.id)
    assert [(q.row, q.field) for q in bad] == [
        (2, "id_number"), (3, "birth_date"), (5, "id_number"), (6, "id_number"),
    ]  # fmt: skip
    assert "GB 11643" in bad[0].reason
    assert "row 1" in bad[2].reason
    assert bad[1].raw["birth_date"] == "1990-02-30"
    assert bus.events[-1].type == "city.catalog.resource.loaded"
    assert bus.events[-1].data["quarantined"] == 4


def test_reloading_changes_nothing_and_a_changed_row_updates(
    loader: LoadService, resource: Resource
) -> None:
    rows = [f"张三,{GOOD[0]},1949-12-31,东湖区1号", f"赵六,{GOOD[2]},1985-12-12,红谷滩"]
    first = load(loader, resource.id, csv_of(*rows))
    again = load(loader, resource.id, csv_of(*rows))
    assert (first.inserted, again.inserted, again.updated, again.unchanged) == (2, 0, 0, 2)
    rows[1] = f"赵六,{GOOD[2]},1985-12-12,新地址"
    changed = load(loader, resource.id, csv_of(*rows, f"新人,{GOOD[1]},1990-01-01,x"))
    assert (changed.inserted, changed.updated, changed.unchanged) == (1, 1, 1)
    reports = loader.loads(PS, resource.id)
    assert next(r.id for r in reports) == changed.id
    assert len(reports) == 3


def test_gbk_csv_with_chinese_headers_is_read(loader: LoadService, resource: Resource) -> None:
    data = f"姓名,公民身份号码,出生日期,户籍地址,备注\n张三,{GOOD[0]},1949年12月31日,南昌市,x\n"
    report = load(loader, resource.id, data.encode("gbk"))
    assert (report.encoding, report.inserted, report.ignored_columns) == ("gb18030", 1, ("备注",))


def test_xlsx_load(loader: LoadService, resource: Resource) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "人口"
    sheet.append(["name", "id_number", "birth_date", "address"])
    sheet.append(["张三", GOOD[0], date(1949, 12, 31), "东湖区"])
    sheet.append(["李四", GOOD[1], "not a date", "西湖区"])
    buf = io.BytesIO()
    book.save(buf)
    report = asyncio.run(
        loader.load(
            PS, resource.code, FileSource("p.xlsx", buf.getvalue(), LoadFormat.XLSX, "人口")
        )
    )
    assert (report.inserted, report.quarantined) == (1, 1)


def test_jsonl_load_with_a_broken_line(loader: LoadService, resource: Resource) -> None:
    lines = [
        json.dumps({"name": "张三", "id_number": GOOD[0], "birth_date": "1949-12-31"}),
        "{not json",
        json.dumps({"name": "李四", "id_number": GOOD[1], "address": "西湖区"}),
    ]
    report = load(loader, resource.slug, "\n".join(lines).encode(), LoadFormat.JSONL)
    assert (report.rows_in, report.inserted, report.quarantined) == (3, 2, 1)
    _, bad = loader.quarantined(PS, resource.id, report.id)
    assert bad[0].row == 2
    assert "JSON" in bad[0].reason


def test_sqlite_connector_inside_the_connector_folder(
    loader: LoadService, resource: Resource, tmp_path: Path
) -> None:
    db = tmp_path / "connectors" / "ps.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE people (xm TEXT, sfz TEXT, csrq TEXT)")
        conn.executemany(
            "INSERT INTO people VALUES (?,?,?)",
            [("张三", GOOD[0], "1949-12-31"), ("李四", "bad", None)],
        )
    source = SqlSource(f"sqlite:///{db}", "SELECT xm, sfz, csrq FROM people")
    options = LoadOptions(mapping={"xm": "name", "sfz": "id_number", "csrq": "birth_date"})
    report = asyncio.run(loader.load(PS, resource.id, source, options))
    assert (report.format, report.inserted, report.quarantined) == (LoadFormat.SQL, 1, 1)
    assert report.missing_fields == ("address",)
    with pytest.raises(InvalidInput):  # a write is not a query
        asyncio.run(
            loader.load(PS, resource.id, SqlSource(f"sqlite:///{db}", "DELETE FROM people"))
        )
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM people").fetchone() == (2,)


def test_the_connector_is_fenced_in(
    loader: LoadService, resource: Resource, tmp_path: Path, engine: sa.Engine
) -> None:
    outside = tmp_path / "elsewhere.db"
    sqlite3.connect(outside).close()
    for url in (f"sqlite:///{outside}", str(engine.url), "mysql://x@y/z"):
        with pytest.raises((Forbidden, InvalidInput)):
            asyncio.run(loader.load(PS, resource.id, SqlSource(url, "SELECT 1")))


def test_postgres_connector(
    loader: LoadService, resource: Resource, postgres_url: str, engine: sa.Engine
) -> None:
    pg = sa.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with pg.begin() as conn:
        conn.execute(sa.text("CREATE TABLE hz (name text, id_number text, birth_date date)"))
        conn.execute(
            sa.text("INSERT INTO hz VALUES ('张三', :a, '1949-12-31'), ('x', :b, NULL)"),
            {"a": GOOD[0], "b": GOOD[1]},
        )
    pg.dispose()
    source = SqlSource(postgres_url, "SELECT * FROM hz")
    if engine.dialect.name == "postgresql":  # the department's database is the platform's
        with pytest.raises(Forbidden):
            asyncio.run(loader.load(PS, resource.id, source))
        return
    report = asyncio.run(loader.load(PS, resource.id, source))
    assert (report.inserted, report.quarantined) == (2, 0)
    assert "@" in report.source
    assert "search_path" in report.source


def test_only_the_provider_loads_and_sees_the_quarantine(
    loader: LoadService, resource: Resource
) -> None:
    report = load(loader, resource.id, csv_of(f"张三,{GOOD[0]},1949-12-31,x", "bad,1,2,3"))
    for ctx in (staff("transport"), ADMIN):
        with pytest.raises(Forbidden):
            asyncio.run(
                loader.load(ctx, resource.id, FileSource("f.csv", csv_of(), LoadFormat.CSV))
            )
        with pytest.raises(Forbidden):
            loader.quarantined(ctx, resource.id, report.id)
    assert loader.get(ADMIN, resource.id, report.id).quarantined == 1  # the bureau sees reports
    with pytest.raises(Forbidden):
        loader.loads(staff("transport"), resource.id)


def test_the_key_cannot_move_and_must_be_a_field(loader: LoadService, resource: Resource) -> None:
    load(loader, resource.id, csv_of(f"张三,{GOOD[0]},1949-12-31,x"))
    with pytest.raises(Conflict):
        load(loader, resource.id, csv_of(f"张三,{GOOD[0]},1949-12-31,x"), key=("name",))
    with pytest.raises(InvalidInput):
        load(loader, resource.id, csv_of(), key=("nope",))


def test_an_unreadable_file_leaves_a_failed_report(loader: LoadService, resource: Resource) -> None:
    with pytest.raises(InvalidInput):
        load(loader, resource.id, b"\xff\xfe\x00garbage\x81", LoadFormat.XLSX)
    (failed,) = loader.loads(PS, resource.id)
    assert failed.status is LoadStatus.FAILED
    assert failed.rows_in == 0
    assert failed.error
