"""``citybrain registry …``: load the departments' tables through the catalogue, build.

``load`` publishes each department table of a population folder (``citybrain sim
population``) as that department's catalogue resource, if it is not there yet, and loads
its rows through the catalogue's load path (``registry.intake.RegistryIntake``: checks,
quarantine, upsert by key, snapshot; streamed in chunks, so a million-person city loads in
bounded memory). ``build`` resolves people, companies and vehicles from those resources'
current rows (or, with ``--files``, straight from the folder), stores the builds (only
what changed since the last build is stamped as changed) and writes the golden records
as the rows of the bureau's registry resources (``GoldenShelf``). Both show progress.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from opencitybrain.adapters.duckdb_rows import DuckRows
from opencitybrain.cli_session import catalog_session
from opencitybrain.kernel.errors import CityBrainError
from opencitybrain.kernel.events import Context
from opencitybrain.kernel.settings import Settings
from opencitybrain.registry.intake import (
    Inputs,
    Loaded,
    RegistryIntake,
    build_all,
    inputs_from_catalog,
    inputs_from_files,
)
from opencitybrain.registry.resources import GoldenShelf
from opencitybrain.registry.service import RegistryService
from opencitybrain.registry.store import ParquetBuildFiles, SqlDecisionStore
from opencitybrain.sim.demo_registry import demo_provider

registry_app = typer.Typer(
    help="基础库 / base registries (一人一档 · 一企一档 · 一车一档)", no_args_is_help=True
)
console = Console()
CTX = Context.system("cli-registry")


def _bar() -> Progress:
    return Progress(
        TextColumn("[bold blue]{task.description}"), BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(), console=console,
    )  # fmt: skip


def _fail(exc: CityBrainError) -> typer.Exit:
    console.print(f"[red]{exc.message}[/red] ({exc.code})")
    return typer.Exit(2 if exc.code in ("registry.no_manifest", "registry.not_loaded") else 1)


async def _load_all(settings: Settings, folder: Path, city_code: str) -> list[Loaded]:
    async with catalog_session(settings) as s:
        intake = RegistryIntake(s.catalog, s.loader, s.rows, settings.data_dir / "registry",
                                city_code, demo_provider(city_code), CTX)  # fmt: skip
        with _bar() as bar:
            task = bar.add_task("装载 / loading", total=None)
            rows_task = bar.add_task("", total=1.0)

            def started(source: str, index: int, total: int) -> None:
                bar.update(task, description=f"装载 / loading {source}", completed=index,
                           total=total)  # fmt: skip
                bar.reset(rows_task, total=1.0, description="  写入临时 CSV / writing CSV")

            def progress(message: str, fraction: float) -> None:
                bar.update(rows_task, description=f"  {message}", completed=fraction)

            loaded = await intake.load(folder, started, progress)
            bar.update(task, completed=len(loaded), total=len(loaded))
    return loaded


@registry_app.command("load")
def load(
    population: Annotated[Path, typer.Argument(help="citybrain sim population 的输出目录")],
) -> None:
    """Publish each department table as its department's resource and load its rows."""
    from opencitybrain.citypack.loader import load_pack

    settings = Settings()
    pack = load_pack(settings.city_pack, cache_dir=settings.data_dir / "cache")
    try:
        loaded = asyncio.run(_load_all(settings, population, pack.manifest.city_code))
    except CityBrainError as exc:
        raise _fail(exc) from exc
    out = Table("来源 / source", "行 / rows in", "新增", "更新", "未变", "隔离 / quarantined")
    for done in loaded:
        r = done.report
        out.add_row(done.source, f"{r.rows_in:,}", f"{r.inserted:,}", f"{r.updated:,}",
                    f"{r.unchanged:,}", f"{r.quarantined:,}")  # fmt: skip
    console.print(out)
    console.print(f"[green]{len(loaded)} 张部门表已装载 / department tables loaded[/green]")


async def _build(settings: Settings, inputs: Inputs, city_code: str) -> Table:
    async with catalog_session(settings) as s:
        registry_dir = settings.data_dir / "registry"
        # The golden records become the bureau's resources' rows right after each build.
        shelf = GoldenShelf(s.catalog, s.rows, s.rows, registry_dir, city_code=city_code)
        await shelf.ensure()  # publishes what is missing (needs the bureau department)
        service = RegistryService(ParquetBuildFiles(registry_dir), SqlDecisionStore(s.engine),
                                  s.clock, s.bus, shelf=shelf)  # fmt: skip
        with _bar() as bar:
            task = bar.add_task("基础库 / registry", total=1.0)

            def step(message: str, fraction: float) -> None:
                bar.update(task, description=message, completed=fraction)

            reports = await asyncio.to_thread(build_all, service, inputs, step)
        for report in reports:
            await service.announce(report, CTX)
    out = Table("主档 / kind", "行 / rows in", "归集 / linked", "隔离", "未匹配", "主档数", "新增",
                "变更", "删除", "对账 / reconciles", "共享资源 / resource rows")  # fmt: skip
    for report in reports:
        c, ch = report.counts, report.changes.counts()
        shared = "✓" if shelf.shared_build(report.kind) == report.number else "待发布 / later"
        out.add_row(report.kind, f"{c['rows_in']:,}", f"{c['linked']:,}", f"{c['quarantined']:,}",
                    f"{c['unmatched']:,}", f"{c['golden']:,}", f"{ch['added']:,}",
                    f"{ch['changed']:,}", f"{ch['removed']:,}",
                    "✓" if report.reconciles else "✗", shared)  # fmt: skip
    return out


@registry_app.command("build")
def build(
    files: Annotated[
        Path | None, typer.Option(help="直接读取该目录的部门表 / read this folder")
    ] = None,
) -> None:
    """Resolve people, companies and vehicles into golden records; report what changed.

    The golden records are written at once as the rows of the bureau's registry
    resources (published if missing), readable under a grant on the sharing routes.
    """
    from opencitybrain.citypack.loader import load_pack

    settings = Settings()
    pack = load_pack(settings.city_pack, cache_dir=settings.data_dir / "cache")
    try:
        if files:
            inputs = inputs_from_files(files)
        else:
            inputs = inputs_from_catalog(
                DuckRows(settings.data_dir / "analytics"), settings.data_dir / "registry"
            )
        out = asyncio.run(_build(settings, inputs, pack.manifest.city_code))
    except CityBrainError as exc:
        raise _fail(exc) from exc
    console.print(out)
