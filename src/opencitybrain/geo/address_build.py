"""Build a city's standard-address book from its road network and generated streets.

Each road link of the network (both directions drawn once) is cut by the streets it
crosses, each street pulled in by ``MARGIN_M`` first, so that every door plate (at most
``OFFSET_M`` beside its road) lies inside the street that names it. Every piece of at
least ``MIN_ROAD_M`` is one road of that street, named in link order from the street's
own seeded list (``road_names``). Communities the network does not reach (most of the
countryside: in Nanchang 69 of the 112 generated streets have no road link at all) get two
made-up village roads of up to 300 m, east-west and north-south through a point inside
them, so that every community has door plates and residents. Grids cover built-up land
(near the network's roads), so door plates of village roads far from it reach the
community level only.

Everything is deterministic: the same pack gives the same book, so the simulator's
addresses and the platform's geocoder agree.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from opencitybrain.geo.addresses import OFFSET_M, SPACING_M, AddressBook, RoadLines
from opencitybrain.geo.divisions import Divisions
from opencitybrain.geo.regions import Region
from opencitybrain.geo.road_names import road_names
from opencitybrain.geo.roadgraph import RoadGraph

F64 = NDArray[np.float64]

__all__ = [
    "MARGIN_M", "MIN_ROAD_M", "LazyAddressBook", "build_address_book", "names_only_book",
]  # fmt: skip

MARGIN_M = 2 * OFFSET_M  # roads are cut back this far inside their street
MIN_ROAD_M = 2 * SPACING_M  # shorter pieces name no road (two pairs of doors at least)
VILLAGE_HALF_M = 150.0  # made-up village roads: at most 300 m, centred in the community
ROADS_PER_STREET = 8  # roads per street in a book without lines


def _links(graph: RoadGraph) -> list[NDArray[np.float64]]:
    """Return one lon/lat polyline per road link (a road's two directions once)."""
    a = np.minimum(graph.edge_from, graph.edge_to)
    b = np.maximum(graph.edge_from, graph.edge_to)
    if graph.geom_offsets is None:
        key = np.stack([a, b], axis=1)  # straight links: both directions are one line
    else:
        key = np.stack([a, b, np.round(graph.edge_length_m).astype(np.int64)], axis=1)
    keep = np.flatnonzero(graph.edge_from != graph.edge_to)
    _, first = np.unique(key[keep], axis=0, return_index=True)
    lines = graph.edge_lines()
    return [lines[i] for i in np.sort(keep[first]).tolist()]


def _in_metres(lines: Sequence[NDArray[np.float64]], divisions: Divisions) -> NDArray[np.object_]:
    if not lines:
        return np.empty(0, dtype=object)
    coords = np.concatenate(lines)
    x, y = divisions.projection.to_metres(coords[:, 0], coords[:, 1])
    index = np.repeat(np.arange(len(lines)), [len(line) for line in lines])
    out: NDArray[np.object_] = shapely.linestrings(np.column_stack((x, y)), indices=index)
    return out


def _pieces(
    inner: NDArray[np.object_], links: NDArray[np.object_]
) -> tuple[NDArray[np.int64], NDArray[np.object_]]:
    """Return (street index, line) of every link piece inside a street, in link order."""
    if len(links) == 0:
        return np.zeros(0, dtype=np.int64), np.empty(0, dtype=object)
    street, link = shapely.STRtree(links).query(inner, predicate="intersects")
    order = np.lexsort((link, street))
    street, link = street[order], link[order]
    cut = shapely.intersection(links[link], inner[street])
    parts, owner = shapely.get_parts(cut, return_index=True)
    keep = (shapely.get_type_id(parts) == 1) & (shapely.length(parts) >= MIN_ROAD_M)
    return street[owner[keep]], parts[keep]


def _village_roads(inner: NDArray[np.object_]) -> list[list[shapely.LineString]]:
    """Return per community an east-west and a north-south road through a point inside it
    (the piece of each nearest that point; none where it is shorter than ``MIN_ROAD_M``)."""
    out: list[list[shapely.LineString]] = [[] for _ in inner]
    usable = np.flatnonzero(~shapely.is_empty(inner))
    if not len(usable):
        return out
    p = shapely.get_coordinates(shapely.point_on_surface(inner[usable]))
    east, north = np.array([VILLAGE_HALF_M, 0.0]), np.array([0.0, VILLAGE_HALF_M])
    ends = np.stack(
        [np.stack([p - east, p + east], axis=1), np.stack([p - north, p + north], axis=1)],
        axis=1,
    ).reshape(-1, 2, 2)  # per community: its east-west, then its north-south road
    owner = np.repeat(usable, 2)
    cut = shapely.intersection(shapely.linestrings(ends), inner[owner])
    parts, line = shapely.get_parts(cut, return_index=True)
    keep = shapely.get_type_id(parts) == 1
    parts, line = parts[keep], line[keep]
    centre = shapely.points(np.repeat(p, 2, axis=0))[line]
    # Per line, its part nearest the community's point (distance 0: the point is on it).
    order = np.lexsort((shapely.distance(parts, centre), line))
    first = np.ones(len(order), dtype=bool)
    first[1:] = line[order][1:] != line[order][:-1]
    for k in order[first].tolist():
        if shapely.length(parts[k]) >= MIN_ROAD_M:
            out[int(owner[line[k]])].append(parts[k])
    return out


def _inner(regions: Sequence[Region], divisions: Divisions) -> NDArray[np.object_]:
    """Return the regions in metres, pulled in by ``MARGIN_M``."""
    geoms = np.array([r.geometry for r in regions], dtype=object)
    inner: NDArray[np.object_] = shapely.buffer(divisions.projection.project(geoms), -MARGIN_M)
    return inner


def build_address_book(graph: RoadGraph, divisions: Divisions) -> AddressBook:
    """Return the book of a city: its road links cut and named by street, door plates."""
    streets = sorted(divisions.streets, key=lambda s: s.code)
    communities = sorted(divisions.communities, key=lambda c: c.code)
    links = _in_metres(_links(graph), divisions)
    owner, lines = _pieces(_inner(streets, divisions), links)
    by_street: list[list[shapely.LineString]] = [[] for _ in streets]
    for s, line in zip(owner.tolist(), lines.tolist(), strict=True):
        by_street[s].append(line)
    # Communities no link reaches get village roads, after their street's own roads.
    community_inner = _inner(communities, divisions)
    lonely = np.setdiff1d(np.arange(len(communities)), _pieces(community_inner, links)[0])
    street_index = {s.code: i for i, s in enumerate(streets)}
    for c, found in zip(lonely.tolist(), _village_roads(community_inner[lonely]), strict=True):
        by_street[street_index[communities[c].code[:9]]].extend(found)
    codes: list[str] = []
    names: list[str] = []
    roads: list[str] = []
    geoms: list[shapely.LineString] = []
    for s, street in enumerate(streets):
        found = by_street[s]
        codes.extend([street.code] * len(found))
        names.extend([street.name_zh] * len(found))
        roads.extend(road_names(street.code, len(found)))
        geoms.extend(found)
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(index, minlength=len(geoms)))])
    lines_m = RoadLines(offsets.astype(np.int64), coords[:, 0], coords[:, 1], divisions.projection)
    doors = 2 * np.floor(lines_m.lengths / SPACING_M).astype(np.int64)
    return AddressBook(
        np.array(codes, dtype="<U9"), np.array(names, dtype=str), np.array(roads, dtype=str),
        doors, lines_m,
    )  # fmt: skip


