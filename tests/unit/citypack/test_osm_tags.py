"""Tests for reading OSM way tags: class, direction, speed, lanes and turn lanes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencitybrain.citypack.osm_tags import (
    parse_lanes,
    parse_maxspeed,
    parse_turn_lanes,
    way_attrs,
)
from opencitybrain.geo.roadgraph import ALL_TURNS, RoadClass, Turn


@pytest.mark.parametrize(
    ("value", "kmh"),
    [
        ("50", 50.0),
        ("50 km/h", 50.0),
        ("30 mph", 30 * 1.609344),
        ("30mph", 30 * 1.609344),
        ("40;60", 40.0),
        ("walk", 5.0),
        ("none", None),
        ("FI:urban", None),
        ("signals", None),
        ("0", None),
        (None, None),
    ],
)
def test_parse_maxspeed(value: str | None, kmh: float | None) -> None:
    assert parse_maxspeed(value) == (pytest.approx(kmh) if kmh else None)


def test_parse_lanes_and_turn_lanes() -> None:
    assert parse_lanes("2") == 2
    assert parse_lanes("2;3") == 2
    assert parse_lanes("two") is None
    assert parse_lanes("0") is None
    left, through, right = int(Turn.LEFT), int(Turn.THROUGH), int(Turn.RIGHT)
    assert parse_turn_lanes("left|through|through;right", 3) == (left, through, through | right)
    assert parse_turn_lanes("|slight_right", 2) == (through, right)
    assert parse_turn_lanes("left|through", 3) == (ALL_TURNS,) * 3  # does not fit: ignore


@given(st.text(max_size=12))
def test_parse_maxspeed_never_raises(value: str) -> None:
    kmh = parse_maxspeed(value)
    assert kmh is None or kmh > 0


def test_classes_follow_chinese_urban_convention() -> None:
    def cls(highway: str) -> RoadClass:
        attrs = way_attrs({"highway": highway})
        assert attrs is not None
        return attrs.road_class

    assert cls("motorway") == cls("trunk_link") == RoadClass.EXPRESSWAY
    assert cls("primary") == RoadClass.ARTERIAL
    assert cls("secondary") == RoadClass.COLLECTOR
    assert cls("tertiary") == cls("residential") == cls("service") == RoadClass.LOCAL


@pytest.mark.parametrize(
    "tags",
    [
        {"highway": "footway"},
        {"highway": "cycleway"},
        {"highway": "proposed"},
        {"highway": "residential", "access": "private"},
        {"highway": "residential", "motor_vehicle": "no"},
        {"highway": "service", "service": "parking_aisle"},
        {"highway": "pedestrian", "area": "yes"},
        {"highway": "primary", "oneway": "reversible"},
    ],
)
def test_ways_cars_cannot_use_are_dropped(tags: dict[str, str]) -> None:
    assert way_attrs(tags) is None


def test_private_road_open_to_cars_is_kept() -> None:
    assert way_attrs({"highway": "service", "access": "private", "motorcar": "yes"}) is not None


def test_directions() -> None:
    def dirs(**tags: str) -> tuple[bool, bool]:
        attrs = way_attrs({"highway": "residential", **tags})
        assert attrs is not None
        return attrs.forward, attrs.backward

    assert dirs() == (True, True)
    assert dirs(oneway="yes") == (True, False)
    assert dirs(oneway="-1") == (False, True)
    assert dirs(junction="roundabout") == (True, False)
    assert dirs(junction="roundabout", oneway="no") == (True, True)
    motorway = way_attrs({"highway": "motorway"})
    assert motorway is not None
    assert (motorway.forward, motorway.backward) == (True, False)


def test_lanes_and_speeds_per_direction() -> None:
    a = way_attrs({"highway": "primary", "lanes": "5", "lanes:backward": "2", "maxspeed": "60"})
    assert a is not None
    assert (a.lanes_fwd, a.lanes_bwd) == (3, 2)
    assert a.speed_fwd_mps == pytest.approx(60 / 3.6)
    b = way_attrs({"highway": "primary", "lanes": "3", "maxspeed:backward": "40"})
    assert b is not None
    assert (b.lanes_fwd, b.lanes_bwd) == (2, 1)
    assert b.speed_bwd_mps == pytest.approx(40 / 3.6)
    assert b.speed_fwd_mps == pytest.approx(60 / 3.6)  # primary default
    c = way_attrs({"highway": "secondary", "oneway": "yes", "lanes": "3", "turn:lanes": "left||"})
    assert c is not None
    assert c.lanes_fwd == 3
    assert c.turns_fwd == (int(Turn.LEFT), int(Turn.THROUGH), int(Turn.THROUGH))
    d = way_attrs({"highway": "residential", "lanes": "1"})
    assert d is not None
    assert (d.lanes_fwd, d.lanes_bwd) == (1, 1)
