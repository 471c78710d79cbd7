"""``citybrain catalog …``: load rows into a resource from the command line.

The command runs on the server with the platform's settings (database, data folder) and
acts as the platform (the ``system`` role), so an administrator can load a department's
file for it; the report records the actor as ``cli:<login>``.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from opencitybrain.bootstrap import Platform, open_accounts
from opencitybrain.catalog.load_model import (
    FileSource,
    LoadFormat,
    LoadOptions,
    LoadReport,
)
from opencitybrain.catalog.load_store import SqlLoadStore
from opencitybrain.catalog.loading import LoadService
from opencitybrain.catalog.rows import ResourceRows
from opencitybrain.catalog.service import CatalogService
from opencitybrain.cli_session import catalog_session
from opencitybrain.kernel.errors import CityBrainError
from opencitybrain.kernel.events import Context
from opencitybrain.kernel.settings import Settings
from opencitybrain.sim.demo_catalog_rows import seed_demo_rows

catalog_app = typer.Typer(help="资源目录 / resource catalogue", no_args_is_help=True)
console = Console()
log = logging.getLogger(__name__)
_BACKGROUND: set[asyncio.Task[None]] = set()


def seed_rows_later(platform: Platform) -> None:
    """Load the demo rows in the background (the demo serves meanwhile); print each report."""

    async def seed() -> None:
        services = platform.services
        try:
            done = await seed_demo_rows(
                services.get(LoadService),
                services.get(ResourceRows),  # type: ignore[type-abstract]
                services.get(CatalogService),
            )
        except Exception:
            log.exception("demo rows were not loaded")
            return
        for name, report in done:
            console.print(f"{name}：{report.summary()}")

    task = asyncio.get_running_loop().create_task(seed(), name="demo-rows")
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)


def _actor() -> Context:
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "unknown"
    return Context(actor=f"cli:{login}"[:64], roles=frozenset({"system"}), purpose="cli-load")


async def _load(
    settings: Settings, ref: str, source: FileSource, options: LoadOptions
) -> LoadReport:
    async with catalog_session(settings) as session:
        with Progress(
            TextColumn("[bold blue]{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("装载 / loading", total=1.0)

            def progress(message: str, fraction: float) -> None:
                bar.update(task, description=message, completed=fraction)

            return await session.loader.load(_actor(), ref, source, options, progress)


def print_report(report: LoadReport, quarantined_sample: list[tuple[int, str, str]]) -> None:
    """Print a load's report, Chinese first, and a sample of its quarantined rows."""
    console.print(f"[green]{report.summary()}[/green]")
    console.print(f"装载标识 / load id: {report.id}  键 / key: {', '.join(report.key)}")
    if report.encoding:
        console.print(f"编码 / encoding: {report.encoding}")
    if report.missing_fields:
        console.print(f"无对应列的字段 / fields with no column: {', '.join(report.missing_fields)}")
    if report.ignored_columns:
        console.print(f"忽略的列 / ignored columns: {', '.join(report.ignored_columns)}")
    if quarantined_sample:
        table = Table("行 / row", "字段 / field", "原因 / reason")
        for row, field, reason in quarantined_sample:
            table.add_row(str(row), field, reason)
        console.print(table)


@catalog_app.command("load")
def catalog_load(
    resource: Annotated[
        str, typer.Argument(help="资源代码、别名或标识 / resource code, slug or id")
    ],
    file: Annotated[
        Path, typer.Argument(help="CSV、XLSX 或 JSON lines 文件", exists=True, dir_okay=False)
    ],
    key: Annotated[
        list[str] | None, typer.Option("--key", help="键字段（可多次）/ key field")
    ] = None,
    sheet: Annotated[str | None, typer.Option(help="XLSX 工作表 / sheet")] = None,
    mapping: Annotated[str | None, typer.Option(help='列映射 JSON {"源列": "字段"}')] = None,
    data_dir: Annotated[Path | None, typer.Option(help="数据目录 / data folder")] = None,
) -> None:
    """Load a file's rows into a resource and print the report (中文 / English)."""
    given = {"data_dir": data_dir} if data_dir is not None else {}
    settings = Settings(**given)  # type: ignore[arg-type]
    try:
        fmt = LoadFormat.of_filename(file.name)
        columns = json.loads(mapping) if mapping else {}
        if not isinstance(columns, dict):
            raise ValueError("mapping")
        options = LoadOptions(tuple(key or ()), {str(k): str(v) for k, v in columns.items()})
        source = FileSource(file.name, file.resolve(), fmt, sheet)  # read in chunks
        report = asyncio.run(_load(settings, resource, source, options))
    except CityBrainError as exc:
        console.print(f"[red]{exc.message}[/red] ({exc.code})")
        for err in exc.errors[:20]:
            console.print(f"  {err.field}: {err.reason}")
        raise typer.Exit(1) from exc
    except ValueError as exc:
        console.print("[red]列映射须为 JSON 对象 / mapping must be a JSON object[/red]")
        raise typer.Exit(2) from exc
    sample = _sample(settings, report)
    print_report(report, sample)


def _sample(settings: Settings, report: LoadReport) -> list[tuple[int, str, str]]:
    if not report.quarantined:
        return []
    engine, _ = open_accounts(settings)
    try:
        rows = SqlLoadStore(engine).quarantined(report.id, limit=10, offset=0)
    finally:
        engine.dispose()
    return [(q.row, q.field, q.reason) for q in rows]
