"""Give each row of a resource its place: county, street, community and grid codes.

Three ways, tried in this order on a resource's fields (or named by its placement):

* **points** (a lon and a lat field, WGS-84): every level, by the geo locator in one
  vectorised pass (a raster, then exact polygon tests only near boundaries);
* a **region code** field (6 to 15 digits: county, street, community or grid code): the
  levels the code reaches;
* an **address** field: the county and street whose names it starts with (after the
  city's name), e.g. ``南昌市东湖区第02街道金沙街252号`` → 360102 / 360102002; then, with the
  city's standard-address book (``DoorPlates``), the road and house number after the
  street: a door plate the book holds is a point, placed at every level by the locator
  like any point. An address whose road or number the book lacks keeps its county and
  street.

Rows without a usable place keep empty codes and are counted as unlocated, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from opencitybrain.blocks.model import CODE_WIDTH, LEVEL_COLUMN, check_field
from opencitybrain.kernel.errors import InvalidInput

LON_NAMES = ("lon", "lng", "longitude", "x_wgs84")
LAT_NAMES = ("lat", "latitude", "y_wgs84")
CODE_NAMES = ("region_code", "grid_code", "county_code", "district_code", "xzqh", "qhdm")
GEOMETRY_NAMES = ("location", "geometry", "geom")
POINT_CHUNK = 1_000_000
# The street (…街道, …镇, …乡), then, if there, the road's name (no digits) and the
# house number; the road and number are "" where the address has none.
STREET_ROAD_NUMBER = r"(?P<street>.+?(?:街道|镇|乡))(?:(?P<road>\D+?)(?P<number>\d{1,6})号)?"
_NUMBERS = 1_000_000  # a door's key: road index × this + house number
ADDRESS_NAMES = ("address", "addr", "ZZ", "jzdz", "AAE006", "jtzz", "ZS", "ZSXXDZ", "dz")


class Located(Protocol):
    """Codes found per point (the geo locator's answer)."""

    @property
    def county(self) -> NDArray[np.str_]:
        """Return county codes."""
        ...

    @property
    def street(self) -> NDArray[np.str_]:
        """Return street codes."""
        ...

    @property
    def community(self) -> NDArray[np.str_]:
        """Return community codes."""
        ...

    @property
    def grid(self) -> NDArray[np.str_]:
        """Return grid codes."""
        ...


class PointLocator(Protocol):
    """Locate many WGS-84 points at once (``geo.lookup.RegionLocator``)."""

    def locate(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> Located:
        """Return county, street, community and grid codes per point ("" outside)."""
        ...


class DoorPlates(Protocol):
    """A city's standard-address book: door plates' points (``geo.addresses.AddressBook``)."""

    @property
    def keys(self) -> Sequence[str]:
        """Return each road's key: its street's 9-digit code followed by the road's name."""
        ...

    def door_points(
        self, road: NDArray[np.int64], number: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return lon/lat of door plates (road index, number); NaN where there is none."""
        ...


@dataclass(frozen=True, slots=True)
class Placement:
    """Which fields place a resource's rows: points, a region code or an address."""

    lon: str | None = None
    lat: str | None = None
    code: str | None = None
    address: str | None = None
    geometry: str | None = None  # GeoJSON text: a Point (else its first position)

    def __post_init__(self) -> None:
        for name in (self.lon, self.lat, self.code, self.address, self.geometry):
            if name is not None:
                check_field(name)
        if (self.lon is None) != (self.lat is None):
            raise InvalidInput(
                "blocks.bad_placement", "经度和纬度字段须同时给出", "give both lon and lat fields"
            )

    @classmethod
    def infer(cls, fields: Sequence[str]) -> Placement:
        """Return the placement a resource's field names suggest (points first)."""
        names = {f.lower(): f for f in fields}
        lon = next((names[n] for n in LON_NAMES if n in names), None)
        lat = next((names[n] for n in LAT_NAMES if n in names), None)
        if lon and lat:
            return cls(lon=lon, lat=lat)
        geometry = next((names[n] for n in GEOMETRY_NAMES if n in names), None)
        if geometry:
            return cls(geometry=geometry)
        code = next((names[n.lower()] for n in CODE_NAMES if n.lower() in names), None)
        if code:
            return cls(code=code)
        address = next((names[n.lower()] for n in ADDRESS_NAMES if n.lower() in names), None)
        return cls(address=address)

    @property
    def fields(self) -> tuple[str, ...]:
        """Return the fields this placement reads."""
        return tuple(f for f in (self.lon, self.lat, self.code, self.address, self.geometry) if f)


@dataclass(frozen=True, slots=True)
class Gazetteer:
    """Region names to codes, for addresses: counties by name, streets by county + name."""

    city_name: str
    counties: Mapping[str, str]  # 东湖区 → 360102
    streets: Mapping[str, str]  # 东湖区第02街道 → 360102002


def _empty(n: int, width: int) -> pa.Array:
    """Return ``n`` empty codes (``width`` is the level's: kept for the callers' sake)."""
    return pa.repeat(pa.scalar("", pa.string()), n)


def _cut(codes: pa.Array, width: int) -> pa.Array:
    """Return each code cut to a level's width, "" where it is shorter than that."""
    long_enough = pc.greater_equal(pc.utf8_length(codes), width)
    return pc.if_else(long_enough, pc.utf8_slice_codeunits(codes, 0, width), "")


def by_points(lon: pa.Array, lat: pa.Array, locator: PointLocator) -> dict[str, pa.Array]:
    """Return the four code columns for lon/lat columns (nulls are outside)."""
    x = pc.cast(lon, pa.float64()).to_numpy(zero_copy_only=False)
    y = pc.cast(lat, pa.float64()).to_numpy(zero_copy_only=False)
    parts: dict[str, list[pa.Array]] = {level: [] for level in CODE_WIDTH}
    # In chunks: the locator's fixed-width numpy strings take 4 bytes a character, so
    # ten million points at once would hold gigabytes; Arrow keeps them compact.
    for start in range(0, max(len(x), 1), POINT_CHUNK):
        found = locator.locate(x[start : start + POINT_CHUNK], y[start : start + POINT_CHUNK])
        for level in CODE_WIDTH:
            parts[level].append(pa.array(getattr(found, level), pa.string()))
    return {level: pa.concat_arrays(chunks) for level, chunks in parts.items()}


def geojson_points(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Return lon and lat columns from GeoJSON text (a Point's, else the first position)."""
    text = pc.cast(values, pa.string())
    found = pc.extract_regex(
        text,
        r'"coordinates"\s*:\s*\[[\s\[]*(?P<lon>-?[0-9.eE+-]+)\s*,\s*(?P<lat>-?[0-9.eE+-]+)',
    )
    lon = pc.cast(pc.struct_field(found, "lon"), pa.float64(), safe=False)
    lat = pc.cast(pc.struct_field(found, "lat"), pa.float64(), safe=False)
    return lon, lat


def by_code(values: pa.Array) -> dict[str, pa.Array]:
    """Return the code columns a region-code field reaches (digits only; else "")."""
    codes = pc.utf8_trim_whitespace(pc.cast(values, pa.string()))
    codes = pc.if_else(pc.match_substring_regex(codes, r"^\d{6}(\d{3}){0,3}$"), codes, "")
    codes = pc.fill_null(codes, "")
    return {level: _cut(codes, width) for level, width in CODE_WIDTH.items()}


def by_address(
    values: pa.Array,
    gazetteer: Gazetteer,
    *,
    book: DoorPlates | None = None,
    points: PointLocator | None = None,
) -> dict[str, pa.Array]:
    """Return the codes of addresses: county and street by name, then every level for
    the door plates the book holds (given a point locator), placed as points are."""
    text = pc.fill_null(pc.utf8_trim_whitespace(pc.cast(values, pa.string())), "")
    city = gazetteer.city_name
    prefix = city + ("" if not city or city.endswith("市") else "市")
    n = len(text)
    county = np.zeros(n, dtype="<U6")
    # Longer names first: 青山湖区 must not be read as a shorter name it starts with.
    for name in sorted(gazetteer.counties, key=len, reverse=True):
        named = pc.starts_with(text, name)
        if prefix:
            named = pc.or_(named, pc.starts_with(text, prefix + name))
        hit = named.to_numpy(zero_copy_only=False) & (county == "")
        county[hit] = gazetteer.counties[name]
    # One pass of the regex finds the street's name, the road's and the house number.
    city_part = f"(?:{re.escape(prefix)})?" if prefix else ""
    parts = pc.extract_regex(text, "^" + city_part + STREET_ROAD_NUMBER)
    keys = pa.array(list(gazetteer.streets), pa.string())
    codes = np.array([*gazetteer.streets.values(), ""], dtype="<U9")
    slot = pc.index_in(pc.struct_field(parts, "street"), value_set=keys)
    street = codes[pc.fill_null(slot, len(keys)).to_numpy(zero_copy_only=False)]
    # A street is trusted only inside the county the address names.
    street[(county == "") | (street.astype("<U6") != county)] = ""
    columns = {
        "county": pa.array(county, pa.string()),
        "street": pa.array(street, pa.string()),
        "community": _empty(n, 12),
        "grid": _empty(n, 15),
    }
    if book is not None and points is not None and n:
        columns = _door_plates(parts, street, columns, book, points)
    return columns


def _door_plates(
    parts: pa.Array,
    street: NDArray[np.str_],
    columns: dict[str, pa.Array],
    book: DoorPlates,
    points: PointLocator,
) -> dict[str, pa.Array]:
    """Return the columns with every level filled in where the book holds the door plate.

    Each distinct door plate is located once (a household's members share one). A door
    the locator finds in no community keeps the address's county and street.
    """
    key = pc.binary_join_element_wise(
        pa.array(street, pa.string()), pc.struct_field(parts, "road"), ""
    )
    road_slot = pc.index_in(key, value_set=pa.array(list(book.keys), pa.string()))
    road = pc.fill_null(road_slot, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    digits = pc.fill_null(pc.struct_field(parts, "number"), "")
    number = pc.cast(pc.if_else(pc.equal(digits, ""), "0", digits), pa.int64())
    rows = np.flatnonzero((road >= 0) & (street != ""))
    if not len(rows):
        return columns
    doors = road[rows] * _NUMBERS + number.to_numpy(zero_copy_only=False)[rows]
    unique, inverse = np.unique(doors, return_inverse=True)
    lon, lat = book.door_points(unique // _NUMBERS, unique % _NUMBERS)
    placed = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
    if not len(placed):
        return columns
    at = by_points(pa.array(lon[placed]), pa.array(lat[placed]), points)
    # Each distinct door's row among the placed ones; -1 where the book has no such door
    # or the locator found it in no community.
    slot = np.full(len(unique), -1, dtype=np.int64)
    slot[placed] = np.arange(len(placed))
    slot[placed[pc.equal(at["community"], "").to_numpy(zero_copy_only=False)]] = -1
    door = slot[inverse]
    hit = door >= 0
    mask = np.zeros(len(street), dtype=bool)
    mask[rows[hit]] = True
    index = np.zeros(len(street), dtype=np.int64)
    index[rows[hit]] = door[hit]
    where = pa.array(mask)
    return {
        level: pc.if_else(where, at[level].take(pa.array(index)), column)
        for level, column in columns.items()
    }


def locate(
    table: pa.Table,
    placement: Placement,
    *,
    points: PointLocator | None = None,
    gazetteer: Gazetteer | None = None,
    addresses: DoorPlates | None = None,
) -> pa.Table:
    """Return the table with ``_county``, ``_street``, ``_community`` and ``_grid`` added."""
    for name in placement.fields:
        if name not in table.column_names:
            raise InvalidInput(
                "blocks.unknown_field", f"资源没有字段 {name}", f"the resource has no field {name}"
            )
    n = table.num_rows
    if placement.lon and placement.lat and points is not None:
        columns = by_points(table[placement.lon], table[placement.lat], points)
    elif placement.geometry and points is not None:
        columns = by_points(*geojson_points(table[placement.geometry]), points)
    elif placement.code:
        columns = by_code(table[placement.code])
    elif placement.address and gazetteer is not None:
        columns = by_address(table[placement.address], gazetteer, book=addresses, points=points)
    else:
        columns = {lvl: _empty(n, w) for lvl, w in CODE_WIDTH.items()}
    for level, column in LEVEL_COLUMN.items():
        values = columns[level]
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        table = table.append_column(column, values)
    return table
