"""Decoding position batches: formats, validation, quarantine, GCJ-02 conversion."""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencitybrain.apps.fleet.messages import decode_positions, valid_plate
from opencitybrain.geo.coords import wgs84_to_gcj02

NOW = 1_795_132_800.0  # 2026-11-20T00:00Z


def m(**over: Any) -> dict[str, Any]:
    base = {
        "device_id": "D1",
        "plate": "赣A12345",
        "time": "2026-11-20T07:59:00+08:00",
        "lon": 115.9,
        "lat": 28.68,
        "speed": 30.5,
        "heading": 90,
    }
    return {**base, **over}


@pytest.mark.parametrize(
    "plate", ["赣A12345", "京AD12345", "粤BF1234X", "沪A12345D", "苏D4E567", "赣A1234学"]
)
def test_ga36_plates_are_accepted(plate: str) -> None:
    assert valid_plate(plate)


@pytest.mark.parametrize(
    "plate",
    ["", "赣A1234", "赣a12345", "赣AI2345", "赣A12O45", "AA12345", "赣A1234567", "赣1A2345"],
)
def test_malformed_plates_are_refused(plate: str) -> None:
    assert not valid_plate(plate)


def test_array_and_json_lines_decode_alike() -> None:
    msgs = [m(), m(device_id="D2", time=1_795_132_000_000)]
    a = decode_positions(msgspec.json.encode(msgs), NOW)
    lines = b"\n".join(msgspec.json.encode(x) for x in msgs) + b"\n"
    b = decode_positions(lines, NOW)
    assert a.device.tolist() == b.device.tolist() == ["D1", "D2"]
    assert a.t.tolist() == b.t.tolist() == [1_795_132_740.0, 1_795_132_000.0]
    assert a.speed.tolist() == [30.5, 30.5]
    assert a.on_duty.all()


def test_bad_messages_are_quarantined_and_the_good_ones_kept() -> None:
    msgs = [
        m(),
        m(plate="赣AI2345"),
        m(lon=200.0),
        m(time="2026-11-20T08:00:00"),  # no offset
        m(time=int(NOW * 1000) + 3_600_000),  # an hour in the future
        m(speed=-1),
        {"device_id": "D1"},
        m(crs="gcj02", lon=2.35, lat=48.85),
        m(device_id=""),
    ]
    batch = decode_positions(msgspec.json.encode(msgs), NOW)
    assert batch.index.tolist() == [0]
    assert [(q.index, q.code) for q in batch.quarantined] == [
        (1, "fleet.bad_plate"),
        (2, "fleet.bad_coordinates"),
        (3, "fleet.bad_time"),
        (4, "fleet.bad_time"),
        (5, "fleet.bad_motion"),
        (6, "fleet.bad_message"),
        (7, "fleet.bad_coordinates"),
        (8, "fleet.bad_device"),
    ]
    assert all(" / " in q.reason for q in batch.quarantined)  # Chinese / English


def test_a_broken_line_in_json_lines_is_quarantined_alone() -> None:
    body = msgspec.json.encode(m()) + b"\n{not json\n" + msgspec.json.encode(m(device_id="D3"))
    batch = decode_positions(body, NOW)
    assert batch.device.tolist() == ["D1", "D3"]
    assert batch.index.tolist() == [0, 2]
    assert [q.index for q in batch.quarantined] == [1]


def test_a_broken_array_is_one_quarantined_batch() -> None:
    batch = decode_positions(b"[{", NOW)
    assert len(batch) == 0
    assert batch.received == 1
    assert batch.quarantined[0].code == "fleet.bad_batch"


def test_gcj02_points_come_out_in_wgs84() -> None:
    lon, lat = 115.9, 28.68
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    batch = decode_positions(msgspec.json.encode([m(crs="gcj02", lon=g_lon, lat=g_lat)]), NOW)
    assert batch.lon[0] == pytest.approx(lon, abs=1e-7)
    assert batch.lat[0] == pytest.approx(lat, abs=1e-7)


item = st.one_of(
    st.builds(m, plate=st.sampled_from(["赣A12345", "bad"]), lon=st.floats(-400, 400)),
    st.builds(dict, device_id=st.text(max_size=3)),
    st.just({"junk": 1}),
)


@settings(max_examples=80, deadline=None)
@given(msgs=st.lists(item, max_size=30), lines=st.booleans())
def test_counts_always_add_up(msgs: list[dict[str, Any]], lines: bool) -> None:
    body = b"\n".join(msgspec.json.encode(x) for x in msgs) if lines else msgspec.json.encode(msgs)
    batch = decode_positions(body, NOW)
    assert batch.received == len(msgs)
    assert batch.received == len(batch) + batch.duplicates + len(batch.quarantined)
    assert sorted(batch.index.tolist() + [q.index for q in batch.quarantined]) == list(
        range(len(msgs))
    )


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["wgs84", "gcj02"]),
            st.sampled_from(["on_duty", "off_duty"]),
            st.sampled_from(["赣A12345", "赣AD54321", "京BF1234X", "赣AI1234"]),
            st.floats(0, 120),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_a_batch_decodes_as_its_messages_one_by_one(
    rows: list[tuple[str, str, str, float]],
) -> None:
    """The batch fast paths (one (crs, status) pair, plates seen before) change nothing."""
    msgs = [
        m(crs=c, status=s, plate=p, speed=v, time=1_795_132_800_000 - 1000 * i)
        for i, (c, s, p, v) in enumerate(rows)
    ]
    whole = decode_positions(msgspec.json.encode(msgs), NOW)
    alone = [decode_positions(msgspec.json.encode([x]), NOW) for x in msgs]
    assert [q.code for q in whole.quarantined] == [q.code for b in alone for q in b.quarantined]
    kept = [b for b in alone if len(b)]
    for name in ("t", "lon", "lat", "speed", "on_duty"):
        expected = np.concatenate([getattr(b, name) for b in kept]) if kept else np.array([])
        np.testing.assert_array_equal(getattr(whole, name), expected)


def test_a_json_line_holding_two_messages_is_refused_not_split() -> None:
    good = msgspec.json.encode(m())
    body = good + b"\n" + good[:-1] + b"}, " + msgspec.json.encode(m(device_id="D2"))
    batch = decode_positions(body, NOW)
    assert batch.received == 2
    assert [q.code for q in batch.quarantined] == ["fleet.bad_message"]
    assert list(batch.device) == ["D1"]
