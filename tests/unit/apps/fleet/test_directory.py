"""Vehicles know their owner from the registry's golden records; the roster gives the rest."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from opencitybrain.adapters.migrate import upgrade
from opencitybrain.adapters.sql import make_engine
from opencitybrain.apikit.services import ServiceRegistry
from opencitybrain.apps.fleet.app import FleetApp
from opencitybrain.apps.fleet.demo import demo_fleet
from opencitybrain.apps.fleet.directory import GoldenVehicles, VehicleDirectory, enrich
from opencitybrain.apps.fleet.model import VehicleClass
from opencitybrain.apps.fleet.settings import FleetSettings
from opencitybrain.apps.plugin import AppHost
from opencitybrain.citypack.loader import load_pack
from opencitybrain.citypack.service import CityService
from opencitybrain.context.jsonld import ContextResolver
from opencitybrain.context.service import ContextBroker
from opencitybrain.context.store import SqlEntityStore
from opencitybrain.kernel.bus import InProcessBus
from opencitybrain.kernel.clock import ManualClock
from opencitybrain.kernel.events import CloudEvent
from opencitybrain.kernel.settings import Settings
from opencitybrain.registry.service import RegistryService
from opencitybrain.registry.store import ParquetBuildFiles, SqlDecisionStore
from opencitybrain.sim.population.codes import ric_check_char, uscc_check_char
from tests.unit.apps.fleet.support import T0, VEHICLES

COMPANY = "91360100MA35" + "ABCDE"
COMPANY += uscc_check_char(COMPANY)
PERSON = "36010219900101123"
PERSON += ric_check_char(PERSON)


def golden() -> pa.Table:
    """Golden vehicle records as the registry resolves them: plate key, owner code."""
    return pa.table(
        {
            "golden_id": ["赣A12345", "赣AD12345", "赣AZ9999"],
            "owner_code": [COMPANY, PERSON, COMPANY],
        }
    )


def test_a_company_owner_becomes_the_vehicles_uscc_and_a_person_does_not() -> None:
    out = {v.device_id: v for v in enrich(list(VEHICLES), GoldenVehicles(golden()))}
    assert out["M1"].owner_uscc == COMPANY  # 赣A12345: a company's truck
    assert out["H1"].owner_uscc is None  # 赣AD12345: a person's
    assert out["T1"] == next(v for v in VEHICLES if v.device_id == "T1")  # not in registry
    assert out["M1"].vclass is VehicleClass.MUCK  # the roster's class stays


async def test_the_app_reads_the_directory_registered_on_the_host(tmp_path: Path) -> None:
    city = CityService(load_pack("nanchang"))
    roster, _ = demo_fleet(city, T0)  # the demo roster the app will supervise
    services = ServiceRegistry()
    table = pa.table({"golden_id": [roster[0].plate], "owner_code": [COMPANY]})
    services.add(GoldenVehicles(table), as_type=VehicleDirectory)
    clock = ManualClock(datetime.fromtimestamp(T0, UTC))
    db = make_engine(f"sqlite:///{tmp_path / 'ctx.db'}")
    upgrade(db)
    broker = ContextBroker(SqlEntityStore(db), ContextResolver(), clock)
    host = AppHost(Settings(data_dir=tmp_path), clock, InProcessBus(), broker, city, services)
    svc = FleetApp(FleetSettings(demo_fleet=True))._build(host)
    assert svc.engine.fleet.get(roster[0].device_id).owner_uscc == COMPANY
    assert svc.engine.fleet.get(roster[1].device_id).owner_uscc is None


async def test_with_the_live_feed_the_app_supervises_and_streams_the_replayed_taxis(
    tmp_path: Path,
) -> None:
    city = CityService(load_pack("nanchang"))
    clock = ManualClock(datetime.fromtimestamp(T0, UTC))
    db = make_engine(f"sqlite:///{tmp_path / 'ctx.db'}")
    upgrade(db)
    broker = ContextBroker(SqlEntityStore(db), ContextResolver(), clock)
    host = AppHost(
        Settings(data_dir=tmp_path), clock, InProcessBus(), broker, city, ServiceRegistry()
    )
    app = FleetApp(FleetSettings(demo_fleet=True, live_feed=True))
    svc = app._build(host)
    devices = [v.device_id for v in svc.engine.fleet.vehicles]
    assert sum(d.startswith("SIM") for d in devices) == 30
    assert sum(d.startswith("WX") for d in devices) == 434
    fed = {m["device_id"] for m in app._feed}
    assert fed <= set(devices)
    assert min(m["time"] for m in app._feed) >= T0 * 1000


async def test_without_a_directory_the_app_follows_the_registrys_vehicle_builds(
    tmp_path: Path,
) -> None:
    """Owners come from the registry's current build, and a new build updates them live."""
    city = CityService(load_pack("nanchang"))
    roster, _ = demo_fleet(city, T0)
    clock = ManualClock(datetime.fromtimestamp(T0, UTC))
    db = make_engine(f"sqlite:///{tmp_path / 'ctx.db'}")
    upgrade(db)
    files = ParquetBuildFiles(tmp_path / "registry")
    bus = InProcessBus()
    services = ServiceRegistry()
    services.add(RegistryService(files, SqlDecisionStore(db), clock, bus))
    empty = pa.table({"x": pa.array([], pa.string())})
    one = pa.table({"golden_id": [roster[0].plate], "owner_code": [COMPANY]})
    files.write("vehicles", one, empty, empty)
    broker = ContextBroker(SqlEntityStore(db), ContextResolver(), clock)
    host = AppHost(Settings(data_dir=tmp_path), clock, bus, broker, city, services)
    app = FleetApp(FleetSettings(demo_fleet=True))
    await app.start(host)
    try:
        assert app.service is not None
        fleet = app.service.engine.fleet
        assert fleet.get(roster[0].device_id).owner_uscc == COMPANY
        assert fleet.get(roster[1].device_id).owner_uscc is None
        # The next build gives the second vehicle to the company too; its event updates them.
        two = pa.table({"golden_id": [roster[0].plate, roster[1].plate],
                        "owner_code": [COMPANY, COMPANY]})  # fmt: skip
        number = files.write("vehicles", two, empty, empty)
        event = CloudEvent(type="city.registry.golden.changed", source="/registry",
                           time=clock.now(), subject="vehicles",
                           data={"kind": "vehicles", "build": number})  # fmt: skip
        await bus.publish(event)
        for _ in range(200):
            if fleet.get(roster[1].device_id).owner_uscc == COMPANY:
                break
            await asyncio.sleep(0.01)
        assert fleet.get(roster[1].device_id).owner_uscc == COMPANY
        assert fleet.get(roster[0].device_id).owner_uscc == COMPANY
    finally:
        await app.stop()
