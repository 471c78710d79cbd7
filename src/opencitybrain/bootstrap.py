"""One place wires everything: settings → adapters → services → API.

Tests wire the same way with their own settings (a temp data dir, a manual clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, time

import sqlalchemy as sa
from fastapi import FastAPI

from opencitybrain.accounts.service import AccountService
from opencitybrain.accounts.store import SqlAccountStore
from opencitybrain.accounts.tokens import TokenSigner
from opencitybrain.adapters.buses import make_bus
from opencitybrain.adapters.duckdb_rows import DuckRows
from opencitybrain.adapters.migrate import upgrade
from opencitybrain.adapters.mqtt_notify import AiomqttSender
from opencitybrain.adapters.sql import make_engine, redact
from opencitybrain.api.app import create_app
from opencitybrain.api.system import HealthChecks
from opencitybrain.apikit.services import ServiceRegistry
from opencitybrain.apps.plugin import App, AppHost, load_apps
from opencitybrain.blocks.api import router as blocks_router
from opencitybrain.bootstrap_blocks import build_blocks
from opencitybrain.catalog.api import router as catalog_router
from opencitybrain.catalog.api_loads import router as catalog_loads_router
from opencitybrain.catalog.ckan_api import router as ckan_router
from opencitybrain.catalog.load_store import SqlLoadStore
from opencitybrain.catalog.loading import Connectors, LoadService
from opencitybrain.catalog.rows import ResourceRows
from opencitybrain.catalog.service import CatalogService
from opencitybrain.catalog.store import SqlCatalogStore
from opencitybrain.citypack.api import router as city_router
from opencitybrain.citypack.loader import load_pack
from opencitybrain.citypack.model import CityPack
from opencitybrain.citypack.service import CityService
from opencitybrain.context.contexts_service import load_stored_contexts
from opencitybrain.context.jsonld import ContextResolver
from opencitybrain.context.notifier import Notifier
from opencitybrain.context.routes import ROUTERS as CONTEXT_ROUTERS
from opencitybrain.context.service import ContextBroker
from opencitybrain.context.store import SqlEntityStore
from opencitybrain.context.subscription_store import SqlSubscriptionStore, SubscriptionStore
from opencitybrain.context.temporal import retention_task
from opencitybrain.context.trailing_slash import NgsiTrailingSlash
from opencitybrain.context.validation import EntityValidator
from opencitybrain.kernel.bus import Bus
from opencitybrain.kernel.clock import CHINA_TZ, Clock, RealClock, SimulatedClock
from opencitybrain.kernel.ids import new_secret
from opencitybrain.kernel.settings import Settings
from opencitybrain.operations.api import router as operations_router
from opencitybrain.operations.attachments import AttachmentDesk
from opencitybrain.operations.bus_intake import BusIntake
from opencitybrain.operations.class_store import SqlClassStore
from opencitybrain.operations.directory import GridWorkers, workers_from_accounts
from opencitybrain.operations.file_store import LocalFileStore
from opencitybrain.operations.locate import CaseLocator, CountyCaseLocator, RegionCaseLocator
from opencitybrain.operations.open311_api import router as open311_router
from opencitybrain.operations.open311_service import Open311Desk
from opencitybrain.operations.open311_store import Open311Reads
from opencitybrain.operations.service import OperationsService
from opencitybrain.operations.store import SqlCaseStore
from opencitybrain.registry.api import router as registry_router
from opencitybrain.registry.grants import GrantGate
from opencitybrain.registry.resources import GoldenShelf
from opencitybrain.registry.service import RegistryService
from opencitybrain.registry.store import ParquetBuildFiles, SqlDecisionStore
from opencitybrain.sharing.masking import MaskPolicy
from opencitybrain.sharing.service import SharingService
from opencitybrain.sharing.store import SqlSharingStore
from opencitybrain.sharing.trail import AuditTrail
from opencitybrain.sharing.wiring import build_releases, build_sharing, sharing_routers
from opencitybrain.worktime import WorkCalendar

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]


def _no_progress(message: str, fraction: float) -> None:
    """Ignore progress."""


def platform_secret(settings: Settings) -> str:
    """Return the signing secret: from settings, else generated once into the data dir."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    path = settings.data_dir / "secret.key"
    if path.is_file():
        return path.read_text().strip()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    secret = new_secret(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secret)
    return secret


def make_clock(settings: Settings, now: datetime) -> Clock:
    """Return the clock the settings ask for (a simulated one starts at 07:30 today by default)."""
    if settings.clock == "real":
        return RealClock()
    start = settings.sim_start or datetime.combine(
        now.astimezone(CHINA_TZ).date(), time(7, 30), tzinfo=CHINA_TZ
    )
    return SimulatedClock(start, settings.sim_speed)


def open_accounts(
    settings: Settings, clock: Clock | None = None
) -> tuple[sa.Engine, AccountService]:
    """Open the database (migrated to head) and the account service, nothing else.

    Sign-in tokens and API keys expire in real time, whatever speed the city clock runs
    at: a ×60 demo must not log its operators out every minute. Tests pass a manual clock.
    """
    clock = clock or RealClock()
    engine = make_engine(settings.sql_url)
    upgrade(engine)
    signer = TokenSigner(platform_secret(settings), settings.token_ttl_seconds)
    return engine, AccountService(SqlAccountStore(engine), clock, signer)


