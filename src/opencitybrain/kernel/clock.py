"""Clocks: the only source of "now" for domain code.

Domain code never calls ``datetime.now()``; it is handed a :class:`Clock`. The demo runs a
:class:`SimulatedClock` faster than real time; tests use a :class:`ManualClock`.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

CHINA_TZ = ZoneInfo("Asia/Shanghai")


@runtime_checkable
class Clock(Protocol):
    """Tell the current time and wait in that time."""

    @property
    def speed(self) -> float:
        """Return how many clock seconds pass per real second."""
        ...

    def now(self) -> datetime:
        """Return the current time, timezone-aware (UTC)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of clock time."""
        ...


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("clock times must be timezone-aware / 时间必须带时区")
    return moment.astimezone(UTC)


class RealClock:
    """Tell the wall-clock time."""

    @property
    def speed(self) -> float:
        """Return 1: real time."""
        return 1.0

    def now(self) -> datetime:
        """Return the wall-clock time in UTC."""
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of real time."""
        await asyncio.sleep(max(0.0, seconds))


class SimulatedClock:
    """Run from a start time at ``speed`` clock seconds per real second."""

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive / 倍速必须为正数")
        self._start = _aware(start)
        self._speed = float(speed)
        self._t0 = time.monotonic()

    @property
    def speed(self) -> float:
        """Return the speed factor."""
        return self._speed

    @property
    def start(self) -> datetime:
        """Return the simulated time at which the clock started."""
        return self._start

    def now(self) -> datetime:
        """Return the simulated time."""
        elapsed = (time.monotonic() - self._t0) * self._speed
        return self._start + timedelta(seconds=elapsed)

    def set_speed(self, speed: float) -> None:
        """Change the speed factor without a jump in the simulated time."""
        if speed <= 0:
            raise ValueError("speed must be positive / 倍速必须为正数")
        self._start = self.now()
        self._t0 = time.monotonic()
        self._speed = float(speed)

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of simulated time (``seconds / speed`` of real time)."""
        await asyncio.sleep(max(0.0, seconds) / self._speed)


class ManualClock:
    """Stand still until told to advance; for tests and replays."""

    def __init__(self, start: datetime) -> None:
        self._now = _aware(start)
        self._waiters: list[tuple[datetime, asyncio.Future[None]]] = []

    @property
    def speed(self) -> float:
        """Return 0: time moves only when advanced."""
        return 0.0

    def now(self) -> datetime:
        """Return the current manual time."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward and wake the sleepers whose time has come."""
        if seconds < 0:
            raise ValueError("time does not go backwards / 时间不能倒流")
        self._now += timedelta(seconds=seconds)
        due = [w for w in self._waiters if w[0] <= self._now]
        self._waiters = [w for w in self._waiters if w[0] > self._now]
        for _, fut in due:
            if not fut.done():
                fut.set_result(None)

    async def sleep(self, seconds: float) -> None:
        """Wait until the clock has been advanced by ``seconds``."""
        if seconds <= 0:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((self._now + timedelta(seconds=seconds), fut))
        await fut
