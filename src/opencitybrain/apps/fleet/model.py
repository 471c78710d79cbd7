"""Key vehicles (重点车辆): what each one is, who owns it, and what it is permitted to do."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import msgspec

from opencitybrain.kernel.errors import NotFound

__all__ = ["Fleet", "Permit", "TimeWindow", "Vehicle", "VehicleClass"]


class VehicleClass(StrEnum):
    """Name a class of supervised vehicle."""

    MUCK = "muck"  # 渣土车
    HAZMAT = "hazmat"  # 危化品运输车
    SCHOOL_BUS = "school_bus"  # 校车
    BUS = "bus"  # 公交车
    TAXI = "taxi"  # 出租车

    @property
    def zh(self) -> str:
        """Return the Chinese name."""
        return _CLASS_ZH[self]


_CLASS_ZH = {
    VehicleClass.MUCK: "渣土车",
    VehicleClass.HAZMAT: "危化品运输车",
    VehicleClass.SCHOOL_BUS: "校车",
    VehicleClass.BUS: "公交车",
    VehicleClass.TAXI: "出租车",
}
CLASSES: tuple[VehicleClass, ...] = tuple(VehicleClass)


# Constraints live in the types, so the same definition validates input and documents
# the OpenAPI schema: anything the schema allows, the engine accepts.
HHMM = Annotated[str, msgspec.Meta(pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")]
Lon = Annotated[float, msgspec.Meta(ge=-180.0, le=180.0)]
Lat = Annotated[float, msgspec.Meta(ge=-90.0, le=90.0)]
LonLat = tuple[Lon, Lat]
Line = Annotated[list[LonLat], msgspec.Meta(min_length=2, max_length=100_000)]
Ring = Annotated[list[LonLat], msgspec.Meta(min_length=3, max_length=100_000)]


class TimeWindow(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Hold a daily window in Beijing time, "HH:MM" to "HH:MM"; it may wrap past midnight."""

    start: HHMM
    end: HHMM

    def __post_init__(self) -> None:
        for value in (self.start, self.end):
            minute_of_day(value)

    @property
    def minutes(self) -> tuple[int, int]:
        """Return (start, end) as minutes after midnight."""
        return minute_of_day(self.start), minute_of_day(self.end)


def minute_of_day(value: str) -> int:
    """Return the minutes after midnight of an "HH:MM" time (24:00 allowed as the end)."""
    hh, sep, mm = value.partition(":")
    if sep and hh.isdigit() and mm.isdigit() and len(mm) == 2:
        minutes = int(hh) * 60 + int(mm)
        if int(mm) < 60 and 0 <= minutes <= 24 * 60:
            return minutes
    # ValueError, so that msgspec reports it as a validation error with the field's path.
    raise ValueError(f"时间 {value!r} 须为 HH:MM / time of day {value!r} must be HH:MM")


class Permit(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Hold what a vehicle is permitted: approved corridors, sites and hours.

    Corridors are WGS-84 lines ([[lon, lat], …]); sites are WGS-84 polygon rings.
    """

    id: str
    corridors: list[Line] = []
    sites: list[Ring] = []
    windows: list[TimeWindow] = []


class Vehicle(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Hold one supervised vehicle: terminal, plate, class, owner company and permits."""

    device_id: str
    plate: str
    vclass: VehicleClass
    owner_uscc: str | None = None
    permits: list[Permit] = []


class Fleet:
    """Index the supervised vehicles: each device gets a stable integer slot.

    Slots are never reused, so per-vehicle numpy state stays aligned with them across
    snapshots and restores.
    """

    def __init__(self, vehicles: list[Vehicle] | None = None) -> None:
        self.vehicles: list[Vehicle] = []
        self.slot: dict[str, int] = {}
        for v in vehicles or ():
            self.add(v)

    def __len__(self) -> int:
        return len(self.vehicles)

    def add(self, vehicle: Vehicle) -> int:
        """Register a vehicle, or replace its record; return its slot."""
        slot = self.slot.get(vehicle.device_id)
        if slot is None:
            slot = len(self.vehicles)
            self.slot[vehicle.device_id] = slot
            self.vehicles.append(vehicle)
        else:
            self.vehicles[slot] = vehicle
        return slot

    def get(self, device_id: str) -> Vehicle:
        """Return the vehicle of a device, or raise NotFound."""
        slot = self.slot.get(device_id)
        if slot is None:
            raise NotFound(
                "fleet.unknown_vehicle",
                f"未登记的车载终端 {device_id}",
                f"no vehicle registered for device {device_id}",
            )
        return self.vehicles[slot]

    def class_codes(self) -> list[int]:
        """Return each slot's class as an index into CLASSES."""
        order = {c: i for i, c in enumerate(CLASSES)}
        return [order[v.vclass] for v in self.vehicles]
