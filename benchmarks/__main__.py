"""Run every ``benchmarks/bench_*.py`` (or those named) and print the figures."""

from __future__ import annotations

import argparse
import importlib
import pkgutil

import benchmarks
from benchmarks.harness import Harness


def main(argv: list[str] | None = None) -> Harness:
    """Run the benchmarks named on the command line (default: all) and print them."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("names", nargs="*", help="benchmark modules, e.g. routing bus")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to prove they work")
    args = parser.parse_args(argv)
    found = sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules(benchmarks.__path__)
        if m.name.startswith("bench_")
    )
    names = args.names or found
    unknown = set(names) - set(found)
    if unknown:
        parser.error(f"unknown benchmarks: {sorted(unknown)}; known: {found}")
    harness = Harness(quick=args.quick)
    for name in names:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        harness.console.print(f"[bold]running {name}…[/bold]")
        module.run(harness)
    harness.print()
    return harness


if __name__ == "__main__":
    main()
