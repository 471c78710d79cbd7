"""Wiring of block data (块数据): resource snapshots, DuckDB, the city's regions, its
standard-address book and the org tree (split from ``bootstrap`` to keep it readable)."""

from __future__ import annotations

from pathlib import Path

from opencitybrain.accounts.service import AccountService
from opencitybrain.adapters.duckdb_blocks import DuckBlockEngine
from opencitybrain.apikit.services import ServiceRegistry
from opencitybrain.blocks.locate import Gazetteer
from opencitybrain.blocks.service import BlockService
from opencitybrain.catalog.rows import ResourceRows
from opencitybrain.citypack.service import CityService
from opencitybrain.geo.address_build import LazyAddressBook

__all__ = ["build_blocks"]


def build_blocks(
    services: ServiceRegistry, city: CityService, accounts: AccountService
) -> BlockService:
    """Wire block data: resource snapshots, DuckDB, the city's regions and address book,
    and the org tree."""
    divisions = city.pack.divisions
    # The standard-address book takes department addresses down to grids (built on first use).
    book = LazyAddressBook(city.pack.graph, divisions) if divisions is not None else None
    gazetteer = Gazetteer(
        city.pack.manifest.name_zh,
        {c.name_zh: c.code for c in city.pack.counties},
        {s.name_zh: s.code for s in divisions.streets} if divisions is not None else {},
    )

    def snapshots(resource_id: str) -> Path | None:
        return services.get(ResourceRows).parquet(resource_id)  # type: ignore[type-abstract]

    def departments() -> dict[str, tuple[str | None, str | None]]:
        return {d.id: (d.region_code, d.parent_id) for d in accounts.departments()}

    return BlockService(
        snapshots, DuckBlockEngine(), points=city.locator, gazetteer=gazetteer,
        addresses=book, departments=departments,
    )  # fmt: skip
