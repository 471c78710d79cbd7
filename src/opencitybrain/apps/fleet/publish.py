"""What leaves the engine: Alert and Vehicle entities in the context broker, CloudEvents.

Entities follow the Smart Data Models (``Alert``: category, subCategory, severity,
dateIssued, alertSource, location, validTo once closed; ``Vehicle``: vehicleType,
location, speed, heading, vehiclePlateIdentifier, vehicleSpecialUsage). They are written
through the broker's batch upsert, one call per batch of positions, so a batch of any
size costs a few statements. Alerts are also announced on the bus as
``city.fleet.alert.opened`` / ``city.fleet.alert.closed``.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import msgspec
import numpy as np

from opencitybrain.apps.fleet.alerts import Alert
from opencitybrain.apps.fleet.engine import FleetEngine
from opencitybrain.apps.fleet.model import VehicleClass
from opencitybrain.apps.fleet.outcome import Outcome
from opencitybrain.apps.fleet.rules import CaseRule
from opencitybrain.context.batch import batch_upsert
from opencitybrain.context.batch_session import BatchResult
from opencitybrain.context.service import ContextBroker
from opencitybrain.kernel.bus import Bus
from opencitybrain.kernel.clock import CHINA_TZ
from opencitybrain.kernel.events import CloudEvent, Context

__all__ = [
    "SOURCE",
    "FleetPublisher",
    "alert_entity",
    "case_request",
    "vehicle_entities",
    "vehicle_id",
]

SOURCE = "/opencitybrain/apps/fleet"
# Smart Data Models Vehicle.vehicleType / vehicleSpecialUsage values for our classes.
_VEHICLE_TYPE = {
    VehicleClass.MUCK: "lorry",
    VehicleClass.HAZMAT: "tanker",
    VehicleClass.SCHOOL_BUS: "bus",
    VehicleClass.BUS: "bus",
    VehicleClass.TAXI: "car",
}
_SPECIAL_USAGE = {VehicleClass.TAXI: "taxi", VehicleClass.SCHOOL_BUS: "schoolTransportation"}


def _prop(value: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value}


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def vehicle_id(device_id: str) -> str:
    """Return the NGSI-LD id of a vehicle's entity."""
    return f"urn:ngsi-ld:Vehicle:fleet:{device_id}"


def alert_entity(alert: Alert) -> dict[str, Any]:
    """Return an alert as an NGSI-LD Alert entity (normalized form)."""
    entity: dict[str, Any] = {
        "id": alert.id,
        "type": "Alert",
        "category": _prop("traffic"),
        "subCategory": _prop(alert.rule.value),
        "severity": _prop(alert.severity),
        "dateIssued": _prop({"@type": "DateTime", "@value": _iso(alert.opened_at)}),
        "alertSource": {"type": "Relationship", "object": vehicle_id(alert.device_id)},
        "location": _point(alert.lon, alert.lat),
        "description": _prop(f"{alert.rule.zh} {alert.plate}"),
        "vehiclePlateIdentifier": _prop(alert.plate),
    }
    if alert.subject:
        entity["zone"] = _prop(alert.subject)
    if alert.value is not None:
        entity["measuredValue"] = _prop(alert.value)
    if alert.limit is not None:
        entity["threshold"] = _prop(alert.limit)
    if alert.closed_at is not None:
        entity["validTo"] = _prop({"@type": "DateTime", "@value": _iso(alert.closed_at)})
    return entity


def vehicle_entities(engine: FleetEngine, slots: list[int]) -> list[dict[str, Any]]:
    """Return the latest state of the given vehicle slots as NGSI-LD Vehicle entities."""
    st = engine.state
    out = []
    for slot in slots:
        t = float(st.f("last_t")[slot])
        if not np.isfinite(t):
            continue
        v = engine.fleet.vehicles[slot]
        entity: dict[str, Any] = {
            "id": vehicle_id(v.device_id),
            "type": "Vehicle",
            "vehicleType": _prop(_VEHICLE_TYPE[v.vclass]),
            "category": _prop(["municipalServices"]),
            "vehiclePlateIdentifier": _prop(v.plate),
            "fleetClass": _prop(v.vclass.value),
            "location": {
                **_point(float(st.f("last_lon")[slot]), float(st.f("last_lat")[slot])),
                "observedAt": _iso(datetime.fromtimestamp(t, UTC)),
            },
            "speed": _prop(round(float(st.f("last_speed")[slot]), 1)),
            "heading": _prop(round(float(st.f("last_heading")[slot]), 1)),
            "serviceStatus": _prop("onRoute" if st.b("on_duty")[slot] else "parked"),
        }
        if v.vclass in _SPECIAL_USAGE:
            entity["vehicleSpecialUsage"] = _prop(_SPECIAL_USAGE[v.vclass])
        if v.owner_uscc:
            entity["ownerCompany"] = _prop(v.owner_uscc)
        out.append(entity)
    return out


