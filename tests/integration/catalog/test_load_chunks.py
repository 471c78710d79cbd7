"""A load read in chunks: repeated keys across chunks, bad rows on chunk edges, the file's
own row numbers in quarantine, the same report whatever the chunk size, and the progress."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from stdnum.cn import ric

from opencitybrain.adapters.duckdb_rows import DuckRows
from opencitybrain.catalog.load_model import FileSource, LoadFormat, LoadOptions, LoadReport
from opencitybrain.catalog.load_store import SqlLoadStore
from opencitybrain.catalog.loading import Connectors, LoadService
from opencitybrain.catalog.model import Resource
from opencitybrain.catalog.service import CatalogService
from opencitybrain.kernel.clock import ManualClock
from tests.integration.catalog.conftest import RecordingBus, staff
from tests.unit.catalog.samples import spec

PS = staff("public-security")
HEADER = "name,id_number,birth_date,address\n"


def rid(i: int) -> str:
    """Return a valid citizen ID, different for each i < 1000."""
    body = f"36010219900101{i:03d}"
    return body + ric.calc_check_digit(body + "0")  # it reads the first 17 of 18


def service(
    catalog: CatalogService, engine: sa.Engine, clock: ManualClock, bus: RecordingBus, root: Path
) -> LoadService:
    rows = DuckRows(root / "analytics")
    connectors = Connectors(root / "connectors", str(engine.url))
    return LoadService(catalog, rows, SqlLoadStore(engine), clock, bus, connectors, chunk_rows=3)


@pytest.fixture
def resource(catalog: CatalogService) -> Resource:
    return asyncio.run(catalog.publish(PS, spec()))


def load(loader: LoadService, ref: str, data: bytes | Path, fmt: LoadFormat) -> LoadReport:
    source = FileSource(f"f.{fmt.value}", data, fmt)
    return asyncio.run(loader.load(PS, ref, source, LoadOptions()))


# Rows 1-3 are chunk 1, 4-6 chunk 2, 7-9 chunk 3 (three rows a chunk).
ROWS = [
    f"甲,{rid(1)},1990-01-01,a",
    f"乙,{rid(2)},1990-01-01,b",
    f"丙,{rid(3)},1990-02-30,c",  # bad: the last row of chunk 1
    f"丁,{rid(4)},no-date,d",  # bad: the first row of chunk 2
    f"戊,{rid(2)},1990-01-01,e",  # repeats row 2's key (chunk 1) in chunk 2
    f"己,{rid(6)},1990-01-01,f",
    f"庚,{rid(6)},1990-01-01,g",  # repeats row 6's key (chunk 2) in chunk 3
    f"辛,{rid(8)},1990-01-01,h",
    f"壬,{rid(1)},1990-01-01,i",  # repeats row 1's key (chunk 1), the last row of the file
]
EXPECTED = [
    (3, "birth_date", "不是有效日期"),
    (4, "birth_date", "不是有效日期"),
    (5, "id_number", "row 2"),
    (7, "id_number", "row 6"),
    (9, "id_number", "row 1"),
]


def test_keys_repeated_across_chunks_and_bad_rows_on_chunk_edges(
    catalog: CatalogService,
    engine: sa.Engine,
    clock: ManualClock,
    bus: RecordingBus,
    tmp_path: Path,
    resource: Resource,
) -> None:
    loader = service(catalog, engine, clock, bus, tmp_path)
    file = tmp_path / "people.csv"
    file.write_text(HEADER + "".join(r + "\n" for r in ROWS), encoding="utf-8")
    report = load(loader, resource.id, file, LoadFormat.CSV)
    assert (report.rows_in, report.inserted, report.quarantined) == (9, 4, 5)
    assert report.rows_in == report.landed + report.quarantined
    _, bad = loader.quarantined(PS, resource.id, report.id)
    assert [(q.row, q.field) for q in bad] == [(r, f) for r, f, _ in EXPECTED]
    for q, (_, _, why) in zip(bad, EXPECTED, strict=True):
        assert why in q.reason
    assert bad[2].raw["name"] == "戊"  # the raw row of the repeat, as the file had it
    assert bad[4].raw["address"] == "i"
    again = load(loader, resource.id, file, LoadFormat.CSV)
    assert (again.inserted, again.unchanged, again.quarantined) == (0, 4, 5)
    assert not (tmp_path / "analytics" / "staging").exists() or not any(
        (tmp_path / "analytics" / "staging").iterdir()
    )  # staging is cleared after each load


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 4, 1000])
def test_the_report_does_not_depend_on_the_chunk_size(
    catalog: CatalogService,
    engine: sa.Engine,
    clock: ManualClock,
    bus: RecordingBus,
    tmp_path: Path,
    resource: Resource,
    chunk_rows: int,
) -> None:
    rows = DuckRows(tmp_path / "analytics")
    connectors = Connectors(tmp_path / "connectors", str(engine.url))
    loader = LoadService(
        catalog, rows, SqlLoadStore(engine), clock, bus, connectors, chunk_rows=chunk_rows
    )
    # A line with too few columns, and a quoted value over two lines, among the rows.
    lines = [*ROWS[:4], "短行", f'"换\n行",{rid(10)},1990-01-01,x', *ROWS[4:]]
    data = (HEADER + "".join(r + "\n" for r in lines)).encode()
    report = load(loader, resource.id, data, LoadFormat.CSV)
    _, bad = loader.quarantined(PS, resource.id, report.id)
    assert [(q.row, q.field) for q in bad] == [
        (3, "birth_date"), (4, "birth_date"), (5, ""), (7, "id_number"), (9, "id_number"),
        (11, "id_number"),
    ]  # fmt: skip
    assert (report.rows_in, report.inserted, report.quarantined) == (11, 5, 6)
    page = rows.read(resource.id, columns=["name"], limit=100)
    assert sorted(r["name"] for r in page.rows) == sorted(["甲", "乙", "己", "辛", "换\n行"])


def test_json_lines_in_chunks_keep_line_numbers(
    catalog: CatalogService,
    engine: sa.Engine,
    clock: ManualClock,
    bus: RecordingBus,
    tmp_path: Path,
    resource: Resource,
) -> None:
    loader = service(catalog, engine, clock, bus, tmp_path)
    lines = [
        json.dumps({"name": "甲", "id_number": rid(1)}),
        json.dumps({"name": "乙", "id_number": rid(2), "birth_date": "1990-01-01"}),
        "",  # a blank line: skipped, but counted
        "{broken",  # line 4: the first line of chunk 2
        json.dumps({"name": "丙", "id_number": rid(1)}),  # repeats line 1 (chunk 1)
        json.dumps({"name": "丁", "id_number": rid(3), "address": "x"}),
        json.dumps({"name": "戊"}),  # no key: the key column is absent from this chunk
    ]
    report = load(loader, resource.id, "\n".join(lines).encode(), LoadFormat.JSONL)
    _, bad = loader.quarantined(PS, resource.id, report.id)
    assert [(q.row, q.field) for q in bad] == [(4, ""), (5, "id_number"), (7, "id_number")]
    assert "row 1" in bad[1].reason
    assert (report.rows_in, report.inserted, report.quarantined) == (6, 3, 3)
    assert report.missing_fields == ()  # every field appears in some chunk


def test_progress_reports_rows_and_reaches_the_end(
    catalog: CatalogService,
    engine: sa.Engine,
    clock: ManualClock,
    bus: RecordingBus,
    tmp_path: Path,
    resource: Resource,
) -> None:
    loader = service(catalog, engine, clock, bus, tmp_path)
    seen: list[tuple[str, float]] = []
    source = FileSource(
        "f.csv", (HEADER + "".join(r + "\n" for r in ROWS)).encode(), LoadFormat.CSV
    )
    asyncio.run(loader.load(PS, resource.id, source, None, lambda m, f: seen.append((m, f))))
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    assert any("checked 9 rows" in m for m, _ in seen)
