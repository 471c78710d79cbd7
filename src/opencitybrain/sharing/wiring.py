"""Wire sharing into a platform's service registry (called once by ``bootstrap``)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from fastapi import APIRouter

from opencitybrain.apikit.services import ServiceRegistry
from opencitybrain.catalog.open_extracts import OpenExtracts
from opencitybrain.catalog.rows import ResourceRows
from opencitybrain.catalog.service import CatalogService
from opencitybrain.kernel.bus import Bus
from opencitybrain.kernel.clock import Clock
from opencitybrain.kernel.settings import Settings
from opencitybrain.sharing.access import GovernedReader
from opencitybrain.sharing.api import router
from opencitybrain.sharing.audit import CheckpointSigner
from opencitybrain.sharing.audit_store import SqlAuditStore
from opencitybrain.sharing.masking import DEFAULT_POLICY, MaskPolicy, policy_from_settings
from opencitybrain.sharing.release_api import routers as release_routers
from opencitybrain.sharing.release_service import ReleaseService
from opencitybrain.sharing.release_store import (
    ParquetReleaseFiles,
    SqlOpenExtracts,
    SqlReleaseStore,
)
from opencitybrain.sharing.service import SharingService
from opencitybrain.sharing.store import SqlSharingStore
from opencitybrain.sharing.trail import AuditTrail
from opencitybrain.worktime import WorkCalendar


def build_sharing(
    services: ServiceRegistry, engine: sa.Engine, clock: Clock, bus: Bus, secret: str
) -> SharingService:
    """Add the sharing service, the governed reader and the audit trail to the registry.

    Needs the catalogue and the resource rows already registered. The masking policy
    is the city's (``Settings.sharing.masking``, when the settings are registered; the
    customary rules otherwise): checked here, at start, and registered as ``MaskPolicy``
    for everything else that masks.
    """
    policy = mask_policy(services)
    services.add(policy, MaskPolicy)
    catalog = services.get(CatalogService)
    rows = services.get(ResourceRows)  # type: ignore[type-abstract]
    trail = AuditTrail(SqlAuditStore(engine), CheckpointSigner(secret), clock)
    store = SqlSharingStore(engine)
    calendar = WorkCalendar.china(provisional_through=clock.now().year + 1)
    sharing = SharingService(store, trail, catalog, calendar, clock, bus)
    services.add(trail)
    services.add(sharing)
    services.add(GovernedReader(rows, store, trail, catalog, clock, secret, policy))
    return sharing


def mask_policy(services: ServiceRegistry) -> MaskPolicy:
    """Return the masking policy of the registered settings (customary rules without any)."""
    if MaskPolicy in services:
        return services.get(MaskPolicy)
    if Settings in services:
        return policy_from_settings(services.get(Settings).sharing.masking)
    return DEFAULT_POLICY


def sharing_routers() -> list[APIRouter]:
    """Return the sharing API's routers."""
    return [router, *release_routers()]


def build_releases(services: ServiceRegistry, engine: sa.Engine, folder: Path) -> ReleaseService:
    """Add the open data release service (after ``build_sharing``); tables under ``folder``.

    Registers the catalogue's ``OpenExtracts`` port too: the catalogue and its CKAN API
    show each resource's releases with their parameters.
    """
    releases = ReleaseService(
        services.get(CatalogService),
        services.get(ResourceRows),  # type: ignore[type-abstract]
        SqlReleaseStore(engine),
        ParquetReleaseFiles(folder),
        services.get(AuditTrail),
        services.get(Clock),  # type: ignore[type-abstract]
        services.get(Bus),  # type: ignore[type-abstract]
    )
    services.add(releases)
    services.add(SqlOpenExtracts(engine), OpenExtracts)
    return releases
