"""Cases requested by apps over the bus: ``city.<app>.case.requested`` → intake.

An app that needs a person to act publishes a CloudEvent whose data names the class and
the place::

    {"class_code": "E0404", "lon": 115.9, "lat": 28.68, "description": "道路积水 30 cm",
     "title": "…", "external_id": "…", "urgent": true}

The case's source is ``app_alert`` and its external id the data's ``external_id`` (else
the event id), so a redelivered event never makes a second case. An event that cannot
become a case is not dropped: ``city.operations.case.refused`` carries it back with the
reason, and it is logged.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

from opencitybrain.kernel.bus import Bus, Subscription
from opencitybrain.kernel.errors import CityBrainError
from opencitybrain.kernel.events import CloudEvent, Context
from opencitybrain.operations.events import SOURCE
from opencitybrain.operations.intake import NewReport
from opencitybrain.operations.model import Source
from opencitybrain.operations.service import OperationsService

log = logging.getLogger(__name__)

REQUESTS = "city.*.case.requested"


def report_of_event(event: CloudEvent) -> NewReport:
    """Read a case request; raise ValueError naming what is wrong."""
    data: Any = event.data
    if not isinstance(data, dict):
        raise ValueError("data must be an object")
    code, desc = data.get("class_code"), data.get("description")
    lon, lat = data.get("lon"), data.get("lat")
    if not isinstance(code, str) or not isinstance(desc, str):
        raise ValueError("class_code and description must be text")
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in (lon, lat)):
        raise ValueError("lon and lat must be numbers")
    external = data.get("external_id") or event.id
    title, urgent = data.get("title"), data.get("urgent")
    return NewReport(
        source=Source.APP_ALERT,
        class_code=code,
        lon=float(lon),  # type: ignore[arg-type]
        lat=float(lat),  # type: ignore[arg-type]
        description=desc,
        title=title if isinstance(title, str) else None,
        reporter={"app": event.source},
        external_id=str(external)[:128],
        urgent=urgent if isinstance(urgent, bool) else None,
    )


class BusIntake:
    """Follow case requests on the bus and take them in."""

    def __init__(self, service: OperationsService) -> None:
        self.service = service
        self._subscription: Subscription | None = None
        self.refused = 0

    async def start(self, bus: Bus) -> None:
        """Subscribe (one member of the ``operations-intake`` group gets each request)."""
        if self._subscription is None:
            self._subscription = await bus.subscribe(
                REQUESTS, self.handle, group="operations-intake"
            )

    async def stop(self) -> None:
        """Stop following the bus."""
        if self._subscription is not None:
            await self._subscription.unsubscribe()
            self._subscription = None

    async def handle(self, event: CloudEvent) -> None:
        """Take one request in; refuse it loudly if it cannot become a case."""
        ctx = (event.context or Context.system("operations-bus")).child()
        try:
            new = report_of_event(event)
            _, events = await asyncio.to_thread(self.service.intake, ctx, new)
        except (ValueError, CityBrainError) as exc:
            if isinstance(exc, CityBrainError) and exc.code == "case.duplicate_submission":
                return  # a redelivery of a request already taken in
            self.refused += 1
            reason = exc.message if isinstance(exc, CityBrainError) else str(exc)
            log.warning("case request %s from %s refused: %s", event.id, event.source, reason)
            events = [
                CloudEvent(
                    type="city.operations.case.refused",
                    source=SOURCE,
                    time=self.service.clock.now(),
                    subject=event.id,
                    data={"request": event.to_dict(), "reason": reason},
                    context=ctx,
                )
            ]
        await self.service.publish(events)
