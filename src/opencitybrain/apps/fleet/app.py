"""The fleet app as a plug-in: wires the engine, the service and the ingress on the host."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa
from fastapi import APIRouter

from opencitybrain.adapters.mqtt import MqttBatcher, MqttMessage, topic_device
from opencitybrain.apps.fleet.api import router
from opencitybrain.apps.fleet.demo import demo_feed, demo_fleet
from opencitybrain.apps.fleet.directory import RegistryVehicles, VehicleDirectory, enrich
from opencitybrain.apps.fleet.engine import FleetEngine
from opencitybrain.apps.fleet.feed import feed_forever
from opencitybrain.apps.fleet.messages import decode_payloads, split_payloads
from opencitybrain.apps.fleet.model import Fleet
from opencitybrain.apps.fleet.publish import FleetPublisher
from opencitybrain.apps.fleet.rules import RuleConfig
from opencitybrain.apps.fleet.service import FleetService, cancel
from opencitybrain.apps.fleet.settings import FleetSettings
from opencitybrain.apps.plugin import AppHost, Manifest
from opencitybrain.kernel.bus import Subscription
from opencitybrain.kernel.events import CloudEvent
from opencitybrain.registry.service import RegistryService

__all__ = [
    "FleetApp",
    "create_app",
    "gateway_topic_filter",
    "position_topic_filter",
    "vouched_device",
]

log = logging.getLogger(__name__)

MANIFEST = Manifest(
    domain="fleet",
    name_zh="重点车辆监管",
    name_en="Key-vehicle supervision",
    version="0.1.0",
    permissions=("fleet:read", "fleet:ingest", "fleet:admin"),
)


def position_topic_filter(tenant: str) -> str:
    """Return the MQTT filter for every fleet device's positions of a tenant."""
    return f"citybrain/{tenant}/fleet/+/position"


def gateway_topic_filter(tenant: str) -> str:
    """Return the MQTT filter for access gateways' batches of many devices' positions."""
    return f"citybrain/{tenant}/fleet/+/{GATEWAY_CHANNEL}"


GATEWAY_CHANNEL = "positions"


def vouched_device(topic: str) -> str | None:
    """Return the device a topic vouches for: its device id, or None on a gateway's channel."""
    if topic.endswith("/" + GATEWAY_CHANNEL):
        return None
    return topic_device(topic) or ""


class FleetApp:
    """Supervise key vehicles: HTTP and MQTT ingest, rules, alerts, Vehicle entities."""

    def __init__(
        self, settings: FleetSettings | None = None, directory: VehicleDirectory | None = None
    ) -> None:
        self.settings = settings or FleetSettings()
        self.directory = directory
        self.service: FleetService | None = None
        self.mqtt: MqttBatcher | None = None
        self._feed: list[dict[str, Any]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._registry_sub: Subscription | None = None

    @property
    def manifest(self) -> Manifest:
        """Return the app's manifest."""
        return MANIFEST

    def routers(self) -> Sequence[APIRouter]:
        """Return the fleet routes."""
        return [router]

    def _build(self, host: AppHost) -> FleetService:
        s = self.settings
        now = host.clock.now().timestamp()
        if s.demo_fleet and s.live_feed:
            feed = demo_feed(host.city, now)
            vehicles, rules, self._feed = feed.vehicles, feed.rules, feed.messages
        elif s.demo_fleet:
            vehicles, rules = demo_fleet(host.city, now)
        else:
            vehicles, rules = [], RuleConfig()
        self.directory = directory = self._directory(host)
        vehicles = enrich(vehicles, directory)
        engine = FleetEngine(Fleet(vehicles), rules, host.city.graph, host.city.projection)
        publisher = FleetPublisher(
            host.broker, host.bus, tenant=s.ngsi_tenant, vehicle_every_s=s.vehicle_entity_every_s
        )
        return FleetService(
            engine,
            host.clock,
            publisher=publisher,
            rules_path=host.settings.data_dir / "fleet" / "rules.json",
        )

    def _directory(self, host: AppHost) -> VehicleDirectory | None:
        """Return the directory given, else one the host registered, else the registry's."""
        if self.directory is not None:
            return self.directory
        if VehicleDirectory in host.services:
            return host.services.get(VehicleDirectory)  # type: ignore[type-abstract]
        if RegistryService in host.services:
            return RegistryVehicles(_vehicle_build(host.services.get(RegistryService)))
        return None

    async def _on_registry(self, event: CloudEvent) -> None:
        """A new vehicle build: the supervised vehicles take its owners."""
        if self.service is None or self.directory is None or event.subject != "vehicles":
            return
        changed = await asyncio.to_thread(self.service.refresh_vehicles, self.directory)
        if changed:
            log.info("fleet: %d vehicles updated from registry build", changed)

    async def start(self, host: AppHost) -> None:
        """Build the service once, register it, and start ticks (and MQTT) in this loop."""
        if self.service is None:
            self.service = await asyncio.to_thread(self._build, host)
            host.services.add(self.service)
        await self.stop()
        service = self.service
        self._tasks.append(asyncio.create_task(service.run_ticks(self.settings.tick_s)))
        if self.directory is not None and self._registry_sub is None:
            self._registry_sub = await host.bus.subscribe(
                "city.registry.golden.changed", self._on_registry
            )
        if self._feed:
            feed = feed_forever(service, self._feed, self.settings.feed_every_s)
            self._tasks.append(asyncio.create_task(feed))
        if self.settings.mqtt_url:
            self.mqtt = MqttBatcher(
                self.settings.mqtt_url,
                self.topic_filters(),
                self.on_mqtt,
                max_batch=self.settings.batch_max,
                max_wait_s=self.settings.batch_ms / 1000,
            )
            self._tasks.append(asyncio.create_task(self.mqtt.run()))

    def topic_filters(self) -> list[str]:
        """Return the MQTT topic filters the app subscribes to."""
        tenant = self.settings.tenant
        filters = [position_topic_filter(tenant)]
        if self.settings.mqtt_gateways:
            filters.append(gateway_topic_filter(tenant))
        return filters

    async def on_mqtt(self, messages: Sequence[MqttMessage]) -> None:
        """Run a batch of MQTT messages through the same pipeline as HTTP batches."""
        assert self.service is not None
        svc = self.service
        now = svc.clock.now().timestamp()
        payloads, devices = split_payloads(
            [m.payload for m in messages], [vouched_device(m.topic) for m in messages]
        )
        batch = decode_payloads(payloads, devices, now)
        outcome = await svc.ingest_batch(batch, source="mqtt", payloads=payloads)
        if outcome.quarantined:
            first = outcome.quarantined[0]
            log.warning(
                "MQTT batch: %d of %d quarantined, first: %s", len(outcome.quarantined),
                len(messages), first,
            )  # fmt: skip

    async def stop(self) -> None:
        """Stop ticks, MQTT and registry updates."""
        sub, self._registry_sub = self._registry_sub, None
        if sub is not None:
            await sub.unsubscribe()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            await cancel(task)


def _vehicle_build(registry: RegistryService) -> Callable[[], tuple[int, pa.Table] | None]:
    def current() -> tuple[int, pa.Table] | None:
        build = registry.files.current("vehicles")
        return None if build is None else (build.number, build.golden)

    return current


def create_app() -> FleetApp:
    """Return the fleet app (the ``opencitybrain.apps`` entry point)."""
    return FleetApp()
