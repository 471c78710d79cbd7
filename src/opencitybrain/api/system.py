"""Platform routes: health and the city clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from opencitybrain import __version__
from opencitybrain.apikit.auth import ClockController, ClockReader, Public
from opencitybrain.apikit.bodies import StrictBody
from opencitybrain.apikit.problems import PROBLEM_RESPONSES
from opencitybrain.apikit.services import registry
from opencitybrain.kernel.clock import CHINA_TZ, Clock, ManualClock, SimulatedClock
from opencitybrain.kernel.errors import Conflict

router = APIRouter(prefix="/api/v1", tags=["system 系统"], responses=PROBLEM_RESPONSES)


class HealthChecks:
    """Named liveness checks of the platform's dependencies (database, bus, …)."""

    def __init__(self) -> None:
        self._checks: dict[str, Callable[[], bool]] = {}

    def add(self, name: str, check: Callable[[], bool]) -> None:
        """Register a check that returns True when healthy (exceptions count as unhealthy)."""
        self._checks[name] = check

    def run(self) -> dict[str, bool]:
        """Run every check."""
        out: dict[str, bool] = {}
        for name, check in self._checks.items():
            try:
                out[name] = bool(check())
            except Exception:
                out[name] = False
        return out


class Health(BaseModel):
    """The platform's health."""

    status: Literal["ok", "degraded"]
    version: str
    checks: dict[str, bool]


class ClockOut(BaseModel):
    """The city clock."""

    now: datetime
    speed: float
    mode: Literal["real", "simulated", "manual"]
    timezone: str


class SpeedIn(StrictBody):
    """A new speed for the simulated clock."""

    speed: float = Field(gt=0, le=10_000)


async def _clock(request: Request) -> Clock:
    return registry(request).get(Clock)  # type: ignore[type-abstract]


CityClock = Annotated[Clock, Depends(_clock)]


@router.get(
    "/health",
    dependencies=[Public],
    response_model=Health,
    responses={503: {"model": Health, "description": "degraded"}},
)
def health(request: Request) -> JSONResponse:
    """Tell whether the platform and its dependencies are up."""
    checks = registry(request).get(HealthChecks).run()
    ok = all(checks.values())
    body = Health(status="ok" if ok else "degraded", version=__version__, checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


def _clock_out(clock: Clock) -> ClockOut:
    mode: Literal["real", "simulated", "manual"] = (
        "simulated"
        if isinstance(clock, SimulatedClock)
        else "manual"
        if isinstance(clock, ManualClock)
        else "real"
    )
    return ClockOut(
        now=clock.now().astimezone(CHINA_TZ), speed=clock.speed, mode=mode, timezone=str(CHINA_TZ)
    )


@router.get("/clock", response_model=ClockOut)
def clock(ctx: ClockReader, city_clock: CityClock) -> ClockOut:
    """Return the city clock (simulated in the demo)."""
    return _clock_out(city_clock)


@router.put("/clock/speed", response_model=ClockOut)
def set_speed(body: SpeedIn, ctx: ClockController, city_clock: CityClock) -> ClockOut:
    """Change the simulated clock's speed."""
    if not isinstance(city_clock, SimulatedClock):
        raise Conflict("clock.not_simulated", "只有模拟时钟可以调速", "only a simulated clock")
    city_clock.set_speed(body.speed)
    return _clock_out(city_clock)
