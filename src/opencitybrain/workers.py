"""Serving with N worker processes that share the store and the bus (production mode).

Each worker is a process of its own (uvicorn's supervisor starts, watches and restarts
them) running :class:`WorkerApp`, which wires the platform from the settings inside the
worker's serving loop, so every loop-bound resource (the bus connection, background
tasks) belongs to that loop. The workers share one listening socket; the NATS bus keeps
each worker's in-memory index current with the others' writes, and a queue group makes
one worker notify each change. The parent prepares what must happen once (migrations,
the platform secret, the city pack's caches) before any worker starts.
"""

from __future__ import annotations

import logging
from typing import Any

from opencitybrain.adapters.migrate import upgrade
from opencitybrain.bootstrap import Platform, build_platform, platform_secret
from opencitybrain.citypack.loader import load_pack
from opencitybrain.kernel.errors import InvalidInput
from opencitybrain.kernel.settings import Settings

log = logging.getLogger(__name__)

# How long uvicorn's supervisor waits for a worker to answer its ping before it kills and
# restarts it. uvicorn's 5 s is too short for a worker building the platform on a loaded
# machine: long stretches of start-up work hold the interpreter, the ping thread starves,
# and the supervisor restarts the worker for ever (seen on a busy 2-core CI machine).
WORKER_HEALTHCHECK_S = 60
# How long a stopping server lets requests in flight finish before it cancels them. A
# cockpit's long poll of alerts waits up to 20 s; stopping should not wait that long.
GRACEFUL_SHUTDOWN_S = 5

Scope = dict[str, Any]
Message = dict[str, Any]


class WorkerApp:
    """One worker's ASGI app: the platform is built at lifespan startup, in its loop."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings
        self._platform: Platform | None = None
        self._app: Any = None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        """Serve a request, or run the worker's lifespan."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        await self._app(scope, receive, send)  # uvicorn serves only after startup

    async def _lifespan(self, receive: Any, send: Any) -> None:
        await receive()  # lifespan.startup
        try:
            self._platform = await build_platform(self._settings or Settings())
            self._platform.freeze_heap = True  # a serving process: see Platform.freeze_heap
            self._app = self._platform.app()
            await self._platform.start()
        except Exception as exc:
            log.exception("worker failed to start")
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            return
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        await self._platform.close()
        await send({"type": "lifespan.shutdown.complete"})


def worker_app() -> WorkerApp:
    """Return a worker's app with settings from CITYBRAIN_* and citybrain.toml (a factory)."""
    return WorkerApp()


def prepare_workers(settings: Settings, workers: int) -> None:
    """Check the settings allow ``workers`` processes, and do the once-only work first."""
    if workers > 1 and settings.bus_url.startswith("memory:"):
        raise InvalidInput(
            "serve.workers_need_bus",
            "多个工作进程须共用消息总线：请设置 CITYBRAIN_BUS_URL=nats://…",
            "several workers need a shared bus: set CITYBRAIN_BUS_URL=nats://…",
        )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.sql_url)
    platform_secret(settings)  # generated once, before workers race to create it
    load_pack(settings.city_pack, cache_dir=settings.data_dir / "cache")  # warm the caches
