"""Registry intake: departments' tables in through the catalogue, the registry's inputs out.

A folder of department tables (Parquet, one per ``<department>/<table>``, described by
``manifest.json``: each table's source, entity, key, field roles and styles, the mapping
``SourceSpec.from_mapping`` reads) is taken in table by table: each becomes a resource of
its own department if it is not one yet (every column as text, the key as identifier,
masking types on names, IDs, addresses and plates) and its rows are loaded through the
catalogue's load path (``LoadService``: checks, quarantine, upsert by key, snapshot).
The table is written as CSV to a temporary file batch by batch and streamed from there in
chunks, so a million-person city loads in bounded memory. Which resource holds which
table is kept in ``<data>/registry/sources.json``; ``inputs`` reads the resources'
current rows back as the registry's build inputs.

Used by ``citybrain registry load``/``build`` and by the demo's background seeding.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from opencitybrain.catalog.load_model import FileSource, LoadFormat, LoadOptions, LoadReport
from opencitybrain.catalog.loading import LoadService
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
from opencitybrain.catalog.rows import ResourceRows
from opencitybrain.catalog.search import SearchQuery
from opencitybrain.catalog.service import CatalogService
from opencitybrain.kernel.errors import NotFound
from opencitybrain.kernel.events import Context
from opencitybrain.registry.model import SourceSpec
from opencitybrain.registry.service import BuildReport, RegistryService
from opencitybrain.registry.store import KINDS, Kind

KIND_OF: dict[str, Kind] = {"person": "people", "company": "companies", "vehicle": "vehicles"}
MASK_OF = {
    "id_number": Masking.ID_NUMBER, "rep_id_number": Masking.ID_NUMBER,
    "owner_code": Masking.ID_NUMBER, "name": Masking.NAME, "rep_name": Masking.NAME,
    "address": Masking.ADDRESS, "plate": Masking.PLATE,
}  # fmt: skip
SOURCES_FILE = "sources.json"
BATCH_ROWS = 100_000
# A department → (its number, the 项 of its 类 3 catalogue; its provider credit code).
Provider = Callable[[str], tuple[str, str]]
Progress = Callable[[str, float], None]
# Before each table: (its source, its index, how many tables).
TableStarted = Callable[[str, int, int], None]
Inputs = dict[Kind, list[tuple[SourceSpec, pa.Table]]]


@dataclass(frozen=True, slots=True)
class Loaded:
    """One department table loaded: its source, its resource and the load's report."""

    source: str
    resource_id: str
    report: LoadReport

    def counts(self) -> dict[str, Any]:
        """Return the report's counts (rows in = landed + quarantined)."""
        r = self.report
        return {"resource_id": self.resource_id, "rows_in": r.rows_in, "inserted": r.inserted,
                "updated": r.updated, "unchanged": r.unchanged, "quarantined": r.quarantined,
                "status": str(r.status)}  # fmt: skip


def read_manifest(folder: Path) -> list[dict[str, Any]]:
    """Return the tables a population folder's ``manifest.json`` describes."""
    path = folder / "manifest.json"
    if not path.is_file():
        raise NotFound(
            "registry.no_manifest",
            f"找不到 {path}：请先运行 citybrain sim population",
            f"no manifest at {path}: run `citybrain sim population`",
        )
    tables: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["tables"]
    return tables


def department_spec(
    table: Mapping[str, Any], columns: Sequence[str], city_code: str, index: int,
    provider: Provider,
) -> ResourceSpec:  # fmt: skip
    """Return the catalogue resource of a department table: its own columns, as text."""
    department = table["source"].split("/")[0]
    number, code = provider(department)
    roles = {column: role for role, column in table["fields"].items()}
    fields = tuple(
        FieldSpec(c.lower(), roles.get(c, c), DataType.STRING, Level.IMPORTANT,
                  MASK_OF.get(roles.get(c, ""), Masking.NONE), c == table["key"])
        for c in columns
    )  # fmt: skip
    return ResourceSpec(
        classification=Classification("3", number, f"{900 + index}"),
        name_zh=f"{table['title_zh']}（部门原表 {table['source']}）",
        name_en=f"{table['source']} (department table)",
        department_id=department,
        provider_code=code,
        abstract=f"{table['title_zh']}：部门原始业务表，供基础库比对归集。",
        format=ResourceFormat.DATABASE,
        fields=fields,
        sharing_type=SharingType.CONDITIONAL,
        domain=Domain.POPULATION,
        update_cycle=UpdateCycle.DAILY,
        sharing_condition="用于基础库（一人一档、一企一档、一车一档）比对归集",
        tags=("基础库", "部门原表"),
    )


def write_csv(parquet: Path, path: Path) -> Path:
    """Write a department table as CSV text, batch by batch (never the whole table)."""
    reader = pq.ParquetFile(parquet)
    names = reader.schema_arrow.names
    schema = pa.schema([(c, pa.string()) for c in names])
    with pacsv.CSVWriter(str(path), schema) as writer:
        for batch in reader.iter_batches(batch_size=BATCH_ROWS):
            texts = [pc.cast(batch.column(c), pa.string()) for c in names]
            writer.write_batch(pa.record_batch(texts, schema=schema))
    return path


