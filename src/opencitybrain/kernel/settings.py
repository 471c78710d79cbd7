"""Settings from ``CITYBRAIN_*`` environment variables and a TOML file.

Order of precedence: constructor arguments, environment variables, the TOML file named
by ``CITYBRAIN_CONFIG`` (default ``./citybrain.toml`` when present), then defaults.
This module is the kernel's one third-party import (pydantic-settings), by design.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _config_file() -> Path:
    return Path(os.environ.get("CITYBRAIN_CONFIG", "citybrain.toml"))


class MaskRuleSettings(BaseModel):
    """One masking rule as a city states it: keep both ends, or hide the tail."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keep_first: int = Field(0, ge=0, le=64, description="characters kept at the start")
    keep_last: int = Field(0, ge=0, le=64, description="characters kept at the end")
    hide_last: int | None = Field(None, ge=1, le=256, description="hide this many at the end")
    char: str | None = Field(None, min_length=1, max_length=1, description="this rule's mask")

    @model_validator(mode="after")
    def _one_kind(self) -> MaskRuleSettings:
        if self.hide_last is not None and (self.keep_first or self.keep_last):
            raise ValueError("hide_last cannot be combined with keep_first/keep_last")
        return self


class MaskingSettings(BaseModel):
    """``[sharing.masking]``: the mask character and rules per masking type, e.g.
    ``id_number = {keep_first = 6, keep_last = 4}``, ``address = {hide_last = 6}``.

    Types not named keep the customary rule; sharing checks the type names at start.
    """

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[str, MaskRuleSettings] = Field(init=False)  # the rules by type

    char: str = Field("*", min_length=1, max_length=1, description="the mask character")

    @property
    def rules(self) -> dict[str, MaskRuleSettings]:
        """Return the rules the city states, by masking type name."""
        return dict(self.model_extra or {})


class SharingSettings(BaseModel):
    """``[sharing]``: settings of the sharing layer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    masking: MaskingSettings = Field(default_factory=MaskingSettings)


class DemoSettings(BaseModel):
    """``[demo]``: how big a city ``citybrain demo`` generates and loads into the registry.

    ``people = 0`` loads no departments' data; companies default to people/10 and
    vehicles to people/2 (env: ``CITYBRAIN_DEMO__PEOPLE=2000``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    people: int = Field(1_000_000, ge=0, le=50_000_000, description="people (0: none)")
    companies: int | None = Field(None, ge=0, le=10_000_000, description="default people/10")
    vehicles: int | None = Field(None, ge=0, le=50_000_000, description="default people/2")
    seed: int = Field(2026, description="the generator's seed")

    def sizes(self) -> tuple[int, int, int]:
        """Return (people, companies, vehicles) with the defaults filled in."""
        companies = self.people // 10 if self.companies is None else self.companies
        vehicles = self.people // 2 if self.vehicles is None else self.vehicles
        return self.people, companies, vehicles


class Settings(BaseSettings):
    """Hold every setting the platform reads; the URL scheme picks each adapter."""

    model_config = SettingsConfigDict(
        env_prefix="CITYBRAIN_", extra="forbid", env_nested_delimiter="__"
    )

    data_dir: Path = Field(Path("citybrain-data"), description="where embedded data lives")
    database_url: str | None = Field(
        None, description="sqlite:///path or postgresql://…; default: SQLite under data_dir"
    )
    bus_url: str = Field("memory://", description="memory:// or nats://host:port")
    city_pack: str = Field("nanchang", description="city pack name or folder")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    clock: Literal["real", "simulated"] = "real"
    sim_start: datetime | None = None
    sim_speed: float = Field(1.0, gt=0, le=10_000)
    secret_key: SecretStr | None = Field(
        None, description="signing secret; default: generated once into data_dir/secret.key"
    )
    token_ttl_seconds: int = Field(3600, ge=60, le=7 * 24 * 3600)
    log_level: str = "INFO"
    context_history_days: int = Field(
        30, ge=1, le=3650, description="days of NGSI-LD attribute history kept (temporal API)"
    )
    cockpit_dir: Path | None = Field(None, description="built cockpit; default: packaged build")
    context_validate_types: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="NGSI-LD entity types checked against their Smart Data Models JSON Schema "
        "(names such as ParkingSpot, or type IRIs); env: comma-separated or a JSON array",
    )

    sharing: SharingSettings = Field(
        default_factory=SharingSettings,
        description="[sharing.masking] rules per masking type; env: CITYBRAIN_SHARING as JSON "
        'or CITYBRAIN_SHARING__MASKING, e.g. {"id_number": {"keep_first": 6, "keep_last": 4}}',
    )

    demo: DemoSettings = Field(
        default_factory=DemoSettings,
        description="[demo] the demo city's departments' data: people (0: none), companies, "
        "vehicles, seed; env e.g. CITYBRAIN_DEMO__PEOPLE=2000",
    )

    @field_validator("context_validate_types", mode="before")
    @classmethod
    def _name_list(cls, value: object) -> object:
        # From the environment: "ParkingSpot,Vehicle" or '["ParkingSpot", "Vehicle"]'.
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("database_url", "bus_url")
    @classmethod
    def _known_scheme(cls, value: str | None) -> str | None:
        if value is None:
            return None
        known = ("sqlite:", "postgresql:", "postgresql+psycopg:", "memory:", "nats:")
        if not value.startswith(known):
            raise ValueError(f"unsupported URL scheme in {value.split(':')[0]!r}")
        return value

    @property
    def sql_url(self) -> str:
        """Return the database URL, defaulting to a SQLite file under ``data_dir``."""
        return self.database_url or f"sqlite:///{self.data_dir / 'citybrain.db'}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Read constructor args, then environment, then the TOML file."""
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=_config_file()),
        )