class FleetPublisher:
    """Write a batch's outcome to the context broker and announce its alerts on the bus.

    A vehicle's entity is rewritten at most every ``vehicle_every_s`` seconds of its own
    report time: terminals report every few seconds, and a broker write costs far more
    than the rules (about 1 ms an entity on SQLite, measured), while the live map reads
    the engine's state directly. Alerts are always written at once.
    """

    def __init__(
        self, broker: ContextBroker, bus: Bus, *, tenant: str = "", vehicle_every_s: float = 0.0
    ) -> None:
        self.broker = broker
        self.bus = bus
        self.tenant = tenant
        self.vehicle_every_s = vehicle_every_s
        self._context = broker.resolver.compile(None)
        self._written = np.zeros(0)  # per slot: report time of the last entity written

    def _due(self, engine: FleetEngine, slots: list[int]) -> list[int]:
        """Return the slots whose entity is older than the throttle allows, and mark them."""
        if len(self._written) < engine.state.size:
            grown = np.full(engine.state.size, -np.inf)
            grown[: len(self._written)] = self._written
            self._written = grown
        s = np.asarray(slots, dtype=np.int64)
        t = engine.state.f("last_t")[s]
        due = s[t - self._written[s] >= self.vehicle_every_s]
        self._written[due] = engine.state.f("last_t")[due]
        return [int(x) for x in due.tolist()]

    def _upsert(self, entities: list[dict[str, Any]]) -> BatchResult | None:
        if not entities:
            return None
        return batch_upsert(self.broker, self.tenant, entities, self._context, ld=False)

    async def _write(self, entities: list[dict[str, Any]], ctx: Context | None) -> None:
        result = await asyncio.to_thread(self._upsert, entities)
        if result is not None:
            await self.broker.publish(result.changes, ctx)

    async def publish(
        self, engine: FleetEngine, outcome: Outcome, ctx: Context | None = None
    ) -> None:
        """Upsert Vehicle and Alert entities for the batch, then publish the alert events."""
        slots = self._due(engine, np.unique(outcome.slots[~outcome.late]).tolist())
        await self.publish_alerts(
            outcome.opened,
            outcome.closed,
            ctx,
            vehicles=vehicle_entities(engine, slots),
            cases=engine.rules.cases,
        )

    async def publish_alerts(
        self,
        opened: list[Alert],
        closed: list[Alert],
        ctx: Context | None,
        *,
        vehicles: list[dict[str, Any]] | None = None,
        cases: CaseRule | None = None,
    ) -> None:
        """Upsert the alerts (and vehicles) as entities, then announce each alert change.

        Opened alerts whose rule maps to a case class also request a case from unified
        operations (``city.fleet.case.requested``; the alert id is the external id, so
        a redelivered request never makes a second case).
        """
        # Later changes of the same alert win: one opened and closed in the same batch
        # is written once, closed.
        alerts = {a.id: a for a in (*opened, *closed)}
        await self._write([*(vehicles or []), *(alert_entity(a) for a in alerts.values())], ctx)
        for kind, items in (("opened", opened), ("closed", closed)):
            for a in items:
                when = a.closed_at if (kind == "closed" and a.closed_at) else a.opened_at
                await self.bus.publish(
                    CloudEvent(
                        type=f"city.fleet.alert.{kind}",
                        source=SOURCE,
                        time=when,
                        subject=a.id,
                        data=msgspec.to_builtins(a),
                        context=ctx,
                    )
                )
        if cases is not None and cases.enabled:
            for a in opened:
                code = cases.classes.get(a.rule)
                if code is not None:
                    await self.bus.publish(case_request(a, code, ctx))


def case_request(alert: Alert, class_code: str, ctx: Context | None) -> CloudEvent:
    """Return the event asking operations to open a case for an alert."""
    return CloudEvent(
        type="city.fleet.case.requested",
        source=SOURCE,
        time=alert.opened_at,
        subject=alert.id,
        data={
            "class_code": class_code,
            "lon": alert.lon,
            "lat": alert.lat,
            "title": f"{alert.rule.zh}：{alert.plate}",
            "description": (
                f"{alert.plate}（{VehicleClass(alert.vclass).zh}）{alert.rule.zh}，"
                f"{alert.opened_at.astimezone(CHINA_TZ):%Y-%m-%d %H:%M} 起"
            ),
            "external_id": alert.id,
            "urgent": alert.severity == "critical",
        },
        context=ctx,
    )
