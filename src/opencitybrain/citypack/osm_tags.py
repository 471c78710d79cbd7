"""Interpret OpenStreetMap way tags for routing: class, direction, speed, lanes, turns.

Road classes follow the Chinese urban convention used for OSM in China: motorway and
trunk are 快速路, primary 主干路, secondary 次干路, tertiary and smaller 支路.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from opencitybrain.geo.roadgraph import ALL_TURNS, RoadClass, Turn

_E, _A, _C, _L = RoadClass.EXPRESSWAY, RoadClass.ARTERIAL, RoadClass.COLLECTOR, RoadClass.LOCAL

# highway value -> (class, default km/h, default lanes per direction)
HIGHWAY_DEFAULTS: dict[str, tuple[RoadClass, float, int]] = {
    "motorway": (_E, 100, 2),
    "motorway_link": (_E, 60, 1),
    "trunk": (_E, 80, 2),
    "trunk_link": (_E, 50, 1),
    "primary": (_A, 60, 2),
    "primary_link": (_A, 40, 1),
    "secondary": (_C, 50, 1),
    "secondary_link": (_C, 40, 1),
    "tertiary": (_L, 40, 1),
    "tertiary_link": (_L, 30, 1),
    "unclassified": (_L, 40, 1),
    "residential": (_L, 30, 1),
    "living_street": (_L, 10, 1),
    "service": (_L, 20, 1),
    "road": (_L, 30, 1),
}
# Service roads that are parking lots or private driveways only add dead ends.
_SKIPPED_SERVICE = frozenset({"parking_aisle", "driveway", "drive-through", "emergency_access"})
_CLOSED = frozenset({"no", "private"})
_SPEED = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(km/h|kmh|kph|mph|knots)?\s*$")
_UNIT_KMH = {None: 1.0, "km/h": 1.0, "kmh": 1.0, "kph": 1.0, "mph": 1.609344, "knots": 1.852}
_TURN_WORDS = {
    "left": Turn.LEFT,
    "slight_left": Turn.LEFT,
    "sharp_left": Turn.LEFT,
    "reverse": Turn.LEFT,
    "through": Turn.THROUGH,
    "merge_to_left": Turn.THROUGH,
    "merge_to_right": Turn.THROUGH,
    "right": Turn.RIGHT,
    "slight_right": Turn.RIGHT,
    "sharp_right": Turn.RIGHT,
}


@dataclass(frozen=True, slots=True)
class WayAttrs:
    """Hold what routing needs from one way, per direction of travel."""

    road_class: RoadClass
    forward: bool
    backward: bool
    speed_fwd_mps: float
    speed_bwd_mps: float
    lanes_fwd: int
    lanes_bwd: int
    turns_fwd: tuple[int, ...]
    turns_bwd: tuple[int, ...]


def parse_maxspeed(value: str | None) -> float | None:
    """Return a maxspeed tag in km/h, or None where it is not a number (zones, 'none')."""
    if value is None:
        return None
    first = value.split(";")[0].strip().lower()
    if first == "walk":
        return 5.0
    m = _SPEED.match(first)
    if m is None:
        return None
    kmh = float(m.group(1)) * _UNIT_KMH[m.group(2)]
    return kmh if kmh > 0 else None


def parse_lanes(value: str | None) -> int | None:
    """Return a lanes tag as a positive count, or None if absent or unreadable."""
    if value is None:
        return None
    try:
        n = int(float(value.split(";")[0].strip()))
    except ValueError:
        return None
    return n if n > 0 else None


def parse_turn_lanes(value: str | None, lanes: int) -> tuple[int, ...]:
    """Return Turn flags per lane from a turn:lanes tag, or all turns if it does not fit."""
    if value is None or value.count("|") + 1 != lanes:
        return (ALL_TURNS,) * lanes
    out = []
    for lane in value.split("|"):
        flags = 0
        for word in lane.split(";"):
            # An unmarked lane ("" or "none") goes straight on.
            flags |= int(_TURN_WORDS.get(word.strip(), Turn.THROUGH))
        out.append(flags)
    return tuple(out)


def oneway(tags: Mapping[str, str], highway: str) -> int | None:
    """Return 1 (forward only), -1 (backward only), 0 (both ways) or None (not routable)."""
    value = tags.get("oneway")
    if value in ("yes", "true", "1"):
        return 1
    if value in ("-1", "reverse"):
        return -1
    if value in ("reversible", "alternating"):
        return None  # direction changes by time of day; a static graph cannot hold it
    if value in ("no", "false", "0"):
        return 0
    implied = highway == "motorway" or tags.get("junction") in ("roundabout", "circular")
    return 1 if implied else 0


def way_attrs(tags: Mapping[str, str]) -> WayAttrs | None:
    """Return routing attributes for a way, or None if cars cannot drive it."""
    highway = tags.get("highway", "")
    defaults = HIGHWAY_DEFAULTS.get(highway)
    if defaults is None or tags.get("area") == "yes":
        return None
    if highway == "service" and tags.get("service") in _SKIPPED_SERVICE:
        return None
    car = tags.get("motor_vehicle") or tags.get("motorcar")
    if car in _CLOSED or (tags.get("access") in _CLOSED and car not in ("yes", "designated")):
        return None
    direction = oneway(tags, highway)
    if direction is None:
        return None
    road_class, default_kmh, default_lanes = defaults
    speed = parse_maxspeed(tags.get("maxspeed")) or default_kmh
    fwd_kmh = parse_maxspeed(tags.get("maxspeed:forward")) or speed
    bwd_kmh = parse_maxspeed(tags.get("maxspeed:backward")) or speed
    total = parse_lanes(tags.get("lanes"))
    fwd = parse_lanes(tags.get("lanes:forward"))
    bwd = parse_lanes(tags.get("lanes:backward"))
    if direction != 0:
        # A one-way road's lanes all run the way traffic goes.
        n = total or (fwd if direction == 1 else bwd) or default_lanes
        fwd_lanes = bwd_lanes = n
        fwd_turns = bwd_turns = parse_turn_lanes(tags.get("turn:lanes"), n)
    else:
        # Split a two-way total between directions, the odd lane going forward.
        if total and fwd is None:
            fwd = total - bwd if bwd is not None and total > bwd else (total + 1) // 2
        if total and bwd is None:
            bwd = total - fwd if fwd is not None and total > fwd else total // 2
        fwd_lanes = max(1, fwd or default_lanes)
        bwd_lanes = max(1, bwd or default_lanes)
        fwd_turns = parse_turn_lanes(tags.get("turn:lanes:forward"), fwd_lanes)
        bwd_turns = parse_turn_lanes(tags.get("turn:lanes:backward"), bwd_lanes)
    return WayAttrs(
        road_class=road_class,
        forward=direction >= 0,
        backward=direction <= 0,
        speed_fwd_mps=fwd_kmh / 3.6,
        speed_bwd_mps=bwd_kmh / 3.6,
        lanes_fwd=min(fwd_lanes, 8),
        lanes_bwd=min(bwd_lanes, 8),
        turns_fwd=fwd_turns[:8],
        turns_bwd=bwd_turns[:8],
    )
