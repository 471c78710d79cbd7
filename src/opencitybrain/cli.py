"""The ``citybrain`` command: run the demo city or a real one, and administer it."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
import uvicorn
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from opencitybrain import __version__
from opencitybrain.adapters.migrate import current_revision, head_revision, upgrade
from opencitybrain.adapters.sql import make_engine, redact
from opencitybrain.apps.fleet.cli import fleet_app
from opencitybrain.blocks.service import BlockService
from opencitybrain.bootstrap import Platform, build_platform
from opencitybrain.catalog.loading import LoadService
from opencitybrain.catalog.rows import ResourceRows
from opencitybrain.catalog.service import CatalogService
from opencitybrain.citypack.loader import available_packs, load_pack
from opencitybrain.citypack.service import CityService
from opencitybrain.cli_catalog import catalog_app, seed_rows_later
from opencitybrain.cli_open import open_app
from opencitybrain.cli_registry import registry_app
from opencitybrain.cli_sharing import audit_app
from opencitybrain.cli_support import console
from opencitybrain.cli_support import settings_or_exit as _settings
from opencitybrain.cli_users import users_app
from opencitybrain.kernel.clock import RealClock
from opencitybrain.kernel.errors import CityBrainError
from opencitybrain.kernel.settings import Settings
from opencitybrain.operations.service import OperationsService
from opencitybrain.registry.service import RegistryService
from opencitybrain.sharing.service import SharingService
from opencitybrain.sim.demo_catalog import seed_demo_catalog
from opencitybrain.sim.demo_org import Credential, DemoCounty, seed_demo_org
from opencitybrain.sim.demo_registry import DemoRegistry, seed_demo_registry
from opencitybrain.sim.demo_reports import run_demo_reports
from opencitybrain.sim.demo_sharing import seed_demo_sharing
from opencitybrain.sim.demo_signals import seed_signals
from opencitybrain.workers import GRACEFUL_SHUTDOWN_S, WORKER_HEALTHCHECK_S, prepare_workers

app = typer.Typer(help="OpenCityBrain 城市大脑 — command line", no_args_is_help=True)
db_app = typer.Typer(help="数据库 / database", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
pack_app = typer.Typer(help="城市包 / city packs", no_args_is_help=True)
app.add_typer(pack_app, name="pack")
app.add_typer(fleet_app, name="fleet")
app.add_typer(catalog_app, name="catalog")
app.add_typer(audit_app, name="audit")
app.add_typer(registry_app, name="registry")
app.add_typer(open_app, name="open")


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="详细日志 / verbose")] = False,
) -> None:
    """OpenCityBrain 城市大脑."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


Port = Annotated[int, typer.Option(help="端口 / port", min=1, max=65535)]
Host = Annotated[str, typer.Option(help="监听地址 / address to listen on")]
DataDir = Annotated[Path | None, typer.Option(help="数据目录 / data folder")]
Workers = Annotated[
    int, typer.Option(help="工作进程数（多于 1 个需 NATS 总线）/ worker processes", min=1)
]


