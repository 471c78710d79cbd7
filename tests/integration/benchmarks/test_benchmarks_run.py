"""Every benchmark runs on tiny sizes and records figures against a same-run baseline."""

from __future__ import annotations

import pkgutil
from pathlib import Path

import pytest

import benchmarks
from benchmarks.__main__ import main

ALL = sorted(
    m.name.removeprefix("bench_")
    for m in pkgutil.iter_modules(benchmarks.__path__)
    if m.name.startswith("bench_")
)
# A benchmark with a test module of its own (test_bench_<name>.py) is run there, once.
NAMES = [n for n in ALL if not (Path(__file__).parent / f"test_bench_{n}.py").is_file()]


def test_there_are_benchmarks() -> None:
    assert {"routing", "bus", "context"} <= set(NAMES)
    assert len(ALL) > len(NAMES)  # others run in their own test modules


@pytest.mark.parametrize("name", NAMES)
def test_benchmark_runs_quick(name: str) -> None:
    harness = main([name, "--quick"])
    assert harness.figures, f"{name} recorded no figures"
    for fig in harness.figures:
        assert fig.value >= 0, fig
        if fig.baseline is not None:
            harness.get(fig.group, fig.baseline)  # the baseline was measured in this run


def test_unknown_benchmark_is_refused() -> None:
    with pytest.raises(SystemExit):
        main(["nope"])
