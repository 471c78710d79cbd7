"""A serving process exempts its start-up heap from the garbage collector's full walks."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import asyncio, gc
from opencitybrain.bootstrap import _warm_then_freeze
city = [{"road": i, "nodes": [i, i + 1]} for i in range(50_000)]  # long-lived start-up heap
before = gc.get_freeze_count()
asyncio.run(_warm_then_freeze(asyncio.sleep(0)))
print(before, gc.get_freeze_count())
"""


def test_the_start_up_heap_is_frozen_after_the_warm_up() -> None:
    # Its own interpreter: freezing this test process's heap would outlive the test.
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    before, after = map(int, out.stdout.split())
    assert before == 0
    assert after >= 100_000  # the 50,000 dicts and their lists at least
