"""Load rows into a published resource: read, check, land by key, quarantine, report.

Only the resource's provider department loads into it (``catalog:load``); the bureau
sees every load's report but, like everyone else, not another department's quarantined
rows (they hold the source's raw personal data). Each load is announced as
``city.catalog.resource.loaded`` with its counts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pyarrow as pa

from opencitybrain.accounts.model import Permission, Role
from opencitybrain.accounts.service import ensure
from opencitybrain.catalog.load_checks import (
    KeyIndex,
    check_chunk,
    check_columns,
    resolve_columns,
)
from opencitybrain.catalog.load_connector import read_sql, shown
from opencitybrain.catalog.load_model import (
    FileSource,
    LoadFormat,
    LoadOptions,
    LoadReport,
    LoadStatus,
    Quarantined,
    Source,
)
from opencitybrain.catalog.load_ports import Landed, RowWriter, Staging
from opencitybrain.catalog.load_sources import Decoded
from opencitybrain.catalog.load_spool import QuarantineSpool
from opencitybrain.catalog.load_store import LoadStore
from opencitybrain.catalog.load_stream import CHUNK_ROWS, decode_chunks, input_size, slices
from opencitybrain.catalog.model import FieldSpec, Resource, Status
from opencitybrain.catalog.service import CatalogService
from opencitybrain.kernel.bus import Bus
from opencitybrain.kernel.clock import Clock
from opencitybrain.kernel.errors import (
    CityBrainError,
    Conflict,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
)
from opencitybrain.kernel.events import CloudEvent, Context
from opencitybrain.kernel.ids import new_id

Progress = Callable[[str, float], None]
MAX_PAGE = 1000


def _quiet(message: str, fraction: float) -> None:
    """Ignore progress."""


@dataclass
class Read:
    """What reading a source found so far: rows, quarantine, columns, encoding."""

    rows: int = 0
    bytes: int = 0
    quarantined: QuarantineSpool = field(default_factory=QuarantineSpool)
    missing: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    encoding: str = ""


@dataclass(frozen=True, slots=True)
class Connectors:
    """Where SQL connectors may point: SQLite files under ``root``, never ``platform_url``."""

    root: Path
    platform_url: str


def default_key(fields: Sequence[FieldSpec]) -> tuple[str, ...]:
    """Return the fields marked as identifiers, else every field (whole-row identity)."""
    ids = tuple(f.name for f in fields if f.is_identifier)
    return ids or tuple(f.name for f in fields)


class LoadService:
    """Load rows into resources and keep each load's report and quarantine."""

    def __init__(
        self,
        catalog: CatalogService,
        writer: RowWriter,
        store: LoadStore,
        clock: Clock,
        bus: Bus,
        connectors: Connectors,
        *,
        chunk_rows: int = CHUNK_ROWS,
    ) -> None:
        self._catalog = catalog
        self._chunk_rows = chunk_rows
        self._writer = writer
        self._store = store
        self._clock = clock
        self._bus = bus
        self._connectors = connectors

    # --- loading ----------------------------------------------------------------------

    async def load(
        self,
        ctx: Context,
        ref: str,
        source: Source,
        options: LoadOptions | None = None,
        progress: Progress | None = None,
    ) -> LoadReport:
        """Load a source into the resource ``ref`` (id, code or slug) and report."""
        resource = self.loadable(ctx, ref)
        report = await asyncio.to_thread(
            self._run, ctx, resource, source, options or LoadOptions(), progress or _quiet
        )
        await self._bus.publish(
            CloudEvent(
                type="city.catalog.resource.loaded",
                source="/catalog",
                time=report.finished_at,
                subject=resource.code,
                data={
                    "id": resource.id,
                    "code": resource.code,
                    "load_id": report.id,
                    "rows_in": report.rows_in,
                    "inserted": report.inserted,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                    "quarantined": report.quarantined,
                },
                context=ctx,
            )
        )
        return report

    def loadable(self, ctx: Context, ref: str) -> Resource:
        """Return the resource if the caller may load into it, else raise."""
        ensure(ctx, Permission.CATALOG_LOAD)
        resource = self._catalog.find(ctx, ref)
        if "system" not in ctx.roles and ctx.department != resource.department_id:
            raise Forbidden(
                "catalog.not_provider",
                "只有资源提供部门可以装载数据",
                "only the resource's provider department loads its rows",
            )
        if resource.status is Status.WITHDRAWN:
            raise Conflict("catalog.withdrawn", "资源已撤销", "the resource has been withdrawn")
        return resource

    def key_for(self, resource: Resource, asked: Sequence[str]) -> tuple[str, ...]:
        """Return the key of a load: as asked, as first loaded, or the default."""
        fields = resource.spec.fields
        names = {f.name for f in fields}
        unknown = [k for k in asked if k not in names]
        if unknown:
            raise InvalidInput(
                "catalog.bad_key",
                f"键字段不存在：{', '.join(unknown)}",
                f"no such key field: {', '.join(unknown)}",
                tuple(FieldError(f"key.{k}", "no such field / 无此字段") for k in unknown),
            )
        loaded = self._writer.key_of(resource.id)
        key = tuple(dict.fromkeys(asked)) or loaded or default_key(fields)
        if loaded is not None and key != loaded:
            raise Conflict(
                "catalog.key_changed",
                f"该资源按 {', '.join(loaded)} 装载，不能改用其他键",
                f"the resource is loaded by key ({', '.join(loaded)}); it cannot change",
            )
        return key

    def _run(
        self,
        ctx: Context,
        resource: Resource,
        source: Source,
        options: LoadOptions,
        progress: Progress,
    ) -> LoadReport:
        key = self.key_for(resource, options.key)
        fmt = source.format if isinstance(source, FileSource) else LoadFormat.SQL
        name = source.name if isinstance(source, FileSource) else shown(source.url)
        started, t0 = self._clock.now(), time.perf_counter()

        def report(landed: Landed, read: Read | None = None, error: str = "") -> LoadReport:
            read = read or Read()
            return LoadReport(
                id=new_id(), resource_id=resource.id, department_id=resource.department_id,
                actor=ctx.actor, format=fmt, source=name[:500], key=key,
                status=LoadStatus.FAILED if error else LoadStatus.DONE,
                rows_in=landed.total + len(read.quarantined), inserted=landed.inserted,
                updated=landed.updated, unchanged=landed.unchanged,
                quarantined=len(read.quarantined), started_at=started,
                finished_at=started + timedelta(seconds=time.perf_counter() - t0),
                missing_fields=read.missing, ignored_columns=read.ignored,
                encoding=read.encoding, error=error,
            )  # fmt: skip

        staging = self._writer.stage(resource.id, resource.spec.fields, key)
        read = Read()
        try:
            try:
                self._read(source, resource.spec.fields, key, options, staging, read, progress)
            except CityBrainError as exc:
                self._store.add(report(Landed(), error=exc.message[:500]), [])
                raise
            progress(f"写入 {read.rows:,} 行 / merging {read.rows:,} rows", 0.85)
            pa.default_memory_pool().release_unused()  # the chunks' memory, before DuckDB's
            landed = staging.merge()
            progress("保存报告 / keeping the report", 0.95)
            done = report(landed, read)
            self._store.add(done, read.quarantined)
        finally:
            staging.close()
            read.quarantined.close()
        progress("完成 / done", 1.0)
        return done

    def _read(
        self,
        source: Source,
        fields: Sequence[FieldSpec],
        key: tuple[str, ...],
        options: LoadOptions,
        staging: Staging,
        read: Read,
        progress: Progress,
    ) -> None:
        """Decode, check and stage the source chunk by chunk; quarantine into ``read``."""
        size = input_size(source.data) if isinstance(source, FileSource) else 0

        def told(n: int) -> None:
            read.bytes = n

        progress("读取数据 / reading the source", 0.0)
        names: dict[str, None] = {}
        seen = KeyIndex(key)
        for i, chunk in enumerate(self._chunks(source, told)):
            names.update(dict.fromkeys(chunk.table.column_names))
            if i == 0 and not (
                isinstance(source, FileSource) and source.format is LoadFormat.JSONL
            ):
                check_columns(list(names), fields, key, options.mapping)  # fixed columns
            chosen = resolve_columns(list(names), fields, options.mapping, strict=False)
            checked = check_chunk(chunk, fields, key, chosen, seen)
            read.quarantined.extend(checked.quarantined)
            staging.add(checked.table)
            read.rows += chunk.table.num_rows + len(chunk.rejected)
            read.encoding = chunk.encoding
            done = read.bytes / size if size else 0.5
            progress(f"校验 {read.rows:,} 行 / checked {read.rows:,} rows", 0.8 * done)
        _, read.missing, read.ignored = check_columns(list(names), fields, key, options.mapping)

    def _chunks(self, source: Source, told: Callable[[int], None]) -> Iterator[Decoded]:
        if isinstance(source, FileSource):
            return decode_chunks(source.data, source.format, source.sheet, self._chunk_rows, told)
        whole = read_sql(source, self._connectors.root, self._connectors.platform_url)
        return slices(whole, self._chunk_rows)

    # --- reading reports --------------------------------------------------------------

    def _visible(self, ctx: Context, department_id: str) -> None:
        """Reports: the provider department and the bureau; nobody else."""
        ensure(ctx, Permission.CATALOG_READ)
        if {"system", Role.BUREAU_ADMIN.value} & ctx.roles or ctx.department == department_id:
            return
        raise Forbidden(
            "catalog.not_provider",
            "只有资源提供部门和大数据局可查看装载记录",
            "only the provider department and the bureau see loads",
        )

    def loads(
        self, ctx: Context, ref: str, *, limit: int = 50, offset: int = 0
    ) -> list[LoadReport]:
        """Return a resource's loads, newest first."""
        resource = self._catalog.find(ctx, ref)
        self._visible(ctx, resource.department_id)
        return self._store.of_resource(resource.id, limit=min(limit, MAX_PAGE), offset=offset)

    def get(self, ctx: Context, ref: str, load_id: str) -> LoadReport:
        """Return one load of a resource."""
        resource = self._catalog.find(ctx, ref)
        self._visible(ctx, resource.department_id)
        found = self._store.get(load_id)
        if found is None or found.resource_id != resource.id:
            raise NotFound("catalog.no_load", f"装载记录 {load_id} 不存在", f"no load {load_id!r}")
        return found

    def quarantined(
        self, ctx: Context, ref: str, load_id: str, *, limit: int = 100, offset: int = 0
    ) -> tuple[LoadReport, list[Quarantined]]:
        """Return a load's quarantined rows (the provider department only: raw data)."""
        report = self.get(ctx, ref, load_id)
        ensure(ctx, Permission.CATALOG_LOAD)
        if "system" not in ctx.roles and ctx.department != report.department_id:
            raise Forbidden(
                "catalog.not_provider",
                "只有资源提供部门可查看隔离数据",
                "only the provider department sees quarantined rows",
            )
        rows = self._store.quarantined(load_id, limit=min(limit, MAX_PAGE), offset=offset)
        return report, rows
