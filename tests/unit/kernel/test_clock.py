import asyncio
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from opencitybrain.kernel.clock import Clock, ManualClock, RealClock, SimulatedClock

START = datetime(2026, 11, 22, 8, 0, tzinfo=timezone(timedelta(hours=8)))


def test_real_clock_is_aware_and_current() -> None:
    clock = RealClock()
    assert isinstance(clock, Clock)
    now = clock.now()
    assert now.tzinfo is not None
    assert abs((now - datetime.now(UTC)).total_seconds()) < 1


def test_simulated_clock_runs_at_speed() -> None:
    clock = SimulatedClock(START, speed=600)
    assert clock.now() - START < timedelta(seconds=60)
    time.sleep(0.05)
    elapsed = (clock.now() - START).total_seconds()
    assert 25 <= elapsed <= 600  # 0.05 s real ≈ 30 s simulated; generous upper bound
    assert clock.now().utcoffset() == timedelta(0)


def test_simulated_clock_speed_change_keeps_continuity() -> None:
    clock = SimulatedClock(START, speed=10)
    before = clock.now()
    clock.set_speed(1000)
    assert clock.now() >= before
    assert clock.speed == 1000
    with pytest.raises(ValueError):
        clock.set_speed(0)


def test_simulated_clock_rejects_naive_start() -> None:
    with pytest.raises(ValueError):
        SimulatedClock(datetime(2026, 1, 1), speed=1)


async def test_simulated_sleep_is_scaled() -> None:
    clock = SimulatedClock(START, speed=1000)
    t0 = time.perf_counter()
    await clock.sleep(50)  # 50 simulated seconds = 0.05 real seconds
    assert time.perf_counter() - t0 < 1.0


async def test_manual_clock_wakes_sleepers_when_advanced() -> None:
    clock = ManualClock(START)
    woke: list[int] = []

    async def sleeper(n: int, secs: float) -> None:
        await clock.sleep(secs)
        woke.append(n)

    tasks = [asyncio.create_task(sleeper(1, 10)), asyncio.create_task(sleeper(2, 30))]
    await asyncio.sleep(0)
    clock.advance(15)
    await asyncio.sleep(0)
    assert woke == [1]
    clock.advance(15)
    await asyncio.gather(*tasks)
    assert woke == [1, 2]
    assert clock.now() == START + timedelta(seconds=30)
    with pytest.raises(ValueError):
        clock.advance(-1)
