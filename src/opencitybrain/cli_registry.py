"""``citybrain registry …``: load the departments' tables through the catalogue, build.

``load`` publishes each department table of a population folder (``citybrain sim
population``) as that department's catalogue resource, if it is not there yet, and loads
its rows through the catalogue's load path (checks, quarantine, upsert by key, snapshot):
each table is written as CSV to a temporary file batch by batch and streamed from there
in chunks, so a million-person city loads in bounded memory.
``build`` resolves people, companies and vehicles from those resources' current rows (or,
with ``--files``, straight from the folder) and stores the builds; only what changed since
the last build is stamped as changed. Both show progress.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from opencitybrain.adapters.buses import make_bus
from opencitybrain.adapters.duckdb_rows import DuckRows
from opencitybrain.bootstrap import open_accounts
from opencitybrain.catalog.load_model import FileSource, LoadFormat, LoadOptions
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
from opencitybrain.catalog.search import SearchQuery
from opencitybrain.catalog.service import CatalogService
from opencitybrain.catalog.store import SqlCatalogStore
from opencitybrain.kernel.clock import RealClock
from opencitybrain.kernel.errors import CityBrainError
from opencitybrain.kernel.events import Context
from opencitybrain.kernel.settings import Settings
from opencitybrain.registry.model import SourceSpec
from opencitybrain.registry.service import RegistryService
from opencitybrain.registry.store import Kind, ParquetBuildFiles, SqlDecisionStore
from opencitybrain.sim.demo_catalog import DEPT_NO, provider_code

registry_app = typer.Typer(
    help="基础库 / base registries (一人一档 · 一企一档 · 一车一档)", no_args_is_help=True
)
console = Console()
KIND_OF = {"person": "people", "company": "companies", "vehicle": "vehicles"}
MASK_OF = {
    "id_number": Masking.ID_NUMBER, "rep_id_number": Masking.ID_NUMBER,
    "owner_code": Masking.ID_NUMBER, "name": Masking.NAME, "rep_name": Masking.NAME,
    "address": Masking.ADDRESS, "plate": Masking.PLATE,
}  # fmt: skip
SOURCES_FILE = "sources.json"
CTX = Context.system("cli-registry")


def _bar() -> Progress:
    return Progress(
        TextColumn("[bold blue]{task.description}"), BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(), console=console,
    )  # fmt: skip


def _manifest(folder: Path) -> list[dict[str, Any]]:
    path = folder / "manifest.json"
    if not path.is_file():
        console.print(f"[red]找不到 {path} / no manifest: run `citybrain sim population`[/red]")
        raise typer.Exit(2)
    tables: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["tables"]
    return tables


def _spec(table: dict[str, Any], columns: list[str], city_code: str, index: int) -> ResourceSpec:
    """Return the catalogue resource of a department table: its own columns, as text."""
    department = table["source"].split("/")[0]
    roles = {column: role for role, column in table["fields"].items()}
    fields = tuple(
        FieldSpec(
            c.lower(),
            roles.get(c, c),
            DataType.STRING,
            Level.IMPORTANT,
            MASK_OF.get(roles.get(c, ""), Masking.NONE),
            c == table["key"],
        )
        for c in columns
    )
    return ResourceSpec(
        classification=Classification("3", DEPT_NO.get(department, "99"), f"{900 + index}"),
        name_zh=f"{table['title_zh']}（部门原表 {table['source']}）",
        name_en=f"{table['source']} (department table)",
        department_id=department,
        provider_code=provider_code(city_code, department),
        abstract=f"{table['title_zh']}：部门原始业务表，供基础库比对归集。",
        format=ResourceFormat.DATABASE,
        fields=fields,
        sharing_type=SharingType.CONDITIONAL,
        domain=Domain.POPULATION,
        update_cycle=UpdateCycle.DAILY,
        sharing_condition="用于基础库（一人一档、一企一档、一车一档）比对归集",
        tags=("基础库", "部门原表"),
    )


def _as_csv(parquet: pq.ParquetFile, path: Path) -> Path:
    """Write a department table as CSV text, batch by batch (never the whole table)."""
    names = parquet.schema_arrow.names
    schema = pa.schema([(c, pa.string()) for c in names])
    with pacsv.CSVWriter(str(path), schema) as writer:
        for batch in parquet.iter_batches(batch_size=100_000):
            texts = [pc.cast(batch.column(c), pa.string()) for c in names]
            writer.write_batch(pa.record_batch(texts, schema=schema))
    return path


async def _load_all(settings: Settings, folder: Path, city_code: str) -> dict[str, Any]:
    clock = RealClock()
    engine, accounts = open_accounts(settings, clock)
    bus = await make_bus(settings.bus_url)
    sources: dict[str, Any] = {}
    try:
        catalog = CatalogService(SqlCatalogStore(engine), accounts, clock, bus)
        rows = DuckRows(settings.data_dir / "analytics")
        connectors = Connectors(settings.data_dir / "connectors", settings.sql_url)
        loader = LoadService(catalog, rows, SqlLoadStore(engine), clock, bus, connectors)
        found = catalog.search(CTX, SearchQuery(limit=1000, include_withdrawn=False))
        have = {(h.resource.department_id, h.resource.spec.name_zh): h.resource.id
                for h in found.hits}  # fmt: skip
        out = Table("来源 / source", "行 / rows in", "新增", "更新", "未变", "隔离 / quarantined")
        with _bar() as bar, tempfile.TemporaryDirectory(prefix="citybrain-load-") as tmp:
            tables = _manifest(folder)
            task = bar.add_task("装载 / loading", total=len(tables))
            rows_task = bar.add_task("", total=1.0)
            for index, table in enumerate(tables):
                parquet = pq.ParquetFile(folder / f"{table['source']}.parquet")
                columns = parquet.schema_arrow.names
                spec = _spec(table, columns, city_code, index)
                rid = have.get((spec.department_id, spec.name_zh))
                if rid is None:
                    rid = (await catalog.publish(CTX, spec, "基础库部门原表 / registry intake")).id
                bar.update(task, description=f"装载 / loading {table['source']}")
                bar.reset(rows_task, total=1.0, description="  写入临时 CSV / writing CSV")
                name = table["source"].split("/")[-1] + ".csv"
                csv_path = _as_csv(parquet, Path(tmp) / name)

                def progress(message: str, fraction: float) -> None:
                    bar.update(rows_task, description=f"  {message}", completed=fraction)

                source = FileSource(name, csv_path, LoadFormat.CSV)
                mapping = {c: c.lower() for c in columns}
                options = LoadOptions((table["key"].lower(),), mapping)
                report = await loader.load(CTX, rid, source, options, progress)
                csv_path.unlink()
                out.add_row(table["source"], f"{report.rows_in:,}", f"{report.inserted:,}",
                            f"{report.updated:,}", f"{report.unchanged:,}",
                            f"{report.quarantined:,}")  # fmt: skip
                sources[table["source"]] = {
                    "resource_id": rid,
                    "entity": table["entity"],
                    "key": table["key"].lower(),
                    "fields": {r: c.lower() for r, c in table["fields"].items()},
                    "styles": table.get("styles", {}),
                }
                bar.advance(task)
        console.print(out)
    finally:
        await bus.close()
        engine.dispose()
    return sources


@registry_app.command("load")
def load(
    population: Annotated[Path, typer.Argument(help="citybrain sim population 的输出目录")],
) -> None:
    """Publish each department table as its department's resource and load its rows."""
    from opencitybrain.citypack.loader import load_pack

    settings = Settings()
    pack = load_pack(settings.city_pack, cache_dir=settings.data_dir / "cache")
    try:
        sources = asyncio.run(_load_all(settings, population, pack.manifest.city_code))
    except CityBrainError as exc:
        console.print(f"[red]{exc.message}[/red] ({exc.code})")
        raise typer.Exit(1) from exc
    target = settings.data_dir / "registry" / SOURCES_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(sources, ensure_ascii=False, indent=2), encoding="utf-8")
    console.print(f"[green]{len(sources)} 张部门表已装载 / department tables loaded[/green]")


