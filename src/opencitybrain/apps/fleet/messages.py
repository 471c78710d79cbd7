"""Position messages from vehicle terminals, decoded in batches into numpy columns.

A batch is a JSON array of messages or JSON lines (one message per line). Decoding never
fails as a whole: each message that cannot be read or breaks a rule goes to the quarantine
with its index in the batch and a reason, and the good ones continue. Counts always add up:
``received == accepted + duplicates + len(quarantined)``.

Coordinates arrive in WGS-84 or GCJ-02 (what Chinese map SDKs report); GCJ-02 points are
converted to WGS-84 here, vectorised, so everything downstream is WGS-84.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain
from operator import attrgetter
from typing import Literal

import msgspec
import numpy as np
from numpy.typing import NDArray

from opencitybrain.geo.coords import gcj02_to_wgs84, out_of_china

__all__ = [
    "PositionBatch",
    "PositionMessage",
    "Quarantined",
    "decode_payloads",
    "decode_positions",
    "split_payloads",
    "valid_plate",
]

F64 = NDArray[np.float64]

# GA 36: province character, issuing-authority letter, then 5 serial characters
# (ordinary) or 6 (new energy: small NEV starts with D or F, large NEV ends with D or F).
# I and O never appear in a serial. The last character may be one of the special suffixes
# (学 driving school, 警 police, 挂 trailer, 港/澳 cross-border, 领/使 diplomatic).
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_SERIAL = "[A-HJ-NP-Z0-9]"
_PLATE_RE = re.compile(
    rf"^[{_PROVINCES}][A-HJ-NP-Z]"
    rf"(?:{_SERIAL}{{4}}[A-HJ-NP-Z0-9学警挂港澳领使]"  # ordinary: 5 serial characters
    rf"|[DF]{_SERIAL}{{5}}"  # small new-energy: D or F, then 5
    rf"|{_SERIAL}{{5}}[DF])$"  # large new-energy: 5, then D or F
)
# Terminals send local Beijing time or UTC; anything earlier than this is a dead RTC
# battery (terminals reset to 2000-01-01), not a position.
_EARLIEST = datetime(2010, 1, 1, tzinfo=UTC).timestamp()
MAX_FUTURE_S = 300.0
MAX_SPEED_KMH = 250.0


class PositionMessage(msgspec.Struct, frozen=True, gc=False):
    """Hold one position report as a terminal sends it.

    ``time`` is RFC 3339 with an offset, or epoch milliseconds. ``crs`` names the datum of
    lon/lat. ``speed`` is km/h, ``heading`` degrees clockwise from north.
    """

    device_id: str
    plate: str
    time: datetime | int
    lon: float
    lat: float
    crs: Literal["wgs84", "gcj02"] = "wgs84"
    speed: float = 0.0
    heading: float = 0.0
    status: Literal["on_duty", "off_duty"] = "on_duty"


class Quarantined(msgspec.Struct, frozen=True):
    """Say which message of a batch was refused and why (stable code, zh + en reason)."""

    index: int
    code: str
    reason: str


@dataclass(frozen=True, eq=False)
class PositionBatch:
    """Hold the accepted messages of one batch as columns, in arrival order.

    ``index`` maps each row to the message's position in the batch as received.
    """

    index: NDArray[np.int64]
    device: NDArray[np.object_]  # str; object arrays so selecting rows is one C call
    plate: NDArray[np.object_]
    t: F64
    lon: F64
    lat: F64
    speed: F64
    heading: F64
    on_duty: NDArray[np.bool_]
    received: int = 0
    duplicates: int = 0
    quarantined: list[Quarantined] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.t)

    def take(self, rows: NDArray[np.int64] | NDArray[np.bool_]) -> PositionBatch:
        """Return a batch with only the given rows (counts and quarantine kept)."""
        sel = np.flatnonzero(rows) if rows.dtype == np.bool_ else rows
        return PositionBatch(
            index=self.index[sel],
            device=self.device[sel],
            plate=self.plate[sel],
            t=self.t[sel],
            lon=self.lon[sel],
            lat=self.lat[sel],
            speed=self.speed[sel],
            heading=self.heading[sel],
            on_duty=self.on_duty[sel],
            received=self.received,
            duplicates=self.duplicates,
            quarantined=self.quarantined,
        )


# Plates already seen valid: a fleet repeats the same plates all day, so a set lookup
# replaces the regex for nearly every message. Bounded, so junk cannot grow it forever.
_GOOD_PLATES: set[str] = set()
_MAX_CACHED = 1_000_000


def valid_plate(plate: str) -> bool:
    """Tell whether a plate number is well-formed per GA 36."""
    if plate in _GOOD_PLATES:
        return True
    ok = _PLATE_RE.match(plate) is not None
    if ok and len(_GOOD_PLATES) < _MAX_CACHED:
        _GOOD_PLATES.add(plate)
    return ok


_TIME = attrgetter("time")
_LON = attrgetter("lon")
_LAT = attrgetter("lat")
_SPEED = attrgetter("speed")
_HEADING = attrgetter("heading")
_CRS = attrgetter("crs")
_STATUS = attrgetter("status")
_NUMBERS = attrgetter("time", "lon", "lat", "speed", "heading")
_DEVICE = attrgetter("device_id")
_PLATE = attrgetter("plate")
_ALL = msgspec.json.Decoder(list[PositionMessage])
_RAW = msgspec.json.Decoder(list[msgspec.Raw])
_ONE = msgspec.json.Decoder(PositionMessage)


def _split(body: bytes) -> tuple[list[PositionMessage | None], list[Quarantined]]:
    """Decode every message, each alone when the whole batch does not decode in one go."""
    stripped = body.lstrip()
    if stripped.startswith(b"["):
        try:
            return list(_ALL.decode(stripped)), []
        except msgspec.DecodeError:
            pass  # decode message by message below, to quarantine only the bad ones
        try:
            raws: list[bytes | msgspec.Raw] = list(_RAW.decode(stripped))
        except msgspec.DecodeError as exc:
            reason = f"批次不是合法的 JSON 数组 / batch is not a valid JSON array: {exc}"
            return [None], [Quarantined(0, "fleet.bad_batch", reason)]
    else:
        raws = [line for line in stripped.splitlines() if line.strip()]
        try:  # JSON lines: all good lines decode in one call, as an array would
            whole = _ALL.decode(b"[" + b",".join(raws) + b"]")
            if len(whole) == len(raws):  # (a line holding two messages is refused below)
                return list(whole), []
        except msgspec.DecodeError:
            pass
    return _each(raws)


def _each(
    raws: Sequence[bytes | msgspec.Raw],
) -> tuple[list[PositionMessage | None], list[Quarantined]]:
    out: list[PositionMessage | None] = []
    bad: list[Quarantined] = []
    for i, raw in enumerate(raws):
        try:
            out.append(_ONE.decode(raw))
        except msgspec.DecodeError as exc:
            out.append(None)
            bad.append(Quarantined(i, "fleet.bad_message", f"消息无法解析 / unreadable: {exc}"))
    return out, bad


def _split_payloads(
    payloads: Sequence[bytes],
) -> tuple[list[PositionMessage | None], list[Quarantined]]:
    """Decode one message per payload (MQTT), in one call when all of them are good."""
    try:
        whole = _ALL.decode(b"[" + b",".join(payloads) + b"]")
        if len(whole) == len(payloads):  # (a payload holding two messages is refused below)
            return list(whole), []
    except msgspec.DecodeError:
        pass
    return _each(payloads)


def _epoch(value: datetime | int) -> float:
    if isinstance(value, int):
        return value / 1000.0
    if value.tzinfo is None:
        return float("nan")  # naive times are ambiguous: refused below
    return value.timestamp()


def decode_positions(body: bytes, now: float) -> PositionBatch:
    """Decode a batch (JSON array or JSON lines) and validate each message.

    ``now`` (epoch seconds, from the caller's clock) bounds times from the future.
    Duplicates are left to the engine, once devices have integer keys.
    """
    msgs, quarantined = _split(body)
    return _validate(msgs, quarantined, now, None)


def split_payloads(
    payloads: Sequence[bytes], devices: Sequence[str | None]
) -> tuple[list[bytes], list[str | None]]:
    """Return one payload per message: JSON-array payloads are split into their messages.

    A terminal may send several of its points in one publish (JT/T 808's batch upload
    after a blind zone), an access gateway many vehicles' points; each message keeps the
    device its payload was vouched for (``None``: a gateway, not tied to one device).
    A payload that is not a readable array stays whole and is refused when decoded.
    """
    if not any(p[:1] == b"[" or p.lstrip()[:1] == b"[" for p in payloads):
        return list(payloads), list(devices)
    raws: list[bytes] = []
    claimed: list[str | None] = []
    for payload, device in zip(payloads, devices, strict=True):
        if payload.lstrip()[:1] == b"[":
            try:
                parts = [bytes(r) for r in _RAW.decode(payload)]
            except msgspec.DecodeError:
                parts = [payload]
        else:
            parts = [payload]
        raws += parts
        claimed += [device] * len(parts)
    return raws, claimed


def decode_payloads(
    payloads: Sequence[bytes], devices: Sequence[str | None], now: float
) -> PositionBatch:
    """Decode one message per payload, each sent for the device named beside it.

    ``devices`` are the device ids the transport vouches for (the MQTT topic, which the
    broker's ACL ties to the terminal's credentials): a message claiming another device
    is quarantined, so one terminal cannot report positions for another. ``None``
    vouches for no device (an access gateway's channel, trusted like HTTP ingest).
    """
    msgs, quarantined = _split_payloads(payloads)
    return _validate(msgs, quarantined, now, devices)


def _validate(
    msgs: list[PositionMessage | None],
    quarantined: list[Quarantined],
    now: float,
    expected: Sequence[str | None] | None,
) -> PositionBatch:
    # Nearly every batch decodes whole: then the decoded list is the accepted list.
    ok: list[PositionMessage] = (
        msgs if not quarantined else [m for m in msgs if m is not None]  # type: ignore[assignment]
    )
    n = len(ok)
    rows = (
        np.arange(n, dtype=np.int64)
        if n == len(msgs)
        else np.fromiter((i for i, m in enumerate(msgs) if m is not None), np.int64, n)
    )
    try:  # epoch milliseconds everywhere: the five numbers of each message in one pass
        # One flat iterator of floats into one buffer: np.array over a list of tuples
        # first discovers the nesting, which cost three times as much (measured).
        flat = np.fromiter(chain.from_iterable(map(_NUMBERS, ok)), np.float64, 5 * n)
        nums = flat.reshape(n, 5).T.copy()
        t, lon, lat, speed, heading = nums[0] / 1000.0, nums[1], nums[2], nums[3], nums[4]
    except TypeError:  # some RFC 3339 times among them
        t = np.fromiter(map(_epoch, map(_TIME, ok)), np.float64, n)
        lon = np.fromiter(map(_LON, ok), np.float64, n)
        lat = np.fromiter(map(_LAT, ok), np.float64, n)
        speed = np.fromiter(map(_SPEED, ok), np.float64, n)
        heading = np.fromiter(map(_HEADING, ok), np.float64, n)
    # crs and status: nearly always one value each in a batch (no tuple per message).
    crs_seen, status_seen = set(map(_CRS, ok)), set(map(_STATUS, ok))
    if len(crs_seen) == 1:
        gcj = np.full(n, "gcj02" in crs_seen)
    else:
        gcj = np.fromiter(map("gcj02".__eq__, map(_CRS, ok)), np.bool_, n)
    if len(status_seen) == 1:
        on_duty = np.full(n, "on_duty" in status_seen)
    else:
        on_duty = np.fromiter(map("on_duty".__eq__, map(_STATUS, ok)), np.bool_, n)
    devices = list(map(_DEVICE, ok))
    plates = list(map(_PLATE, ok))
    if _GOOD_PLATES.issuperset(plates):  # every plate seen valid before: one C-level pass
        plates_ok = np.ones(n, dtype=np.bool_)
    else:
        plates_ok = np.fromiter(map(_GOOD_PLATES.__contains__, plates), np.bool_, n)
        for i in np.flatnonzero(~plates_ok).tolist():
            plates_ok[i] = valid_plate(plates[i])
    id_len = np.fromiter(map(len, devices), np.int64, n)
    devices_ok = (id_len > 0) & (id_len <= 64)
    vouched = np.ones(n, dtype=np.bool_)
    if expected is not None:
        claimed = [expected[i] for i in rows.tolist()]
        if None in claimed:  # a gateway's messages: no device to hold them to
            vouched = np.fromiter(map(_vouched, devices, claimed), np.bool_, n)
        else:
            vouched = np.fromiter(map(str.__eq__, devices, claimed), np.bool_, n)

    # Checks in order of precedence: a message gets the first reason that applies.
    checks: list[tuple[NDArray[np.bool_], str, str]] = [
        (
            ~devices_ok,
            "fleet.bad_device",
            "终端编号须为 1–64 个字符 / device id must be 1–64 chars",
        ),
        (
            ~vouched,
            "fleet.device_mismatch",
            "消息中的终端编号与主题不符 / device id differs from the topic's",
        ),
        (~plates_ok, "fleet.bad_plate", "车牌号不符合 GA 36 / plate is not a GA 36 plate number"),
        (
            ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)),
            "fleet.bad_coordinates",
            "经纬度超出范围 / longitude or latitude out of range",
        ),
        (
            gcj & np.asarray(out_of_china(lon, lat), dtype=np.bool_),
            "fleet.bad_coordinates",
            "GCJ-02 坐标不在中国境内 / GCJ-02 point outside China",
        ),
        (
            ~(np.isfinite(t) & (t >= _EARLIEST) & (t <= now + MAX_FUTURE_S)),
            "fleet.bad_time",
            "时间缺少时区、过早或在未来 / time lacks an offset, is too old or in the future",
        ),
        (
            ~((speed >= 0) & (speed <= MAX_SPEED_KMH) & (heading >= 0) & (heading <= 360)),
            "fleet.bad_motion",
            "速度须为 0–250 km/h，方向须为 0–360° / speed 0–250 km/h, heading 0–360°",
        ),
    ]
    bad = np.zeros(len(ok), dtype=np.bool_)
    for mask, code, reason in checks:
        new = mask & ~bad
        quarantined.extend(Quarantined(int(rows[i]), code, reason) for i in np.flatnonzero(new))
        bad |= new
    quarantined.sort(key=lambda q: q.index)

    if gcj.any():
        conv = gcj & ~bad
        lon[conv], lat[conv] = gcj02_to_wgs84(lon[conv], lat[conv])
    batch = PositionBatch(
        index=rows,
        device=_objects(devices),
        plate=_objects(plates),
        t=t,
        lon=lon,
        lat=lat,
        speed=speed,
        heading=heading,
        on_duty=on_duty,
        received=len(msgs),
        quarantined=quarantined,
    )
    return batch.take(~bad) if bad.any() else batch


def _vouched(device: str, claimed: str | None) -> bool:
    return claimed is None or device == claimed


def _objects(items: list[str]) -> NDArray[np.object_]:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out
