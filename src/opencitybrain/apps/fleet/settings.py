"""The fleet app's own settings, from ``CITYBRAIN_FLEET_*`` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["FleetSettings"]


class FleetSettings(BaseSettings):
    """Configure ingress and background work of the fleet app."""

    model_config = SettingsConfigDict(env_prefix="CITYBRAIN_FLEET_", extra="ignore")

    mqtt_url: str | None = Field(None, description="mqtt://host:port; none: HTTP ingress only")
    tenant: str = Field(
        "nanchang", pattern=r"^[A-Za-z0-9_-]{1,64}$", description="MQTT topic tenant"
    )
    ngsi_tenant: str = Field("", description="NGSI-LD tenant the entities are written to")
    mqtt_gateways: bool = Field(
        True,
        description="also take access gateways' batches on citybrain/<tenant>/fleet/<gw>/positions "
        "(the broker's ACL decides who may write there)",
    )
    batch_max: int = Field(5000, ge=1, le=100_000, description="MQTT messages per batch")
    batch_ms: int = Field(200, ge=1, le=10_000, description="longest wait to fill a batch")
    tick_s: float = Field(10.0, gt=0, description="offline checks every this many clock seconds")
    vehicle_entity_every_s: float = Field(
        30.0, ge=0, description="a vehicle's NGSI-LD entity is rewritten at most this often"
    )
    demo_fleet: bool = Field(True, description="supervise the simulated demo fleet")
    live_feed: bool = Field(
        False,
        description="stream the demo fleet and the Wuxi taxi replay (on in `citybrain demo`)",
    )
    feed_every_s: float = Field(5.0, gt=0, description="the live feed's step, clock seconds")
