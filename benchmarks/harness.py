"""A small benchmark harness: time things, record figures, print them against a baseline.

Each ``bench_*.py`` module defines ``run(h: Harness) -> None``. A figure is recorded with
the name of the baseline it is compared to; the baseline is always measured in the same run,
so ratios are meaningful on any machine.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table


@dataclass(frozen=True)
class Timing:
    """Hold repeated wall-clock timings of one piece of work, in seconds."""

    samples: tuple[float, ...]

    @property
    def best(self) -> float:
        """Return the fastest sample."""
        return min(self.samples)

    @property
    def median(self) -> float:
        """Return the median sample."""
        return statistics.median(self.samples)

    def percentile(self, q: float) -> float:
        """Return the q-th percentile (0–100) of the samples."""
        ordered = sorted(self.samples)
        k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
        return ordered[k]


@dataclass
class Figure:
    """One measured figure, optionally compared to a baseline figure of the same run."""

    group: str
    name: str
    value: float
    unit: str
    baseline: str | None = None
    higher_is_better: bool = False
    note: str = ""


@dataclass
class Harness:
    """Collect figures; ``quick`` asks benchmarks for tiny sizes (used by tests)."""

    quick: bool = False
    figures: list[Figure] = field(default_factory=list)
    # Wide enough to read when the output goes to a file or a CI log.
    console: Console = field(default_factory=lambda: Console(width=180))

    def time(self, fn: Callable[[], object], repeat: int = 5, warmup: int = 1) -> Timing:
        """Run ``fn`` ``warmup`` times unmeasured, then ``repeat`` times measured."""
        for _ in range(warmup):
            fn()
        samples = []
        for _ in range(max(1, repeat)):
            t0 = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - t0)
        return Timing(tuple(samples))

    def record(
        self,
        group: str,
        name: str,
        value: float,
        unit: str,
        *,
        baseline: str | None = None,
        higher_is_better: bool = False,
        note: str = "",
    ) -> Figure:
        """Record one figure; ``baseline`` names an earlier figure of the same group."""
        fig = Figure(group, name, value, unit, baseline, higher_is_better, note)
        self.figures.append(fig)
        return fig

    def get(self, group: str, name: str) -> Figure:
        """Return a recorded figure."""
        for fig in self.figures:
            if fig.group == group and fig.name == name:
                return fig
        raise KeyError(f"{group}/{name}")

    def ratio(self, fig: Figure) -> float | None:
        """Return how many times better ``fig`` is than its baseline (>1 = better)."""
        if fig.baseline is None:
            return None
        base = self.get(fig.group, fig.baseline).value
        if base == 0 or fig.value == 0:
            return None
        return fig.value / base if fig.higher_is_better else base / fig.value

    def print(self) -> None:
        """Print every figure, grouped, with its ratio against its baseline."""
        table = Table(title="OpenCityBrain benchmarks" + (" (quick sizes)" if self.quick else ""))
        for col in ("group", "figure", "value", "unit", "vs baseline", "note"):
            table.add_column(col)
        baselines = {(f.group, f.baseline) for f in self.figures if f.baseline}
        for fig in self.figures:
            r = self.ratio(fig)
            if r is not None:
                vs = (
                    f"{r:.2f}× better than {fig.baseline}"
                    if r >= 1
                    else f"{1 / r:.1f}× worse than {fig.baseline}"
                )
            else:
                vs = "baseline" if (fig.group, fig.name) in baselines else "—"
            table.add_row(fig.group, fig.name, f"{fig.value:,.3f}", fig.unit, vs, fig.note)
        self.console.print(table)
