"""Stream prepared position messages into the service as the platform clock reaches them.

The demo's live feed (simulated key vehicles and the replayed Wuxi taxis) runs through
:meth:`FleetService.ingest`, the HTTP batch pipeline, so what the cockpit shows is what a
real feed would produce. The recording loops: each round is shifted by its length.
"""

from __future__ import annotations

import bisect
import logging
from typing import Any

import msgspec

from opencitybrain.apps.fleet.service import FleetService

__all__ = ["feed_forever"]

log = logging.getLogger(__name__)


async def feed_forever(
    service: FleetService, messages: list[dict[str, Any]], every_s: float = 5.0
) -> None:
    """Ingest, every ``every_s`` clock seconds, the messages whose time has come."""
    if not messages:
        return
    times = [int(m["time"]) for m in messages]
    period = times[-1] - times[0] + 10_000  # ms; a round starts 10 s after the last
    shift, i = 0, 0
    while True:
        await service.clock.sleep(every_s)
        now_ms = service.clock.now().timestamp() * 1000
        batch: list[dict[str, Any]] = []
        while True:
            j = bisect.bisect_right(times, now_ms - shift, lo=i)
            batch += (
                [{**m, "time": m["time"] + shift} for m in messages[i:j]]
                if shift
                else (messages[i:j])
            )
            i = j
            if i < len(messages):
                break
            shift, i = shift + period, 0  # the recording is over: start the next round
        if not batch:
            continue
        try:
            out = await service.ingest(msgspec.json.encode(batch))
        except Exception:  # a failed batch must not end the feed
            log.exception("fleet demo feed: a batch of %d failed", len(batch))
            continue
        if out.quarantined:
            log.warning("fleet demo feed: %d of %d quarantined", len(out.quarantined), len(batch))