@dataclass
class Platform:
    """Everything wired: the adapters, the services and the loaded city."""

    settings: Settings
    clock: Clock
    engine: sa.Engine
    bus: Bus
    pack: CityPack
    accounts: AccountService
    city: CityService
    broker: ContextBroker
    services: ServiceRegistry = field(default_factory=ServiceRegistry)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)
    # Scenario plug-ins (entry points ``opencitybrain.apps``) and what they are handed.
    apps: list[App] = field(default_factory=list)
    host: AppHost | None = None
    # A serving process exempts its start-up heap from garbage collection once the index
    # is warm (see _warm_then_freeze); tests build many platforms in one process and
    # leave it off, or each would keep the last one's cycles.
    freeze_heap: bool = False

    def app(self, *, serve_cockpit: bool = True) -> FastAPI:
        """Build the HTTP app on this platform; its lifespan runs the background work."""
        app = create_app(
            self.services,
            routers=[*CONTEXT_ROUTERS, city_router, catalog_router, ckan_router, operations_router]
            + [open311_router]
            + sharing_routers()
            + [blocks_router, registry_router]
            + [catalog_loads_router]
            + [r for a in self.apps for r in a.routers()],
            cockpit_dir=self.settings.cockpit_dir,
            serve_cockpit=serve_cockpit,
            lifespan=self._lifespan,
        )
        app.add_middleware(NgsiTrailingSlash)  # the spec writes /entities/, /subscriptions/
        return app

    @asynccontextmanager
    async def _lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()

    async def start(self) -> None:
        """Start the background work in the running loop (the one serving the API).

        Nothing loop-bound starts in ``build_platform``: tests build the platform in one
        event loop and serve it from another (even from two at once); the work runs in the
        first serving loop, and again in a later one only after that loop has closed.
        """
        if self._loop is not None and not self._loop.is_closed():
            return
        self._loop = asyncio.get_running_loop()
        self.tasks.clear()  # tasks of a closed loop are gone with it
        await self.broker.stop()
        await self.broker.start()  # the index follows other workers' changes
        # The default tenant's entities load in the background: the first query or write
        # then finds them in memory instead of waiting for the load (5 s at 100k).
        warm: Awaitable[object] = asyncio.to_thread(self.broker.index.warm, "")
        if self.freeze_heap:
            warm = _warm_then_freeze(warm)
        self.tasks.append(asyncio.create_task(_quietly(warm), name="context-index-warm"))
        await self.services.get(Notifier).start(self.bus)
        self.tasks.append(
            retention_task(self.broker.store, self.clock, self.settings.context_history_days)
        )
        operations = self.services.get(OperationsService)
        self.tasks.append(asyncio.create_task(operations.run_timers(), name="operations-timers"))
        sharing = self.services.get(SharingService)
        self.tasks.append(asyncio.create_task(sharing.run_timers(), name="sharing-timers"))
        await self.services.get(BusIntake).stop()
        await self.services.get(BusIntake).start(self.bus)  # apps' case requests
        await _share_registries(self.services.get(RegistryService), self.tasks)
        if self.host is not None:
            for plugin in self.apps:
                await plugin.start(self.host)

    async def stop(self) -> None:
        """Stop the background work (only from the loop it runs in)."""
        if self._loop is not asyncio.get_running_loop():
            return
        self._loop = None
        for plugin in reversed(self.apps):
            await plugin.stop()
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks.clear()
        await self.services.get(Notifier).stop()
        await self.services.get(BusIntake).stop()
        await self.broker.stop()

    async def close(self) -> None:
        """Stop background work and the bus, and release the database."""
        await self.stop()
        self.broker.close()
        await self.bus.close()
        self.engine.dispose()


