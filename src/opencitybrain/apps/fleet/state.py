"""Per-vehicle engine state in numpy arrays indexed by slot, with snapshot and restore.

The engine does no I/O: the host persists :meth:`FleetState.snapshot` bytes (msgpack)
and a worker taking over a partition restores them. Snapshots name vehicles by device id,
not slot, so they restore into a fleet registered in a different order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import msgspec
import numpy as np
from numpy.typing import NDArray

from opencitybrain.apps.fleet.alerts import Alert
from opencitybrain.apps.fleet.model import Fleet
from opencitybrain.apps.fleet.rules import RuleCode

__all__ = ["FleetState", "StateSnapshot"]


def _no_alerts() -> dict[RuleCode, dict[int, Alert]]:
    return {rule: {} for rule in RuleCode}


SNAPSHOT_VERSION = 1


class StateSnapshot(msgspec.Struct, frozen=True):
    """Hold a serialised engine state; arrays are little-endian float64/bool bytes."""

    version: int
    devices: list[str]
    arrays: dict[str, bytes]
    alerts: list[Alert]


@dataclass(eq=False)
class FleetState:
    """Hold the latest known facts about every vehicle slot, and the open alerts."""

    FLOATS: ClassVar[tuple[str, ...]] = (
        "last_t",
        "last_lon",
        "last_lat",
        "last_speed",
        "last_heading",
        "stopped_since",
        "driving_since",
    )
    BOOLS: ClassVar[tuple[str, ...]] = ("on_duty",)

    size: int = 0
    arrays: dict[str, NDArray[np.float64] | NDArray[np.bool_]] = field(default_factory=dict)
    # Open alerts by rule, then key.
    open: dict[RuleCode, dict[int, Alert]] = field(default_factory=_no_alerts)

    def __post_init__(self) -> None:
        for name in self.FLOATS:
            self.arrays.setdefault(name, np.full(self.size, np.nan))
        for name in self.BOOLS:
            self.arrays.setdefault(name, np.zeros(self.size, dtype=np.bool_))

    def f(self, name: str) -> NDArray[np.float64]:
        """Return a float array by name."""
        return self.arrays[name]  # type: ignore[return-value]

    def b(self, name: str) -> NDArray[np.bool_]:
        """Return a bool array by name."""
        return self.arrays[name]  # type: ignore[return-value]

    def grow(self, size: int) -> None:
        """Make room for ``size`` slots (new slots start unknown)."""
        if size <= self.size:
            return
        extra = size - self.size
        for name in self.FLOATS:
            self.arrays[name] = np.concatenate([self.f(name), np.full(extra, np.nan)])
        for name in self.BOOLS:
            self.arrays[name] = np.concatenate([self.b(name), np.zeros(extra, dtype=np.bool_)])
        self.size = size

    def open_keys(self, rule: RuleCode) -> NDArray[np.int64]:
        """Return the keys of a rule's open alerts."""
        return np.fromiter(self.open[rule], np.int64, len(self.open[rule]))

    def open_alerts(self) -> list[Alert]:
        """Return every open alert."""
        return [a for alerts in self.open.values() for a in alerts.values()]

    def snapshot(self, fleet: Fleet) -> bytes:
        """Serialise the state (msgpack), naming slots by device id."""
        devices = [v.device_id for v in fleet.vehicles[: self.size]]
        snap = StateSnapshot(
            version=SNAPSHOT_VERSION,
            devices=devices,
            arrays={
                k: v.astype(v.dtype.newbyteorder("<")).tobytes() for k, v in self.arrays.items()
            },
            alerts=self.open_alerts(),
        )
        return msgspec.msgpack.encode(snap)

    @classmethod
    def restore(cls, data: bytes, fleet: Fleet, zone_index: dict[str, int]) -> FleetState:
        """Rebuild a state from :meth:`snapshot` bytes onto the slots of ``fleet``.

        ``zone_index`` maps the current rules' zone ids to their index. Alerts of vehicles
        or zones that no longer exist are dropped.
        """
        snap = msgspec.msgpack.decode(data, type=StateSnapshot)
        if snap.version != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported fleet state snapshot version {snap.version}")
        state = cls(size=len(fleet))
        old = np.array([fleet.slot.get(d, -1) for d in snap.devices], dtype=np.int64)
        ok = old >= 0
        for name in cls.FLOATS + cls.BOOLS:
            dtype = np.float64 if name in cls.FLOATS else np.bool_
            values = np.frombuffer(snap.arrays[name], dtype=np.dtype(dtype).newbyteorder("<"))
            state.arrays[name][old[ok]] = values[: len(old)][ok]
        n_zones = max(len(zone_index), 1)
        for alert in snap.alerts:
            slot = fleet.slot.get(alert.device_id)
            if slot is None:
                continue
            if alert.rule is RuleCode.NO_GO_ZONE:
                zone = zone_index.get(alert.subject or "")
                if zone is None:
                    continue
                state.open[alert.rule][slot * n_zones + zone] = alert
            else:
                state.open[alert.rule][slot] = alert
        return state
