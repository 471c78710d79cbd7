"""The supervision engine: decode → order → road matching → rules → alerts → state.

The engine does no I/O and reads no clock: the host hands it message bytes and "now"
(epoch seconds) and gets back what happened (:class:`Outcome`). All per-point work is
whole-array numpy and shapely; Python loops run only per alert and per distinct device.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from itertools import repeat

import numpy as np
from numpy.typing import NDArray

from opencitybrain.apps.fleet import detect
from opencitybrain.apps.fleet.alerts import Alert, alert_id, transitions
from opencitybrain.apps.fleet.corridors import off_corridor
from opencitybrain.apps.fleet.detect import Held, Track
from opencitybrain.apps.fleet.matching import RoadMatcher
from opencitybrain.apps.fleet.messages import (
    PositionBatch,
    Quarantined,
    decode_positions,
)
from opencitybrain.apps.fleet.model import CLASSES, Fleet, Vehicle
from opencitybrain.apps.fleet.outcome import Outcome
from opencitybrain.apps.fleet.rules import RuleCode, RuleConfig, Severity
from opencitybrain.apps.fleet.state import FleetState
from opencitybrain.apps.fleet.zones import PermitIndex, ZoneIndex, minute_of_day_beijing
from opencitybrain.geo.projection import LocalProjection
from opencitybrain.geo.roadgraph import RoadGraph

__all__ = ["FleetEngine"]

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]

UNKNOWN = "fleet.unknown_vehicle"
UNKNOWN_REASON = "未登记的车载终端 / no vehicle is registered for this device"


def _utc(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


class FleetEngine:
    """Supervise a fleet against a rule configuration, one batch at a time."""

    def __init__(
        self,
        fleet: Fleet,
        rules: RuleConfig,
        graph: RoadGraph,
        projection: LocalProjection,
    ) -> None:
        self.fleet = fleet
        self.graph = graph
        self.projection = projection
        self.state = FleetState(size=len(fleet))
        self._compile(rules)
        self._permits = PermitIndex(fleet, projection)
        self._classes = np.asarray(fleet.class_codes(), dtype=np.int64)

    # --- configuration ------------------------------------------------------------------

    def _compile(self, rules: RuleConfig) -> None:
        # Build what can refuse the rules first, so refused rules leave the old in force.
        zones = ZoneIndex(rules.active_zones(), self.projection)
        matcher = RoadMatcher(self.graph, self.projection, rules.speeding.match_radius_m)
        self.rules = rules
        self.zones = zones
        self.n_zones = max(len(self.zones.zones), 1)
        self.matcher = matcher
        limits = rules.speeding.class_limits_kmh
        self._class_limit = np.array([limits.get(c, np.inf) for c in CLASSES])
        self._corridor_cls = np.isin(list(CLASSES), rules.corridor.classes)
        self._dwell_cls = np.isin(list(CLASSES), rules.dwell.classes)

    def zone_index(self) -> dict[str, int]:
        """Return the current zone ids with their index."""
        return {z.id: i for i, z in enumerate(self.zones.zones)}

    def set_rules(self, rules: RuleConfig) -> None:
        """Switch to a new rule configuration, keeping state and the alerts still valid."""
        snap = self.state.snapshot(self.fleet)
        self._compile(rules)
        self.state = FleetState.restore(snap, self.fleet, self.zone_index())

    def register(self, vehicles: list[Vehicle]) -> None:
        """Add or update vehicles (their permits take effect from the next batch)."""
        for v in vehicles:
            self.fleet.add(v)
        self.state.grow(len(self.fleet))
        self._permits = PermitIndex(self.fleet, self.projection)
        self._classes = np.asarray(self.fleet.class_codes(), dtype=np.int64)

    def snapshot(self) -> bytes:
        """Serialise the engine state for a worker that takes over."""
        return self.state.snapshot(self.fleet)

    def restore(self, data: bytes) -> None:
        """Replace the engine state with a snapshot's."""
        self.state = FleetState.restore(data, self.fleet, self.zone_index())

    # --- batches ------------------------------------------------------------------------

    def process(self, body: bytes, now: float) -> Outcome:
        """Decode a batch of position messages and run it through the rules."""
        return self.process_batch(decode_positions(body, now), now)

    def process_batch(self, batch: PositionBatch, now: float) -> Outcome:
        """Run decoded positions through duplicates, ordering, rules and state."""
        get = self.fleet.slot.get
        slots = np.fromiter(map(get, batch.device, repeat(-1)), np.int64, len(batch))
        if (slots < 0).any():
            unknown = slots < 0
            extra = [Quarantined(int(i), UNKNOWN, UNKNOWN_REASON) for i in batch.index[unknown]]
            batch = replace(
                batch.take(~unknown), quarantined=sorted(batch.quarantined + extra, key=_index)
            )
            slots = slots[~unknown]
        # One stable sort by (slot, time) orders the batch and finds repeats: a repeat of
        # (device, time) sorts right after its first occurrence in arrival order.
        order = np.lexsort((batch.t, slots))
        slots, t = slots[order], batch.t[order]
        drop = np.zeros(len(t), dtype=np.bool_)
        drop[1:] = (slots[1:] == slots[:-1]) & (t[1:] == t[:-1])
        last_t = self.state.f("last_t")[slots]
        drop |= t == last_t  # sent again after its batch was processed
        if drop.any():
            keep = ~drop
            order, slots, last_t = order[keep], slots[keep], last_t[keep]
            batch = replace(batch, duplicates=batch.duplicates + int(drop.sum()))
        batch = batch.take(order)
        late = batch.t < last_t
        outcome = Outcome(
            received=batch.received,
            accepted=len(batch),
            duplicates=batch.duplicates,
            quarantined=batch.quarantined,
            points=batch,
            slots=slots,
            late=late,
        )
        if not late.any():
            if len(batch):
                self._run(batch, slots, outcome)
        else:
            live = np.flatnonzero(~late)
            if len(live):
                self._run(batch.take(live), slots[live], outcome)
        outcome.opened += self.tick(now)
        return outcome

    def _track(self, b: PositionBatch, slots: I64) -> Track:
        first = np.ones(len(b), dtype=np.bool_)
        first[1:] = slots[1:] != slots[:-1]
        last = np.ones(len(b), dtype=np.bool_)
        last[:-1] = first[1:]
        prev_t = np.where(first, self.state.f("last_t")[slots], np.roll(b.t, 1))
        x, y = self.projection.to_metres(b.lon, b.lat)
        return Track(
            slot=slots, cls=self._classes[slots], t=b.t, lon=b.lon, lat=b.lat, x=x, y=y,
            speed=b.speed, heading=b.heading, on_duty=b.on_duty, first=first, last=last,
            prev_t=prev_t,
        )  # fmt: skip

    def _run(self, batch: PositionBatch, slots: I64, out: Outcome) -> None:
        tr = self._track(batch, slots)
        st = self.state
        r = self.rules
        stopped = tr.speed <= r.stop_speed_kmh
        stop_since = detect.stopped_since(tr, stopped, st.f("stopped_since")[slots])
        drive_since = detect.driving_since(
            tr, stopped, stop_since, st.f("stopped_since")[slots],
            st.f("driving_since")[slots], r.fatigue.min_rest_s,
        )  # fmt: skip
        held: dict[RuleCode, Held] = {}
        if r.zones.enabled and self.zones.zones:
            p, z = self.zones.violations(tr.x, tr.y, tr.cls, minute_of_day_beijing(tr.t))
            held[RuleCode.NO_GO_ZONE] = Held(
                p, slots[p] * self.n_zones + z, np.full(len(p), np.nan), np.full(len(p), np.nan)
            )
        if r.speeding.enabled:
            held[RuleCode.SPEEDING] = self._speeding(tr)
        if r.corridor.enabled:
            held[RuleCode.CORRIDOR_DEVIATION] = off_corridor(
                tr, self._corridor_cls[tr.cls], self._permits, r.corridor.max_deviation_m
            )
        if r.fatigue.enabled:
            with np.errstate(invalid="ignore"):
                driven = tr.t - drive_since
                resting = stopped & (tr.t - stop_since >= r.fatigue.min_rest_s)
                tired = (driven > r.fatigue.max_driving_s) & ~resting
            held[RuleCode.FATIGUE] = Held.of_slots(
                tired, slots, driven / 60.0, r.fatigue.max_driving_s / 60.0
            )
        if r.dwell.enabled:
            with np.errstate(invalid="ignore"):
                dwell = tr.t - stop_since
                long_stop = self._dwell_cls[tr.cls] & stopped & (dwell > r.dwell.max_stop_s)
            cand = np.flatnonzero(long_stop)
            long_stop[cand[self._permits.in_own_site(tr.points_at(cand), slots[cand])]] = False
            held[RuleCode.UNAUTHORISED_DWELL] = Held.of_slots(
                long_stop, slots, dwell / 60.0, r.dwell.max_stop_s / 60.0
            )
        self._close_offline(tr, out)
        first_of_slot = np.full(self.state.size, -1, dtype=np.int64)
        first_of_slot[tr.slot[tr.first]] = np.flatnonzero(tr.first)
        for rule, h in held.items():
            self._alerts(rule, h, tr, first_of_slot, out)
        self._remember(tr, stop_since, drive_since)

    def _speeding(self, tr: Track) -> Held:
        sp = self.rules.speeding
        class_limit = self._class_limit[tr.cls]
        # Only points fast enough to break some nearby road's limit need matching.
        cand = np.flatnonzero(self.matcher.may_speed(tr.x, tr.y, tr.speed, sp.road_tolerance_kmh))
        road_limit = np.full(len(tr), np.nan)
        road_limit[cand] = self.matcher.match(tr.x[cand], tr.y[cand]).limit_kmh
        with np.errstate(invalid="ignore"):
            over = (tr.speed > class_limit) | (tr.speed > road_limit + sp.road_tolerance_kmh)
        return Held.of_slots(over, tr.slot, tr.speed, np.fmin(class_limit, road_limit))

    def _alerts(self, rule: RuleCode, h: Held, tr: Track, first_of_slot: I64, out: Outcome) -> None:
        zoned = rule is RuleCode.NO_GO_ZONE
        per = self.n_zones if zoned else 1
        open_now = self.state.open[rule]
        tx = transitions(
            tr.first, tr.last, first_of_slot, h.point, h.key, self.state.open_keys(rule), per
        )
        if len(tx.close_point) == 0 and len(tx.open_pair) == 0:
            return
        pairs = tx.open_pair
        at = h.point[pairs]
        keys = h.key[pairs].tolist()
        values, limits = _nums(h.values_at(pairs)), _nums(h.limit[pairs])
        lons, lats, slots = tr.lon[at].tolist(), tr.lat[at].tolist(), tr.slot[at].tolist()
        # A key may open, close and open again within one batch: replay in time order.
        # (Times only of the points that change something, not of the whole batch.)
        close_t, open_t = tr.t[tx.close_point].tolist(), tr.t[at].tolist()
        events = sorted(
            list(zip(tx.close_point.tolist(), repeat(0), tx.close_key.tolist(), close_t))
            + list(zip(at.tolist(), repeat(1), range(len(open_t)), open_t))
        )
        severity = self._severity(rule)
        zones, vehicles = self.zones.zones, self.fleet.vehicles
        # Terminals report whole seconds, so many changes share a time: one datetime each.
        utc: dict[float, datetime] = {}
        for _, is_open, ref, when in events:
            stamp = utc.get(when)
            if stamp is None:
                stamp = utc[when] = _utc(when)
            if not is_open:
                closed = open_now.pop(ref, None)
                if closed is not None:
                    closed.closed_at = stamp
                    out.closed.append(closed)
                continue
            key = keys[ref]
            vehicle = vehicles[slots[ref]]
            zone = zones[key % per] if zoned else None
            subject = zone.id if zone else None
            alert = Alert(
                id=alert_id(vehicle.device_id, rule, subject, when),
                device_id=vehicle.device_id,
                plate=vehicle.plate,
                vclass=vehicle.vclass,
                rule=rule,
                subject=subject,
                severity=zone.severity if zone else severity,
                opened_at=stamp,
                lon=lons[ref],
                lat=lats[ref],
                value=values[ref],
                limit=limits[ref],
            )
            open_now[key] = alert
            out.opened.append(alert)

    def _severity(self, rule: RuleCode) -> Severity:
        r = self.rules
        return {
            RuleCode.NO_GO_ZONE: "high",  # each zone carries its own; this is unused
            RuleCode.SPEEDING: r.speeding.severity,
            RuleCode.CORRIDOR_DEVIATION: r.corridor.severity,
            RuleCode.FATIGUE: r.fatigue.severity,
            RuleCode.UNAUTHORISED_DWELL: r.dwell.severity,
            RuleCode.TERMINAL_OFFLINE: r.offline.severity,
        }[rule]

    def _remember(self, tr: Track, stop_since: F64, drive_since: F64) -> None:
        st, p = self.state, np.flatnonzero(tr.last)
        s = tr.slot[p]
        st.f("last_t")[s] = tr.t[p]
        st.f("last_lon")[s] = tr.lon[p]
        st.f("last_lat")[s] = tr.lat[p]
        st.f("last_speed")[s] = tr.speed[p]
        st.f("last_heading")[s] = tr.heading[p]
        st.f("stopped_since")[s] = stop_since[p]
        st.f("driving_since")[s] = drive_since[p]
        st.b("on_duty")[s] = tr.on_duty[p]

    # --- time-driven rules --------------------------------------------------------------

    def _close_offline(self, tr: Track, out: Outcome) -> None:
        """Close offline alerts of terminals heard again; open-and-close missed silences.

        A silence no tick saw (the points arrived in one batch, or a worker replays the
        stream cut differently) is still one: the alert is opened at last report + max
        silence and closed by the report ending it, with the same id a tick gives, so
        the alerts do not depend on where batches or ticks fall.
        """
        offline = self.state.open[RuleCode.TERMINAL_OFFLINE]
        present = np.flatnonzero(tr.first)
        heard: set[int] = set()
        if offline:
            keys = self.state.open_keys(RuleCode.TERMINAL_OFFLINE)
            for p in present[np.isin(tr.slot[present], keys)].tolist():
                alert = offline.pop(int(tr.slot[p]))
                alert.closed_at = _utc(float(tr.t[p]))
                out.closed.append(alert)
                heard.add(p)
        rule = self.rules.offline
        if not rule.enabled:
            return
        st = self.state
        was_on = np.empty(len(tr), dtype=np.bool_)
        was_on[1:] = tr.on_duty[:-1]
        was_on[present] = st.b("on_duty")[tr.slot[present]]
        with np.errstate(invalid="ignore"):
            gap = was_on & (tr.t - tr.prev_t > rule.max_silence_s)
        for p in np.flatnonzero(gap).tolist():
            if p in heard:
                continue
            slot = int(tr.slot[p])
            first = bool(tr.first[p])
            lon = float(st.f("last_lon")[slot]) if first else float(tr.lon[p - 1])
            lat = float(st.f("last_lat")[slot]) if first else float(tr.lat[p - 1])
            alert = self._offline_alert(slot, float(tr.prev_t[p]), lon, lat)
            alert.value = (float(tr.t[p]) - float(tr.prev_t[p])) / 60.0
            alert.closed_at = _utc(float(tr.t[p]))
            out.opened.append(alert)
            out.closed.append(alert)

    def _offline_alert(self, slot: int, last_t: float, lon: float, lat: float) -> Alert:
        rule = self.rules.offline
        vehicle = self.fleet.vehicles[slot]
        t = last_t + rule.max_silence_s
        return Alert(
            id=alert_id(vehicle.device_id, RuleCode.TERMINAL_OFFLINE, None, t),
            device_id=vehicle.device_id,
            plate=vehicle.plate,
            vclass=vehicle.vclass,
            rule=RuleCode.TERMINAL_OFFLINE,
            severity=rule.severity,
            opened_at=_utc(t),
            lon=lon,
            lat=lat,
            limit=rule.max_silence_s / 60.0,
        )

    def tick(self, now: float) -> list[Alert]:
        """Open offline alerts for on-duty terminals silent too long; return them."""
        rule = self.rules.offline
        if not rule.enabled:
            return []
        st = self.state
        with np.errstate(invalid="ignore"):
            silent = st.b("on_duty") & (now - st.f("last_t") > rule.max_silence_s)
        opened = []
        offline = st.open[RuleCode.TERMINAL_OFFLINE]
        for slot in np.flatnonzero(silent).tolist():
            if slot in offline:
                continue
            last_t = float(st.f("last_t")[slot])
            alert = self._offline_alert(
                slot, last_t, float(st.f("last_lon")[slot]), float(st.f("last_lat")[slot])
            )
            alert.value = (now - last_t) / 60.0
            offline[slot] = alert
            opened.append(alert)
        return opened


def _index(q: Quarantined) -> int:
    return q.index


def _nums(values: F64) -> list[float | None]:
    """Return values rounded to 3 decimals, nan as None (JSON has no nan)."""
    rounded = np.round(values, 3)
    finite = np.isfinite(rounded).tolist()
    return [v if ok else None for v, ok in zip(rounded.tolist(), finite, strict=True)]