def names_only_book(streets: Sequence[tuple[str, str]]) -> AddressBook:
    """Return a book without lines for (street code, full name) pairs: made-up roads only.

    Each street gets ``ROADS_PER_STREET`` roads of 200 m to 2 km (drawn from its code), so
    their door plates can be drawn, though none has a place.
    """
    codes: list[str] = []
    names: list[str] = []
    roads: list[str] = []
    doors: list[int] = []
    for code, name in streets:
        rng = np.random.default_rng(int(code) if code.isdigit() else 0)
        lengths = rng.uniform(200.0, 2000.0, size=ROADS_PER_STREET)
        codes.extend([code] * ROADS_PER_STREET)
        names.extend([name] * ROADS_PER_STREET)
        roads.extend(road_names(code, ROADS_PER_STREET))
        doors.extend((2 * np.floor(lengths / SPACING_M)).astype(np.int64).tolist())
    return AddressBook(
        np.array(codes, dtype="<U9"), np.array(names, dtype=str), np.array(roads, dtype=str),
        np.array(doors, dtype=np.int64),
    )  # fmt: skip


class LazyAddressBook:
    """A city's book, built on first use: most platform starts never geocode an address,
    and building it costs 0.3-0.8 s (the test suite starts hundreds of platforms)."""

    def __init__(self, graph: RoadGraph, divisions: Divisions) -> None:
        self._graph = graph
        self._divisions = divisions
        self._book: AddressBook | None = None
        self._lock = threading.Lock()

    @property
    def book(self) -> AddressBook:
        """Return the book, building it once."""
        with self._lock:
            if self._book is None:
                self._book = build_address_book(self._graph, self._divisions)
            return self._book

    @property
    def keys(self) -> Sequence[str]:
        """Return each road's key: its street's code followed by the road's name."""
        return self.book.keys

    def door_points(self, road: ArrayLike, number: ArrayLike) -> tuple[F64, F64]:
        """Return WGS-84 lon/lat of door plates (road index, number); NaN where invalid."""
        return self.book.door_points(road, number)
