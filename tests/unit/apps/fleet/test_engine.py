"""Each rule on constructed tracks: alerts open and close exactly where the condition does."""

from __future__ import annotations

import pytest

from opencitybrain.apps.fleet.model import TimeWindow, VehicleClass
from opencitybrain.apps.fleet.rules import RuleConfig, Zone, ZoneRule
from tests.unit.apps.fleet.support import (
    LAT,
    SITE,
    T0,
    east,
    engine,
    events,
    feed,
    msg,
    north,
    square,
)

MIN = 60.0


def test_speeding_against_the_road_limit_opens_once_and_closes() -> None:
    eng = engine()
    speeds = [30, 50, 52, 44, 30]  # road limit 40 + 5 tolerance: 50 and 52 break it
    out = feed(eng, [msg("T1", T0 + 10 * i, east(100 * i), speed=s) for i, s in enumerate(speeds)])
    assert events([out]) == [
        ("open", "speeding", "T1", T0 + 10),
        ("close", "speeding", "T1", T0 + 30),
    ]
    alert = out.opened[0]
    assert alert.value == 50.0
    assert alert.limit == 40.0
    assert alert.closed_at is not None


def test_speeding_against_the_class_limit_off_the_road() -> None:
    eng = engine()
    far = north(500)  # no road within the match radius
    out = feed(eng, [msg("S1", T0, east(0), far, 55), msg("S1", T0 + 5, east(100), far, 65)])
    assert events([out]) == [("open", "speeding", "S1", T0 + 5)]
    assert out.opened[0].limit == 60.0
    assert eng.state.open  # still speeding at the batch's end: stays open


def test_an_alert_open_across_batches_is_not_opened_again() -> None:
    eng = engine()
    a = feed(eng, [msg("T1", T0, east(0), speed=60)])
    b = feed(eng, [msg("T1", T0 + 10, east(100), speed=61)])
    c = feed(eng, [msg("T1", T0 + 20, east(200), speed=20)])
    assert events([a, b, c]) == [
        ("open", "speeding", "T1", T0),
        ("close", "speeding", "T1", T0 + 20),
    ]


def core_rules(windows: list[TimeWindow] | None = None) -> RuleConfig:
    zone = Zone(
        id="core",
        name="老城区核心区",
        ring=square(east(2000), north(0), 300),
        classes=[VehicleClass.MUCK],
        windows=[TimeWindow("07:00", "21:00")] if windows is None else windows,
    )
    return RuleConfig(zones=ZoneRule(zones=[zone]))


def test_no_go_zone_opens_on_entry_and_closes_on_exit() -> None:
    eng = engine(core_rules())
    xs = [1500, 1800, 2000, 2200, 2500]  # the zone spans 1700–2300 m
    out = feed(eng, [msg("M1", T0 + 30 * i, east(x)) for i, x in enumerate(xs)])
    assert events([out]) == [
        ("open", "no_go_zone", "M1", T0 + 30),
        ("close", "no_go_zone", "M1", T0 + 120),
    ]
    assert out.opened[0].subject == "core"


def test_no_go_zone_spares_other_classes_and_other_hours() -> None:
    eng = engine(core_rules())
    taxi = feed(eng, [msg("T1", T0, east(2000))])
    night = T0 + 14 * 3600  # 22:00 Beijing time
    muck_at_night = feed(eng, [msg("M1", night, east(2000))])
    assert [e for e in events([taxi, muck_at_night]) if e[1] == "no_go_zone"] == []


def test_a_window_past_midnight_wraps() -> None:
    eng = engine(core_rules([TimeWindow("22:00", "06:00")]))
    day = feed(eng, [msg("M1", T0, east(2000))])
    night = feed(eng, [msg("M1", T0 + 15 * 3600, east(2000))])  # 23:00
    assert events([day]) == []
    # (The 15 silent hours on duty are a terminal_offline alert, opened and closed.)
    assert [e for e in events([night]) if e[1] == "no_go_zone"] == [
        ("open", "no_go_zone", "M1", T0 + 15 * 3600)
    ]


def test_hazmat_corridor_deviation() -> None:
    eng = engine()
    offsets = [0, 150, 250, 400, 100]  # max deviation 200 m
    out = feed(eng, [msg("H1", T0 + 20 * i, east(1000), north(d)) for i, d in enumerate(offsets)])
    assert events([out]) == [
        ("open", "corridor_deviation", "H1", T0 + 40),
        ("close", "corridor_deviation", "H1", T0 + 80),
    ]
    assert out.opened[0].value == pytest.approx(250, abs=3)


