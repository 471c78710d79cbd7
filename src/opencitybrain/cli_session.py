"""The catalogue a ``citybrain`` sub-command works on, opened from the settings and closed after.

Loading department tables, building the registry and releasing open data all need the
same things: the accounts' database, the platform bus, the catalogue service, the row
store and the load service. ``catalog_session`` wires them once and releases the bus and
the database however the command ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import sqlalchemy as sa

from opencitybrain.adapters.buses import make_bus
from opencitybrain.adapters.duckdb_rows import DuckRows
from opencitybrain.bootstrap import open_accounts
from opencitybrain.catalog.load_store import SqlLoadStore
from opencitybrain.catalog.loading import Connectors, LoadService
from opencitybrain.catalog.service import CatalogService
from opencitybrain.catalog.store import SqlCatalogStore
from opencitybrain.kernel.bus import Bus
from opencitybrain.kernel.clock import RealClock
from opencitybrain.kernel.settings import Settings

__all__ = ["CatalogSession", "catalog_session"]


@dataclass(frozen=True)
class CatalogSession:
    """What a command that reads or writes the catalogue works with."""

    clock: RealClock
    engine: sa.Engine
    bus: Bus
    catalog: CatalogService
    rows: DuckRows
    loader: LoadService


@asynccontextmanager
async def catalog_session(settings: Settings) -> AsyncIterator[CatalogSession]:
    """Open the catalogue, its row store and its load service; close the bus and database."""
    clock = RealClock()
    engine, accounts = open_accounts(settings, clock)
    bus = await make_bus(settings.bus_url)
    try:
        catalog = CatalogService(SqlCatalogStore(engine), accounts, clock, bus)
        rows = DuckRows(settings.data_dir / "analytics")
        connectors = Connectors(settings.data_dir / "connectors", settings.sql_url)
        loader = LoadService(catalog, rows, SqlLoadStore(engine), clock, bus, connectors)
        yield CatalogSession(clock, engine, bus, catalog, rows, loader)
    finally:
        await bus.close()
        engine.dispose()
