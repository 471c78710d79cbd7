"""The supervision engine: decode → order → road matching → rules → alerts → state.

The engine does no I/O and reads no clock: the host hands it message bytes and "now"
(epoch seconds) and gets back what happened (:class:`Outcome`). All per-point work is
whole-array numpy and shapely; Python loops run only per alert and per distinct device.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray

from opencitybrain.apps.fleet import detect
from opencitybrain.apps.fleet.alerts import Alert, alert_id, transitions
from opencitybrain.apps.fleet.detect import Held, Track
from opencitybrain.apps.fleet.matching import RoadMatcher
from opencitybrain.apps.fleet.messages import (
    PositionBatch,
    Quarantined,
    decode_positions,
    drop_duplicates,
)
from opencitybrain.apps.fleet.model import CLASSES, Fleet, Vehicle
from opencitybrain.apps.fleet.rules import RuleCode, RuleConfig, Severity
from opencitybrain.apps.fleet.state import FleetState
from opencitybrain.apps.fleet.zones import PermitIndex, ZoneIndex, minute_of_day_beijing
from opencitybrain.geo.projection import LocalProjection
from opencitybrain.geo.roadgraph import RoadGraph

__all__ = ["FleetEngine", "Outcome"]

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]

UNKNOWN = "fleet.unknown_vehicle"
UNKNOWN_REASON = "未登记的车载终端 / no vehicle is registered for this device"


@dataclass(eq=False)
class Outcome:
    """Say what one batch did: counts, quarantine, accepted points, alerts opened/closed.

    ``points`` holds every accepted point (late ones too, for history); ``late`` marks
    those older than their vehicle's last point, which did not drive state or rules.
    """

    received: int
    accepted: int
    duplicates: int
    quarantined: list[Quarantined]
    points: PositionBatch
    slots: I64
    late: NDArray[np.bool_]
    opened: list[Alert] = field(default_factory=list)
    closed: list[Alert] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        """Return the ingest answer: received, accepted, duplicates, quarantined."""
        return {
            "received": self.received,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "quarantined": [
                {"index": q.index, "code": q.code, "reason": q.reason} for q in self.quarantined
            ],
        }


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
        self.rules = rules
        self.zones = ZoneIndex(rules.zones.zones if rules.zones.enabled else [], self.projection)
        self.n_zones = max(len(self.zones.zones), 1)
        self.matcher = RoadMatcher(self.graph, self.projection, rules.speeding.match_radius_m)
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
        slots = np.fromiter((get(d, -1) for d in batch.device), np.int64, len(batch))
        if (slots < 0).any():
            unknown = slots < 0
            extra = [Quarantined(int(i), UNKNOWN, UNKNOWN_REASON) for i in batch.index[unknown]]
            batch = replace(
                batch.take(~unknown), quarantined=sorted(batch.quarantined + extra, key=_index)
            )
            slots = slots[~unknown]
        batch_d = drop_duplicates(batch, slots)
        if len(batch_d) != len(batch):
            slots = np.fromiter((get(d, -1) for d in batch_d.device), np.int64, len(batch_d))
        batch = batch_d
        order = np.lexsort((batch.t, slots))
        batch, slots = batch.take(order), slots[order]
        last_t = self.state.f("last_t")[slots]
        repeat = batch.t == last_t  # sent again after its batch was processed
        if repeat.any():
            batch, slots, last_t = batch.take(~repeat), slots[~repeat], last_t[~repeat]
            batch = replace(batch, duplicates=batch.duplicates + int(repeat.sum()))
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
            p, z = self.zones.violations(tr.points, tr.cls, minute_of_day_beijing(tr.t))
            held[RuleCode.NO_GO_ZONE] = Held(
                p, slots[p] * self.n_zones + z, np.full(len(p), np.nan), np.full(len(p), np.nan)
            )
        if r.speeding.enabled:
            held[RuleCode.SPEEDING] = self._speeding(tr)
        if r.corridor.enabled:
            sel = np.flatnonzero(self._corridor_cls[tr.cls] & self._permits.has_corridor[slots])
            dist = np.full(len(tr), np.nan)
            dist[sel] = self._permits.corridor_distance(tr.points[sel], slots[sel])
            with np.errstate(invalid="ignore"):
                off = dist > r.corridor.max_deviation_m
            held[RuleCode.CORRIDOR_DEVIATION] = Held.of_slots(
                off, slots, dist, r.corridor.max_deviation_m
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
            long_stop[cand[self._permits.in_own_site(tr.points[cand], slots[cand])]] = False
            held[RuleCode.UNAUTHORISED_DWELL] = Held.of_slots(
                long_stop, slots, dwell / 60.0, r.dwell.max_stop_s / 60.0
            )
        self._close_offline(tr, out)
        for rule, h in held.items():
            self._alerts(rule, h, tr, out)
        self._remember(tr, stop_since, drive_since)

    def _speeding(self, tr: Track) -> Held:
        sp = self.rules.speeding
        class_limit = self._class_limit[tr.cls]
        floor = np.minimum(class_limit, self.matcher.min_limit_kmh + sp.road_tolerance_kmh)
        # Only points fast enough to break some limit need a road: most do not.
        cand = np.flatnonzero(tr.speed > floor)
        road_limit = np.full(len(tr), np.nan)
        road_limit[cand] = self.matcher.match(tr.x[cand], tr.y[cand]).limit_kmh
        with np.errstate(invalid="ignore"):
            over = (tr.speed > class_limit) | (tr.speed > road_limit + sp.road_tolerance_kmh)
        return Held.of_slots(over, tr.slot, tr.speed, np.fmin(class_limit, road_limit))

    def _alerts(self, rule: RuleCode, h: Held, tr: Track, out: Outcome) -> None:
        per = self.n_zones if rule is RuleCode.NO_GO_ZONE else 1
        first_of_slot = np.full(self.state.size, -1, dtype=np.int64)
        first_of_slot[tr.slot[tr.first]] = np.flatnonzero(tr.first)
        tx = transitions(
            tr.first, tr.last, first_of_slot, h.point, h.key, self.state.open_keys(rule), per
        )
        events = [
            (int(p), 0, int(k), -1) for p, k in zip(tx.close_point, tx.close_key, strict=True)
        ]
        events += [(int(h.point[i]), 1, int(h.key[i]), int(i)) for i in tx.open_pair]
        events.sort()
        sev = self._severity(rule)
        for p, is_open, key, pair in events:
            if not is_open:
                alert = self.state.open.pop((rule, key), None)
                if alert is not None:
                    alert.closed_at = _utc(float(tr.t[p]))
                    out.closed.append(alert)
                continue
            slot = int(tr.slot[p])
            vehicle = self.fleet.vehicles[slot]
            zone = self.zones.zones[key % per] if rule is RuleCode.NO_GO_ZONE else None
            subject = zone.id if zone else None
            t = float(tr.t[p])
            alert = Alert(
                id=alert_id(vehicle.device_id, rule, subject, t),
                device_id=vehicle.device_id,
                plate=vehicle.plate,
                vclass=vehicle.vclass.value,
                rule=rule,
                subject=subject,
                severity=zone.severity if zone else sev,
                opened_at=_utc(t),
                lon=float(tr.lon[p]),
                lat=float(tr.lat[p]),
                value=_num(h.value[pair]),
                limit=_num(h.limit[pair]),
            )
            self.state.open[(rule, key)] = alert
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
        for p in np.flatnonzero(tr.first):
            alert = self.state.open.pop((RuleCode.TERMINAL_OFFLINE, int(tr.slot[p])), None)
            if alert is not None:
                alert.closed_at = _utc(float(tr.t[p]))
                out.closed.append(alert)

    def tick(self, now: float) -> list[Alert]:
        """Open offline alerts for on-duty terminals silent too long; return them."""
        rule = self.rules.offline
        if not rule.enabled:
            return []
        st = self.state
        with np.errstate(invalid="ignore"):
            silent = st.b("on_duty") & (now - st.f("last_t") > rule.max_silence_s)
        opened = []
        for slot in np.flatnonzero(silent).tolist():
            key = (RuleCode.TERMINAL_OFFLINE, slot)
            if key in st.open:
                continue
            vehicle = self.fleet.vehicles[slot]
            t = float(st.f("last_t")[slot]) + rule.max_silence_s
            alert = Alert(
                id=alert_id(vehicle.device_id, RuleCode.TERMINAL_OFFLINE, None, t),
                device_id=vehicle.device_id,
                plate=vehicle.plate,
                vclass=vehicle.vclass.value,
                rule=RuleCode.TERMINAL_OFFLINE,
                severity=rule.severity,
                opened_at=_utc(t),
                lon=float(st.f("last_lon")[slot]),
                lat=float(st.f("last_lat")[slot]),
                value=(now - float(st.f("last_t")[slot])) / 60.0,
                limit=rule.max_silence_s / 60.0,
            )
            st.open[key] = alert
            opened.append(alert)
        return opened


def _index(q: Quarantined) -> int:
    return q.index


def _num(value: float) -> float | None:
    return None if not np.isfinite(value) else round(float(value), 3)