def test_fatigue_after_four_hours_with_short_stops_and_rest_closes_it() -> None:
    eng = engine()
    msgs = []
    t = T0
    # 4 h 30 min of driving every 10 min, with one stop of under 10 minutes (no rest):
    # a rest is measured from the stop's first point to the next moving one.
    for i in range(28):
        stopped = i == 12
        msgs.append(msg("T1", t, east(10 * i), speed=0 if stopped else 30))
        t += 10 * MIN
    # Then a 25-minute rest, sampled every 5 min.
    rest_start = t
    for _ in range(6):
        msgs.append(msg("T1", t, east(300), speed=0))
        t += 5 * MIN
    out = feed(eng, msgs)
    opened = T0 + 250 * MIN  # first point with more than 240 min since the stint began
    closed = rest_start + 20 * MIN
    assert events([out]) == [("open", "fatigue", "T1", opened), ("close", "fatigue", "T1", closed)]
    # After the rest a new stint starts: driving again raises nothing.
    again = feed(eng, [msg("T1", t + MIN, east(400), speed=30)])
    assert events([again]) == []


def test_unauthorised_dwell_outside_sites_but_not_inside() -> None:
    eng = engine()
    road = [msg("M1", T0 + i * 4 * MIN, east(1000), speed=0) for i in range(6)]  # 20 min
    road.append(msg("M1", T0 + 24 * MIN, east(1100), speed=25))
    out = feed(eng, road)
    assert events([out]) == [
        ("open", "unauthorised_dwell", "M1", T0 + 16 * MIN),
        ("close", "unauthorised_dwell", "M1", T0 + 24 * MIN),
    ]
    site_lon = (SITE[0][0] + SITE[1][0]) / 2
    later = T0 + 3600
    at_site = feed(eng, [msg("M1", later + i * 5 * MIN, site_lon, LAT, 0) for i in range(6)])
    # (The 36 silent minutes before are a terminal_offline alert; no dwell at the site.)
    assert [e for e in events([at_site]) if e[1] != "terminal_offline"] == []


def test_terminal_offline_opens_after_silence_and_closes_when_heard() -> None:
    eng = engine()
    feed(eng, [msg("T1", T0, east(0)), msg("S1", T0, east(0), status="off_duty")])
    assert eng.tick(T0 + 9 * MIN) == []
    opened = eng.tick(T0 + 11 * MIN)
    assert [(a.device_id, a.rule.value, a.opened_at.timestamp()) for a in opened] == [
        ("T1", "terminal_offline", T0 + 10 * MIN)
    ]
    assert eng.tick(T0 + 12 * MIN) == []  # already open: not again
    back = feed(eng, [msg("T1", T0 + 13 * MIN, east(10))])
    assert events([back]) == [("close", "terminal_offline", "T1", T0 + 13 * MIN)]


def test_duplicates_and_late_points() -> None:
    eng = engine()
    first = feed(eng, [msg("T1", T0, east(0)), msg("T1", T0, east(0)), msg("T1", T0 + 20, east(5))])
    assert (first.received, first.accepted, first.duplicates) == (3, 2, 1)
    again = feed(eng, [msg("T1", T0 + 20, east(5)), msg("T1", T0 + 10, east(2), speed=90)])
    assert (again.received, again.accepted, again.duplicates) == (2, 1, 1)
    assert again.late.tolist() == [True]
    assert events([again]) == []  # a late point is history only: no speeding alert
    assert eng.state.f("last_t")[eng.fleet.slot["T1"]] == T0 + 20


def test_unknown_devices_and_bad_messages_are_quarantined_with_their_index() -> None:
    eng = engine()
    good = msg("T1", T0, east(0))
    stranger = {**good, "device_id": "X9"}
    bad_plate = {**good, "plate": "ABC", "time": good["time"] + 1000}
    out = feed(eng, [stranger, good, bad_plate])
    assert [(q.index, q.code) for q in out.quarantined] == [
        (0, "fleet.unknown_vehicle"),
        (2, "fleet.bad_plate"),
    ]
    assert out.received == out.accepted + out.duplicates + len(out.quarantined)


def test_a_silence_no_tick_saw_is_still_an_offline_alert_with_the_ticks_id() -> None:
    """Points arriving in one batch across a silence give the alert a tick would have."""
    pts = [msg("T1", T0, east(100)), msg("T1", T0 + 13 * MIN, east(200))]
    ticked = engine()
    feed(ticked, pts[:1])
    opened = ticked.tick(T0 + 11 * MIN)
    back = feed(ticked, pts[1:])
    one_batch = feed(engine(), pts)
    assert [a.id for a in one_batch.opened] == [a.id for a in opened]
    assert [a.closed_at for a in one_batch.closed] == [a.closed_at for a in back.closed]
    assert one_batch.opened[0].opened_at.timestamp() == T0 + 10 * MIN
