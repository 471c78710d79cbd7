"""Every benchmark runs on tiny sizes and records figures against a same-run baseline."""

from __future__ import annotations

import pkgutil

import pytest

import benchmarks
from benchmarks.__main__ import main

NAMES = sorted(
    m.name.removeprefix("bench_")
    for m in pkgutil.iter_modules(benchmarks.__path__)
    if m.name.startswith("bench_")
)


def test_there_are_benchmarks() -> None:
    assert {"routing", "bus"} <= set(NAMES)


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
