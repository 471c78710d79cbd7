"""Test support: build the demo city the way `citybrain demo` does."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from opencitybrain.bootstrap import Platform, build_platform
from opencitybrain.catalog.service import CatalogService
from opencitybrain.kernel.settings import Settings
from opencitybrain.sim.demo_catalog import seed_demo_catalog
from opencitybrain.sim.demo_org import Credential, DemoCounty, seed_demo_org
from opencitybrain.sim.demo_signals import seed_signals


@dataclass
class DemoCity:
    """The demo platform, its app and the credentials seeding printed."""

    platform: Platform
    app: FastAPI
    credentials: dict[str, Credential]

    def password(self, username: str) -> str:
        """Return a demo user's password."""
        return self.credentials[username].secret


def build_demo_city(data_dir: Path, database_url: str | None = None) -> DemoCity:
    """Build and seed the demo city in a data folder (and a database other than its SQLite)."""
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        clock="simulated",
        sim_speed=60,
        city_pack="nanchang",
    )
    platform = asyncio.run(build_platform(settings))
    counties = [DemoCounty(c.code, c.name_zh, c.name_en) for c in platform.city.counties()]
    created = seed_demo_org(
        platform.accounts,
        platform.pack.manifest.city_code,
        platform.pack.manifest.name_zh,
        platform.pack.manifest.name_en,
        counties,
    )
    seed_signals(platform.broker, platform.pack)
    asyncio.run(
        seed_demo_catalog(platform.services.get(CatalogService), platform.pack.manifest.city_code)
    )
    return DemoCity(platform, platform.app(), {c.username: c for c in created})


def bearer(token: str) -> dict[str, str]:
    """Return an Authorization header."""
    return {"Authorization": f"Bearer {token}"}