async def _start(settings: Settings) -> Platform:
    with Progress(
        TextColumn("[bold blue]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("启动 / starting", total=1.0)

        def progress(message: str, fraction: float) -> None:
            bar.update(task, description=message, completed=fraction)

        return await build_platform(settings, progress=progress)


def _print_credentials(created: list[Credential], url: str) -> None:
    if not created:
        console.print(
            "演示账户已存在；忘记密码可运行 `citybrain users set-password <用户名>`。\n"
            "Demo accounts exist already; reset one with `citybrain users set-password <name>`."
        )
        return
    table = Table(title="演示账户（仅显示一次）/ demo accounts (shown once)")
    for col in ("用户名 username", "角色 role", "部门 department", "密码或密钥 password / key"):
        table.add_column(col)
    for c in created:
        table.add_row(c.username, c.role.value, c.department_id, c.secret)
    console.print(table)
    console.print(f"驾驶舱 / cockpit: [bold]{url}[/bold]")
    console.print("请用 operator 登录 / sign in as operator")


async def _serve(platform: Platform, host: str, port: int) -> None:
    platform.freeze_heap = True  # a serving process: see Platform.freeze_heap
    config = uvicorn.Config(
        platform.app(), host=host, port=port, log_level="warning", lifespan="on",
        access_log=False, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )  # fmt: skip
    server = uvicorn.Server(config)
    try:
        await server.serve()
    finally:
        await platform.close()


@app.command()
def demo(
    port: Port = 8000,
    host: Host = "127.0.0.1",
    speed: Annotated[float, typer.Option(help="模拟时钟倍速 / clock speed", min=0.1)] = 60,
    data_dir: DataDir = None,
) -> None:
    """Run the demo city (Nanchang) on embedded defaults; cockpit at http://HOST:PORT."""
    # The fleet app streams its simulated key vehicles and the Wuxi taxi replay.
    os.environ.setdefault("CITYBRAIN_FLEET_LIVE_FEED", "true")
    settings = _settings(
        host=host,
        port=port,
        clock="simulated",
        sim_speed=speed,
        data_dir=data_dir,
        city_pack="nanchang",
    )

    async def main() -> None:
        platform = await _start(settings)
        created = seed_demo_org(
            platform.accounts,
            platform.pack.manifest.city_code,
            platform.pack.manifest.name_zh,
            platform.pack.manifest.name_en,
            [DemoCounty(c.code, c.name_zh, c.name_en) for c in platform.city.counties()],
        )
        signals = seed_signals(platform.broker, platform.pack)
        if signals:
            console.print(
                f"已写入 {signals} 个信号灯路口实体 / wrote {signals} TrafficSignal entities"
            )
        catalogued = await seed_demo_catalog(
            platform.services.get(CatalogService), platform.pack.manifest.city_code
        )
        if catalogued:
            console.print(f"已发布 {catalogued} 项目录资源 / published {catalogued} resources")
        seed_rows_later(platform)  # loads run while the server starts
        shared = await seed_demo_sharing(
            platform.services.get(SharingService), platform.services.get(CatalogService)
        )
        if shared:
            console.print(f"已提交 {shared} 项共享申请 / filed {shared} sharing requests")
        _print_credentials(created, f"http://{host}:{port}")
        # 12345 calls and inspectors' reports, and the city working them, keep the cockpit alive.
        stream = asyncio.create_task(
            run_demo_reports(platform.services.get(OperationsService), platform.pack),
            name="demo-reports",
        )
        # The departments' data (people, companies, vehicles) is generated, loaded, resolved
        # and aggregated once the server is up; progress: GET /api/v1/registry/intake.
        services = platform.services
        intake = DemoRegistry(
            services.get(CatalogService), services.get(LoadService),
            services.get(ResourceRows), services.get(RegistryService),  # type: ignore[type-abstract]
            services.get(BlockService), settings.data_dir, settings.city_pack,
            platform.pack.manifest.city_code, settings.demo, RealClock(), console.print,
        )  # fmt: skip
        platform.freeze_heap = True  # a serving process: see Platform.freeze_heap
        server = uvicorn.Server(
            uvicorn.Config(platform.app(), host=host, port=port, log_level="warning",
                           lifespan="on", access_log=False,
                           timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
        )  # fmt: skip

        async def seed_when_up() -> None:
            # uvicorn has no event for "started": poll its flag.
            while not server.started and not server.should_exit:  # noqa: ASYNC110
                await asyncio.sleep(0.2)
            if server.started:
                await seed_demo_registry(intake)

        seeding = asyncio.create_task(seed_when_up(), name="demo-registry")
        try:
            await server.serve()
        finally:
            seeding.cancel()
            stream.cancel()
            await platform.close()

    _run(main())


@app.command()
def serve(
    port: Port | None = None,
    host: Host | None = None,
    workers: Workers = 1,
) -> None:
    """Run the platform with settings from CITYBRAIN_* variables and citybrain.toml."""
    settings = _settings(port=port, host=host)
    if workers > 1:
        try:
            prepare_workers(settings, workers)
        except CityBrainError as exc:
            console.print(f"[red]{exc.message}[/red] ({exc.code})")
            raise typer.Exit(2) from exc
        console.print(
            f"OpenCityBrain {__version__} on http://{settings.host}:{settings.port}, "
            f"{workers} workers"
        )
        uvicorn.run(
            "opencitybrain.workers:worker_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            lifespan="on",
            log_level="warning",
            access_log=False,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        )
        return

    async def main() -> None:
        platform = await _start(settings)
        console.print(f"OpenCityBrain {__version__} on http://{settings.host}:{settings.port}")
        await _serve(platform, settings.host, settings.port)

    _run(main())


def _run(coro: object) -> None:
    try:
        asyncio.run(coro)  # type: ignore[arg-type]
    except CityBrainError as exc:
        console.print(f"[red]{exc.message}[/red] ({exc.code})")
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        console.print("已停止 / stopped")


def _print_revision(url: str, engine: sa.Engine) -> None:
    console.print(f"{redact(url)}: {current_revision(engine)} (head {head_revision()})")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations up to the newest."""
    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.sql_url)
    upgrade(engine)
    _print_revision(settings.sql_url, engine)


@db_app.command("current")
def db_current() -> None:
    """Show the database's migration revision."""
    settings = _settings()
    engine = make_engine(settings.sql_url)
    _print_revision(settings.sql_url, engine)


@pack_app.command("list")
def pack_list() -> None:
    """List the built-in city packs."""
    for name in available_packs():
        console.print(name)


@pack_app.command("info")
def pack_info(
    name_or_path: Annotated[str, typer.Argument(help="内置名称或目录 / built-in name or folder")],
) -> None:
    """Load a city pack and print what is in it, with a boundary-alignment check."""
    settings = _settings()
    try:
        pack = load_pack(name_or_path, cache_dir=settings.data_dir / "cache")
    except CityBrainError as exc:
        console.print(f"[red]{exc.message}[/red] ({exc.code})")
        raise typer.Exit(1) from exc
    summary = CityService(pack).summary
    table = Table(
        f"{pack.manifest.name_zh} {pack.manifest.name_en} ({pack.manifest.city_code})", ""
    )
    for key, value in summary["stats"].items():
        table.add_row(key, f"{value:,}")
    console.print(table)
    inside = sum(c["intersections"] for c in summary["counties"])
    share = inside / max(1, summary["stats"]["intersections"])
    colour = "green" if share > 0.95 or not pack.counties else "yellow"
    console.print(
        f"[{colour}]路口落在区县边界内的比例 / intersections inside the county boundaries: "
        f"{share:.1%}[/{colour}]"
    )
    if pack.counties and share <= 0.95:
        console.print(
            "边界与路网可能错位：见 docs/citypack.md 的 shift 设置 / boundaries and roads may be "
            "misaligned: see `shift` in docs/citypack.md"
        )


sim_app = typer.Typer(help="模拟数据 / synthetic data", no_args_is_help=True)
app.add_typer(sim_app, name="sim")


@sim_app.command("population")
def sim_population(
    out: Annotated[Path, typer.Option(help="输出目录 / output folder")],
    people: Annotated[int, typer.Option(help="人口数 / people", min=1)] = 1_000_000,
    companies: Annotated[int | None, typer.Option(help="企业数（默认人口的 1/10）")] = None,
    vehicles: Annotated[int | None, typer.Option(help="车辆数（默认人口的 1/2）")] = None,
    seed: Annotated[int, typer.Option(help="随机种子 / seed")] = 2026,
    pack: Annotated[str, typer.Option(help="城市包 / city pack")] = "nanchang",
) -> None:
    """Generate the departments' data (people, companies, vehicles) as Parquet, with truth."""
    from opencitybrain.sim.population import CityGeography, PopulationSpec, generate, write

    settings = _settings()
    spec = PopulationSpec(
        people=people,
        companies=people // 10 if companies is None else companies,
        vehicles=people // 2 if vehicles is None else vehicles,
        seed=seed,
    )
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console
    ) as bar:
        task = bar.add_task("城市包 / city pack", total=1.0)

        def step(message: str, fraction: float) -> None:
            bar.update(task, description=message, completed=fraction)

        try:
            city = load_pack(pack, cache_dir=settings.data_dir / "cache")
        except CityBrainError as exc:
            console.print(f"[red]{exc.message}[/red] ({exc.code})")
            raise typer.Exit(1) from exc
        population = generate(CityGeography.from_pack(city), spec, progress=step)
        bar.update(task, description="写入 / writing", completed=0.0)
        write(population, out, progress=step)
    console.print(f"[green]{population.rows():,} 条部门记录 / department records → {out}[/green]")


@app.command()
def version() -> None:
    """Print the version."""
    console.print(__version__)


if __name__ == "__main__":
    app()
