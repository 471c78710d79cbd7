"""The standard-address book: road names, door plates along roads, Nanchang's book."""

from __future__ import annotations

import re

import numpy as np
import pytest

from opencitybrain.geo.address_build import (
    MIN_ROAD_M,
    LazyAddressBook,
    build_address_book,
    names_only_book,
)
from opencitybrain.geo.addresses import OFFSET_M, SPACING_M, AddressBook, RoadLines
from opencitybrain.geo.projection import LocalProjection
from opencitybrain.geo.road_names import road_names
from opencitybrain.kernel.errors import InvalidInput

from .nanchang_book import nanchang_book, nanchang_locator, nanchang_pack

PROJECTION = LocalProjection(115.9, 28.7)


def _straight_book() -> AddressBook:
    """Return a book of one 100 m road running east, then one running north then east."""
    x0, y0 = PROJECTION.to_metres(115.9, 28.7)
    x = np.array([x0, x0 + 100.0, x0, x0, x0 + 30.0])
    y = np.array([y0, y0, y0 + 500.0, y0 + 540.0, y0 + 540.0])
    lines = RoadLines(np.array([0, 2, 5]), x, y, PROJECTION)
    return AddressBook(
        np.array(["360102001", "360102001"]),
        np.array(["东湖区第01街道", "东湖区第01街道"]),
        np.array(["青山路", "湖滨大道"]),
        2 * np.floor(lines.lengths / SPACING_M).astype(np.int64),
        lines,
    )


def _metres(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x0, y0 = PROJECTION.to_metres(115.9, 28.7)
    x, y = PROJECTION.to_metres(lon, lat)
    return x - x0, y - y0


def test_road_names_are_distinct_stable_and_hold_no_digits() -> None:
    names = road_names("360102001", 800)
    assert len(set(names)) == 800
    assert names == road_names("360102001", 800)
    assert names[:20] != road_names("360102002", 20)
    assert not any(re.search(r"\d", n) for n in names)
    assert all(n.endswith("路") for n in names[240:])
    assert "青山一路" in names
    with pytest.raises(ValueError):
        road_names("360102001", 10_000)


def test_door_plates_pair_up_along_the_road_odd_left_even_right() -> None:
    book = _straight_book()
    assert book.doors.tolist() == [20, 14]  # 100 m → 10 pairs; 70 m → 7 pairs
    lon, lat = book.door_points([0, 0, 0, 0, 0, 0, -1, 2], [1, 2, 19, 20, 21, 0, 1, 1])
    x, y = _metres(lon, lat)
    np.testing.assert_allclose(x[:4], [5.0, 5.0, 95.0, 95.0], atol=1e-6)
    np.testing.assert_allclose(y[:4], [OFFSET_M, -OFFSET_M, OFFSET_M, -OFFSET_M], atol=1e-6)
    assert np.isnan(lon[4:]).all()  # past the road's end, number 0, unknown roads


def test_door_plates_follow_a_bent_road() -> None:
    book = _straight_book()
    lon, lat = book.door_points([1, 1, 1], [1, 9, 10])  # 5 m, 45 m (after the bend at 40 m)
    x, y = _metres(lon, lat)
    # Heading north, left is west; heading east, left is north.
    np.testing.assert_allclose(x, [-OFFSET_M, 5.0, 5.0], atol=1e-6)
    np.testing.assert_allclose(y, [505.0, 540.0 + OFFSET_M, 540.0 - OFFSET_M], atol=1e-6)


def test_a_book_rejects_repeated_roads_and_bad_lines() -> None:
    with pytest.raises(InvalidInput):
        AddressBook(
            np.array(["360102001", "360102001"]), np.array(["a", "a"]),
            np.array(["青山路", "青山路"]), np.array([2, 2]),
        )  # fmt: skip
    with pytest.raises(InvalidInput):
        RoadLines(np.array([0, 1]), np.array([0.0]), np.array([0.0]), PROJECTION)


def test_a_names_only_book_names_roads_but_places_none() -> None:
    book = names_only_book([("360102001", "东湖区第01街道"), ("360102002", "东湖区第02街道")])
    assert len(book) == 16
    assert (book.doors >= 40).all()
    assert book.lines is None
    assert np.isnan(book.door_points([0], [1])[0]).all()


@pytest.mark.slow
def test_every_door_of_nanchang_lies_in_its_own_street() -> None:
    pack, book = nanchang_pack(), nanchang_book()
    assert pack.divisions is not None
    assert set(book.street.tolist()) == {s.code for s in pack.divisions.streets}
    assert (book.doors >= 2 * MIN_ROAD_M / SPACING_M).all()
    road = np.repeat(np.arange(len(book)), book.doors)
    number = np.concatenate([np.arange(1, d + 1) for d in book.doors.tolist()])
    found = nanchang_locator().locate(*book.door_points(road, number))
    assert (found.street == book.street[road]).all()
    assert (found.community != "").all()
    # Every community has door plates (made-up village roads where no link reaches it).
    assert set(found.community.tolist()) == {c.code for c in pack.divisions.communities}
    # Grids cover built-up land near the pack's roads: 79 % of the doors are in one, always
    # a grid of their street; village roads far from the network are in none.
    gridded = found.grid != ""
    assert gridded.mean() > 0.75
    assert (found.grid[gridded].astype("<U9") == book.street[road][gridded]).all()
    again = build_address_book(pack.graph, pack.divisions)
    assert again.keys == book.keys
    assert (again.doors == book.doors).all()


def test_the_platforms_book_is_built_on_first_use_and_equals_the_eager_one() -> None:
    pack = nanchang_pack()
    assert pack.divisions is not None
    lazy = LazyAddressBook(pack.graph, pack.divisions)
    assert lazy._book is None  # a platform start that never geocodes never pays for it
    book = nanchang_book()
    assert list(lazy.keys) == book.keys
    road, number = np.array([0, 1, 2]), np.array([1, 2, 10**6])
    got, want = lazy.door_points(road, number), book.door_points(road, number)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert np.isnan(got[0][2])  # no such door on a short road
    assert lazy.book is lazy.book  # built once