async def build_platform(
    settings: Settings, *, clock: Clock | None = None, progress: Progress | None = None
) -> Platform:
    """Wire the platform from settings; ``progress`` hears each step (message, 0–1)."""
    step = progress or _no_progress
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    clock = clock or make_clock(settings, RealClock().now())
    step("数据库迁移 / migrating the database", 0.05)
    log.info("database %s", redact(settings.sql_url))
    engine, accounts = open_accounts(settings)
    step("连接消息总线 / connecting the event bus", 0.15)
    bus = await make_bus(settings.bus_url)

    def pack_progress(message: str, fraction: float) -> None:
        step(message, 0.2 + 0.75 * fraction)

    pack = load_pack(
        settings.city_pack, cache_dir=settings.data_dir / "cache", progress=pack_progress
    )
    city = CityService(pack)
    broker = ContextBroker(SqlEntityStore(engine), ContextResolver(), clock, bus)
    load_stored_contexts(broker.store, broker.resolver)  # user @contexts survive restarts
    if settings.context_validate_types:  # Smart Data Models schema checks, per type
        broker.validator = EntityValidator(broker.resolver, settings.context_validate_types)
    subscriptions = SqlSubscriptionStore(engine)
    notifier = Notifier(broker, subscriptions, mqtt=AiomqttSender())  # mqtt:// endpoints
    catalog = CatalogService(SqlCatalogStore(engine), accounts, clock, bus)
    health = HealthChecks()
    health.add("database", lambda: _db_ok(engine))
    health.add("bus", bus.healthy)
    platform = Platform(settings, clock, engine, bus, pack, accounts, city, broker)
    for service in (accounts, city, broker, health, notifier):
        platform.services.add(service)
    platform.services.add(subscriptions, SubscriptionStore)
    platform.services.add(clock, Clock)
    platform.services.add(bus, Bus)
    platform.services.add(catalog)
    # Rows behind resources: DuckDB for loads, Parquet snapshots for reads (catalog.md).
    rows = DuckRows(settings.data_dir / "analytics")
    platform.services.add(rows, ResourceRows)
    platform.services.add(settings, Settings)  # sharing's wiring reads [sharing.masking] from it
    build_sharing(platform.services, engine, clock, bus, platform_secret(settings))
    build_releases(platform.services, engine, settings.data_dir / "releases")
    connectors = Connectors(settings.data_dir / "connectors", settings.sql_url)
    loader = LoadService(catalog, rows, SqlLoadStore(engine), clock, bus, connectors)
    platform.services.add(loader)
    platform.services.add(build_blocks(platform.services, city, accounts))
    registry_files = ParquetBuildFiles(settings.data_dir / "registry")
    # Golden records are the bureau's resources; lookups go through grants and the audit.
    shelf = GoldenShelf(catalog, rows, rows, settings.data_dir / "registry",
                        city_code=pack.manifest.city_code)  # fmt: skip
    gate = GrantGate(shelf, SqlSharingStore(engine), platform.services.get(AuditTrail), clock)
    platform.services.add(
        RegistryService(registry_files, SqlDecisionStore(engine), clock, bus,
                        clearance=gate, secret=platform_secret(settings), read_log=gate,
                        shelf=shelf, policy=platform.services.get(MaskPolicy))
    )  # fmt: skip
    operations = build_operations(engine, city, clock, bus, accounts)
    platform.services.add(operations)
    platform.services.add(BusIntake(operations))
    platform.services.add(Open311Desk(operations, Open311Reads(engine), _agencies(accounts)))
    platform.services.add(AttachmentDesk(LocalFileStore(settings.data_dir / "attachments"), clock))
    platform.host = AppHost(settings, clock, bus, broker, city, platform.services)
    platform.apps = load_apps()
    step("就绪 / ready", 1.0)
    return platform


def build_operations(
    engine: sa.Engine, city: CityService, clock: Clock, bus: Bus, accounts: AccountService
) -> OperationsService:
    """Wire unified operations: stores, the working-time calendar, the city's regions."""
    # Next year's holidays are published late in the year; until then it counts weekends
    # only (logged), so a 15-working-day limit set in December still has a deadline.
    calendar = WorkCalendar.china(provisional_through=clock.now().year + 1)
    if calendar.provisional_years:
        log.warning(
            "working-time calendar: weekends only for %s", sorted(calendar.provisional_years)
        )
    locator: CaseLocator = (
        RegionCaseLocator(city.locator) if city.locator else CountyCaseLocator(city.pack.counties)
    )
    operations = OperationsService(
        SqlCaseStore(engine), SqlClassStore(engine), calendar, locator, clock, bus,
        workers=GridWorkers(loader=workers_from_accounts(accounts)),
        departments=lambda: {d.id for d in accounts.departments()},
    )  # fmt: skip
    operations.seed_classes()  # the demo city's table, where rows are missing
    return operations


def _agencies(accounts: AccountService) -> Callable[[], dict[str, str]]:
    """Return a lookup of department names for Open311's agency_responsible."""
    return lambda: {d.id: f"{d.name_zh} / {d.name_en}" for d in accounts.departments()}


async def _share_registries(registry: RegistryService, tasks: list[asyncio.Task[None]]) -> None:
    """Publish the registries' resources if missing; write builds they lack in the background."""
    shelf = registry.shelf
    if shelf is None:
        return
    try:
        await shelf.ensure()
    except Exception:
        log.exception("registry: publishing the golden record resources failed")
        return
    catch_up = asyncio.to_thread(shelf.catch_up, registry.files)
    tasks.append(asyncio.create_task(_quietly(catch_up), name="registry-rows"))


async def _warm_then_freeze(warm: Awaitable[object]) -> None:
    """Await the start-up loads, then exempt what they built from garbage collection.

    The city (road graph, regions) and the entity index are hundreds of thousands of
    long-lived objects; each full collection walked them all, and took a fifth of the
    CPU of a stream of updates (measured: 0.44 s of 2.4 s for 3,000 PATCHes). Frozen
    objects are still freed by reference counting; only cycles among them are kept.
    """
    await warm
    gc.collect()
    gc.freeze()


async def _quietly(work: Awaitable[object]) -> None:
    """Await background work, logging (not raising) its failure."""
    try:
        await work
    except Exception:
        log.exception("background work failed")


def _db_ok(engine: sa.Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT 1")).scalar() == 1