def _inputs_from_files(folder: Path) -> dict[str, list[tuple[SourceSpec, pa.Table]]]:
    inputs: dict[str, list[tuple[SourceSpec, pa.Table]]] = {}
    for table in _manifest(folder):
        spec = SourceSpec.from_mapping(table)
        data = pq.read_table(folder / f"{table['source']}.parquet")
        inputs.setdefault(KIND_OF[table["entity"]], []).append((spec, data))
    return inputs


def _inputs_from_catalog(settings: Settings) -> dict[str, list[tuple[SourceSpec, pa.Table]]]:
    path = settings.data_dir / "registry" / SOURCES_FILE
    if not path.is_file():
        console.print(
            "[red]先运行 citybrain registry load / run `citybrain registry load` first[/red]"
        )
        raise typer.Exit(2)
    rows = DuckRows(settings.data_dir / "analytics")
    inputs: dict[str, list[tuple[SourceSpec, pa.Table]]] = {}
    for source, info in json.loads(path.read_text(encoding="utf-8")).items():
        snapshot = rows.parquet(info["resource_id"])
        if snapshot is None:
            continue
        spec = SourceSpec(source, info["key"], info["fields"], info["styles"])
        inputs.setdefault(KIND_OF[info["entity"]], []).append((spec, pq.read_table(snapshot)))
    return inputs


@registry_app.command("build")
def build(
    files: Annotated[
        Path | None, typer.Option(help="直接读取该目录的部门表 / read this folder")
    ] = None,
) -> None:
    """Resolve people, companies and vehicles into golden records; report what changed."""
    settings = Settings()
    inputs = _inputs_from_files(files) if files else _inputs_from_catalog(settings)
    engine, _ = open_accounts(settings)
    service = RegistryService(
        ParquetBuildFiles(settings.data_dir / "registry"), SqlDecisionStore(engine), RealClock()
    )
    out = Table("主档 / kind", "行 / rows in", "归集 / linked", "隔离", "未匹配", "主档数",
                "新增", "变更", "删除", "对账 / reconciles")  # fmt: skip
    try:
        with _bar() as bar:
            task = bar.add_task("基础库 / registry", total=1.0)
            kinds: list[Kind] = [k for k in ("people", "companies", "vehicles") if k in inputs]
            for n, kind in enumerate(kinds):

                def step(message: str, fraction: float, n: int = n) -> None:
                    bar.update(task, description=message, completed=(n + fraction) / len(kinds))

                report = service.build(kind, inputs[kind], step)
                c, ch = report.counts, report.changes.counts()
                out.add_row(kind, f"{c['rows_in']:,}", f"{c['linked']:,}", f"{c['quarantined']:,}",
                            f"{c['unmatched']:,}", f"{c['golden']:,}", f"{ch['added']:,}",
                            f"{ch['changed']:,}", f"{ch['removed']:,}",
                            "✓" if report.reconciles else "✗")  # fmt: skip
    finally:
        engine.dispose()
    console.print(out)
