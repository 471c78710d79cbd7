"""The production wiring: PostgreSQL and NATS JetStream from URLs, same code as the demo."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import httpx

from opencitybrain.bootstrap import build_platform
from opencitybrain.kernel.bus import Bus
from opencitybrain.kernel.events import CloudEvent
from opencitybrain.kernel.settings import Settings
from tests.integration.conftest import NatsTarget


async def _round_trip(bus: Bus) -> list[CloudEvent]:
    got: list[CloudEvent] = []
    done = asyncio.Event()

    async def handler(event: CloudEvent) -> None:
        got.append(event)
        done.set()

    sub = await bus.subscribe("city.test.*.checked", handler)
    await bus.publish(
        CloudEvent(type="city.test.wiring.checked", source="/tests", time=datetime.now(UTC))
    )
    await asyncio.wait_for(done.wait(), 10)
    await sub.unsubscribe()
    return got


def test_platform_on_postgres_and_nats(
    postgres_url: str, nats_target: NatsTarget, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url=postgres_url,
        bus_url=f"{nats_target.url}?stream={nats_target.stream}&prefix={nats_target.prefix}",
    )

    async def main() -> None:
        platform = await build_platform(settings)
        try:
            got = await _round_trip(platform.bus)
            assert [e.type for e in got] == ["city.test.wiring.checked"]
            app = platform.app(serve_cockpit=False)
            # Same loop as the NATS connection: ASGITransport (no lifespan needed here).
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                health = (await client.get("/api/v1/health")).json()
            assert health["checks"] == {"database": True, "bus": True}
        finally:
            await platform.close()

    asyncio.run(main())
