"""The app plug-in shape: a manifest, routers, and start/stop around the platform's life.

Apps are found through the ``opencitybrain.apps`` entry-point group: each entry point
names a zero-argument factory returning an :class:`App`. The host hands every app the same
:class:`AppHost` — the platform's capabilities, never another app — so apps combine
capabilities and talk to each other only through events and services.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Protocol, runtime_checkable

from fastapi import APIRouter

from opencitybrain.apikit.services import ServiceRegistry
from opencitybrain.citypack.service import CityService
from opencitybrain.context.service import ContextBroker
from opencitybrain.kernel.bus import Bus
from opencitybrain.kernel.clock import Clock
from opencitybrain.kernel.settings import Settings

__all__ = ["ENTRY_POINT_GROUP", "App", "AppHost", "Manifest", "load_apps"]

ENTRY_POINT_GROUP = "opencitybrain.apps"
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Manifest:
    """Describe an app: its domain (the folder and route prefix), names and version."""

    domain: str
    name_zh: str
    name_en: str
    version: str
    permissions: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class AppHost:
    """Carry the platform capabilities an app may use."""

    settings: Settings
    clock: Clock
    bus: Bus
    broker: ContextBroker
    city: CityService
    services: ServiceRegistry


@runtime_checkable
class App(Protocol):
    """A scenario plug-in."""

    @property
    def manifest(self) -> Manifest:
        """Return the app's manifest."""
        ...

    def routers(self) -> Sequence[APIRouter]:
        """Return the app's HTTP routers (every route guarded by a permission)."""
        ...

    async def start(self, host: AppHost) -> None:
        """Set the app up on the host and start its background work (idempotent)."""
        ...

    async def stop(self) -> None:
        """Stop the app's background work (it may be started again)."""
        ...


def load_apps(
    group: str = ENTRY_POINT_GROUP, *, enabled: Callable[[str], bool] | None = None
) -> list[App]:
    """Instantiate every app registered in the entry-point group, sorted by name."""
    apps: list[App] = []
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        if enabled is not None and not enabled(ep.name):
            continue
        factory = ep.load()
        app = factory()
        if not isinstance(app, App):
            raise TypeError(f"entry point {ep.name!r} did not return an App")
        log.info("app %s %s loaded", app.manifest.domain, app.manifest.version)
        apps.append(app)
    return apps
