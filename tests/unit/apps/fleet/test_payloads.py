"""MQTT payloads: one message each, a terminal's array, or a gateway's array of many devices."""

from __future__ import annotations

from typing import Any

import msgspec

from opencitybrain.apps.fleet.app import gateway_topic_filter, position_topic_filter, vouched_device
from opencitybrain.apps.fleet.messages import decode_payloads, split_payloads

NOW = 1_795_132_800.0  # 2026-11-20T00:00Z


def m(device: str, i: int, **over: Any) -> dict[str, Any]:
    base = {"device_id": device, "plate": "赣A12345", "time": 1_795_132_000_000 + 1000 * i,
            "lon": 115.9, "lat": 28.68, "speed": 30.0}  # fmt: skip
    return {**base, **over}


def enc(x: Any) -> bytes:
    return msgspec.json.encode(x)


def test_single_payloads_pass_through_unchanged() -> None:
    payloads = [enc(m("D1", 0)), enc(m("D2", 0))]
    raws, devices = split_payloads(payloads, ["D1", "D2"])
    assert raws == payloads
    assert devices == ["D1", "D2"]


def test_a_terminals_array_is_held_to_its_topics_device() -> None:
    """A batch upload (JT/T 808 0x0704 style) on a device topic: each point is vouched."""
    payloads = [enc([m("D1", 0), m("D1", 1), m("D9", 2)]), enc(m("D2", 0))]
    raws, devices = split_payloads(payloads, ["D1", "D2"])
    assert devices == ["D1", "D1", "D1", "D2"]
    batch = decode_payloads(raws, devices, NOW)
    assert batch.received == 4
    assert list(batch.device) == ["D1", "D1", "D2"]
    assert [(q.index, q.code) for q in batch.quarantined] == [(2, "fleet.device_mismatch")]
    assert msgspec.json.decode(raws[2])["device_id"] == "D9"  # the refused message is kept


def test_a_gateways_array_may_name_any_device() -> None:
    body = enc([m(f"D{i}", i) for i in range(5)])
    raws, devices = split_payloads([body, enc(m("D7", 0))], [None, "D7"])
    batch = decode_payloads(raws, devices, NOW)
    assert batch.received == 6
    assert not batch.quarantined
    assert list(batch.device) == ["D0", "D1", "D2", "D3", "D4", "D7"]


def test_an_unreadable_array_is_one_bad_message_and_the_rest_land() -> None:
    raws, devices = split_payloads([b"[{not json", enc(m("D1", 0)), b"[]"], ["D1", "D1", "D1"])
    assert len(raws) == 2  # the empty array holds no message
    batch = decode_payloads(raws, devices, NOW)
    assert [q.code for q in batch.quarantined] == ["fleet.bad_message"]
    assert list(batch.device) == ["D1"]


def test_a_payload_holding_two_bare_messages_is_refused_not_split() -> None:
    two = enc(m("D1", 0)) + b"," + enc(m("D1", 1))
    batch = decode_payloads([two, enc(m("D1", 2))], ["D1", "D1"], NOW)
    assert batch.received == 2
    assert [q.code for q in batch.quarantined] == ["fleet.bad_message"]


def test_topics_say_which_device_they_vouch_for() -> None:
    assert position_topic_filter("nc") == "citybrain/nc/fleet/+/position"
    assert gateway_topic_filter("nc") == "citybrain/nc/fleet/+/positions"
    assert vouched_device("citybrain/nc/fleet/T-1/position") == "T-1"
    assert vouched_device("citybrain/nc/fleet/GW-1/positions") is None
