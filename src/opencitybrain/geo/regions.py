"""Administrative regions (county, street, community) and loading a city's counties.

County-level codes follow GB/T 2260: six digits, the first four naming the prefecture
city (Nanchang 3601xx). Streets and communities extend a county code by three digits
each, the way GB/T 30428 grid codes do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeAlias

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from opencitybrain.geo.topojson import read_topology
from opencitybrain.kernel.errors import InvalidInput, NotFound

__all__ = ["Level", "Polygonal", "Region", "city_outline", "load_counties", "polygonal"]

Level = Literal["county", "street", "community"]
Polygonal: TypeAlias = shapely.Polygon | shapely.MultiPolygon

# Where the administrative code and name sit in the TopoJSON properties we receive.
_CODE_KEYS = ("QUHUADAIMA", "adcode", "code")
_NAME_KEYS = ("NAME", "name")


@dataclass(frozen=True, slots=True, eq=False)
class Region:
    """Hold one administrative region; geometry is WGS-84 lon/lat."""

    code: str
    name_zh: str
    level: Level
    parent_code: str | None
    geometry: Polygonal

    def __repr__(self) -> str:
        return f"Region({self.code!r}, {self.name_zh!r}, {self.level!r})"


def polygonal(geometry: BaseGeometry) -> Polygonal:
    """Return only the areal parts of a geometry, as a Polygon or MultiPolygon."""
    if isinstance(geometry, shapely.Polygon | shapely.MultiPolygon):
        return geometry
    parts = [
        part
        for part in shapely.get_parts(shapely.get_parts(geometry))
        if isinstance(part, shapely.Polygon) and not part.is_empty
    ]
    if len(parts) == 1:
        return parts[0]
    return shapely.MultiPolygon(parts)


def _first(properties: dict[str, object], keys: Sequence[str]) -> str:
    for key in keys:
        value = properties.get(key)
        if value not in (None, ""):
            return str(value)
    return ""


def load_counties(topojson_path: str | Path, city_code: str) -> list[Region]:
    """Load the county-level regions of one city, merging pieces that share a code."""
    if len(city_code) != 6 or not city_code.isdigit():
        raise InvalidInput(
            "geo.regions.bad_city_code",
            f"城市代码必须是 6 位数字：{city_code!r}",
            f"city code must be 6 digits: {city_code!r}",
        )
    prefix = city_code[:4]
    pieces: dict[str, list[BaseGeometry]] = {}
    names: dict[str, str] = {}
    for feature in read_topology(topojson_path):
        code = _first(feature.properties, _CODE_KEYS)
        # Neighbouring cities and the city's own outline are in the file for context.
        if len(code) != 6 or not code.isdigit() or code[:4] != prefix or code == city_code:
            continue
        pieces.setdefault(code, []).append(feature.geometry)
        names.setdefault(code, _first(feature.properties, _NAME_KEYS) or code)
    if not pieces:
        raise NotFound(
            "geo.regions.no_counties",
            f"文件中没有城市 {city_code} 的区县",
            f"no counties of city {city_code} in the file",
        )
    counties = []
    for code in sorted(pieces):
        merged = shapely.union_all(pieces[code])
        # Quantized rings can self-touch; repair rather than reject real boundary data.
        if not merged.is_valid:
            merged = shapely.make_valid(merged)
        counties.append(Region(code, names[code], "county", city_code, polygonal(merged)))
    return counties


def city_outline(counties: Sequence[Region]) -> Polygonal:
    """Return the union of the given regions' geometries."""
    if not counties:
        raise InvalidInput("geo.regions.empty", "区县列表为空", "the list of counties is empty")
    return polygonal(shapely.union_all([county.geometry for county in counties]))


def shifted(regions: Sequence[Region], dlon: float, dlat: float) -> list[Region]:
    """Return the regions moved by (dlon, dlat) degrees, to correct a displaced source."""
    moved = shapely.transform(
        np.array([r.geometry for r in regions], dtype=object),
        lambda xy: xy + np.array([dlon, dlat]),
    )
    return [
        Region(r.code, r.name_zh, r.level, r.parent_code, polygonal(g))
        for r, g in zip(regions, moved, strict=True)
    ]
