"""Shared pieces of the operations integration tests: a square city, actors, reports."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from opencitybrain.kernel.events import Context
from opencitybrain.operations.intake import NewReport
from opencitybrain.operations.model import Location, Source

TZ = ZoneInfo("Asia/Shanghai")
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
OPERATOR = Context("op-1", "command-centre", frozenset({"operator"}))
STAFF = Context("staff-1", "urban-management", frozenset({"department_staff"}))
OTHER_STAFF = Context("staff-2", "transport", frozenset({"department_staff"}))
INSPECTOR = Context("grid-1", "district-360102", frozenset({"grid_worker"}))
BUREAU = Context("admin", "bureau", frozenset({"bureau_admin"}))


KNOWN_DEPARTMENTS = {"urban-management", "transport", "health"} | {
    f"district-{c}" for c in ("360102", "360103", "360104", "360111")
}


class BoxLocator:
    """A square city: county 360102 west of 115.9, 360121 east of it."""

    def locate(self, lon: float, lat: float) -> Location | None:
        if not (115.8 <= lon <= 116.0 and 28.6 <= lat <= 28.8):
            return None
        county = "360102" if lon < 115.9 else "360121"
        street = county + "001"
        return Location(lon, lat, county, street, street + "001", street + "001001")


def report(**kw: object) -> NewReport:
    base: dict[str, object] = {
        "source": Source.HOTLINE_12345, "class_code": "E0102", "lon": 115.95, "lat": 28.7,
        "description": "小区门口垃圾堆了三天", "reporter": {"phone": "138****0000"},
    }  # fmt: skip
    return NewReport(**{**base, **kw})  # type: ignore[arg-type]