class RegistryIntake:
    """Take department tables in through the catalogue and read them back for builds."""

    def __init__(
        self,
        catalog: CatalogService,
        loader: LoadService,
        rows: ResourceRows,
        registry_dir: Path,
        city_code: str,
        provider: Provider,
        ctx: Context | None = None,
    ) -> None:
        self.catalog = catalog
        self.loader = loader
        self.rows = rows
        self.registry_dir = registry_dir  # <data>/registry
        self.city_code = city_code
        self.provider = provider
        self.ctx = ctx or Context.system("registry-intake")

    @property
    def sources_file(self) -> Path:
        """Return where the table → resource map is kept."""
        return self.registry_dir / SOURCES_FILE

    async def load(
        self,
        folder: Path,
        started: TableStarted | None = None,
        progress: Progress | None = None,
    ) -> list[Loaded]:
        """Publish each table of ``folder`` as its department's resource and load its rows.

        ``started`` hears each table before it loads, ``progress`` the load within it.
        """
        tables = read_manifest(folder)
        found = self.catalog.search(self.ctx, SearchQuery(limit=1000, include_withdrawn=False))
        have = {(h.resource.department_id, h.resource.spec.name_zh): h.resource.id
                for h in found.hits}  # fmt: skip
        done: list[Loaded] = []
        sources: dict[str, Any] = {}
        with tempfile.TemporaryDirectory(prefix="citybrain-load-") as tmp:
            for index, table in enumerate(tables):
                path = folder / f"{table['source']}.parquet"
                columns = pq.ParquetFile(path).schema_arrow.names
                spec = department_spec(table, columns, self.city_code, index, self.provider)
                rid = have.get((spec.department_id, spec.name_zh))
                if rid is None:
                    published = await self.catalog.publish(
                        self.ctx, spec, "基础库部门原表 / registry intake"
                    )
                    rid = published.id
                if started is not None:
                    started(table["source"], index, len(tables))
                if progress is not None:
                    progress("写入临时 CSV / writing CSV", 0.0)
                name = table["source"].split("/")[-1] + ".csv"
                csv_path = await asyncio.to_thread(write_csv, path, Path(tmp) / name)
                source = FileSource(name, csv_path, LoadFormat.CSV)
                options = LoadOptions((table["key"].lower(),), {c: c.lower() for c in columns})
                report = await self.loader.load(self.ctx, rid, source, options, progress)
                csv_path.unlink()
                done.append(Loaded(table["source"], rid, report))
                sources[table["source"]] = {
                    "resource_id": rid,
                    "entity": table["entity"],
                    "key": table["key"].lower(),
                    "fields": {r: c.lower() for r, c in table["fields"].items()},
                    "styles": table.get("styles", {}),
                }
        self.save_sources(sources)
        return done

    def save_sources(self, sources: Mapping[str, Any]) -> None:
        """Keep which resource holds which table (``sources.json``)."""
        self.registry_dir.mkdir(parents=True, exist_ok=True)
        temporary = self.sources_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(sources, ensure_ascii=False, indent=2), encoding="utf-8")
        temporary.replace(self.sources_file)

    def sources(self) -> dict[str, Any]:
        """Return the table → resource map of the last load (empty: nothing loaded)."""
        return read_sources(self.registry_dir)

    def inputs(self) -> Inputs:
        """Return each kind's inputs: the loaded resources' current rows with their specs."""
        return inputs_from_catalog(self.rows, self.registry_dir)


def read_sources(registry_dir: Path) -> dict[str, Any]:
    """Return the table → resource map of the last load (empty: nothing loaded)."""
    path = registry_dir / SOURCES_FILE
    if not path.is_file():
        return {}
    found: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return found


def inputs_from_catalog(rows: ResourceRows, registry_dir: Path) -> Inputs:
    """Return each kind's inputs: the loaded resources' current rows with their specs."""
    sources = read_sources(registry_dir)
    if not sources:
        raise NotFound(
            "registry.not_loaded",
            "尚未装载部门数据：请先运行 citybrain registry load",
            "no departments' data loaded: run `citybrain registry load` first",
        )
    inputs: Inputs = {}
    for source, info in sources.items():
        snapshot = rows.parquet(info["resource_id"])
        if snapshot is None:
            continue
        spec = SourceSpec(source, info["key"], info["fields"], info["styles"])
        inputs.setdefault(KIND_OF[info["entity"]], []).append((spec, pq.read_table(snapshot)))
    return inputs


def inputs_from_files(folder: Path) -> Inputs:
    """Return each kind's inputs straight from a population folder (no catalogue)."""
    inputs: Inputs = {}
    for table in read_manifest(folder):
        spec = SourceSpec.from_mapping(table)
        data = pq.read_table(folder / f"{table['source']}.parquet")
        inputs.setdefault(KIND_OF[table["entity"]], []).append((spec, data))
    return inputs


def build_all(
    service: RegistryService, inputs: Inputs, progress: Progress | None = None
) -> list[BuildReport]:
    """Build every kind that has inputs (people, companies, vehicles), in that order."""
    kinds = [k for k in KINDS if k in inputs]
    reports = []
    for n, kind in enumerate(kinds):

        def step(message: str, fraction: float, n: int = n) -> None:
            if progress is not None:
                progress(message, (n + fraction) / len(kinds))

        reports.append(service.build(kind, inputs[kind], step))
    return reports
