"""City-pack types: the manifest read from ``pack.toml`` and the loaded pack.

A city pack is a folder: ``pack.toml`` names the city and points at its data files (road
network, administrative boundaries, optional demand), all relative to the folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import msgspec
import numpy as np

from opencitybrain.citypack.cbengine import CBEngineFlows
from opencitybrain.geo.divisions import Divisions
from opencitybrain.geo.regions import Region
from opencitybrain.geo.roadgraph import RoadGraph

RoadnetFormat = Literal["cbengine", "osm"]


class RoadnetSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Name the road-network file and how to read it."""

    format: RoadnetFormat
    file: str
    # OSM only: keep a lon/lat box [west, south, east, north] and the largest strongly
    # connected part, so that every snapped point can reach every other.
    bbox: tuple[float, float, float, float] | None = None
    largest_component: bool = True


class FileSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Name one data file of the pack."""

    file: str


class AdminSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Name the county-boundary file (TopoJSON) and any correction it needs."""

    file: str
    # Degrees (lon, lat) added to every boundary coordinate, for sources whose polygons are
    # displaced from WGS-84 (see the pack's DATA_SOURCES.md for how it was measured).
    shift: tuple[float, float] | None = None


class PackManifest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Describe a city pack, as written in its ``pack.toml``."""

    name: str
    name_zh: str
    name_en: str
    city_code: str
    timezone: str
    roadnet: RoadnetSpec
    admin: AdminSpec | None = None
    flows: FileSpec | None = None
    center: tuple[float, float] | None = None
    # English names of the county-level divisions, by GB/T 2260 code (the MCA data has
    # Chinese names only).
    county_names_en: dict[str, str] | None = None


@dataclass(frozen=True, eq=False)
class CityPack:
    """Hold a loaded city: manifest, road graph, counties, divisions and demand."""

    manifest: PackManifest
    root: Path
    graph: RoadGraph
    counties: tuple[Region, ...]
    divisions: Divisions | None
    flows: CBEngineFlows | None

    @property
    def name(self) -> str:
        """Return the pack's short name."""
        return self.manifest.name

    @property
    def center(self) -> tuple[float, float]:
        """Return the map centre (lon, lat): the manifest's, else the road network's."""
        if self.manifest.center is not None:
            return self.manifest.center
        return float(np.median(self.graph.node_lon)), float(np.median(self.graph.node_lat))
