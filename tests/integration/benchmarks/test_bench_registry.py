"""The registry benchmark runs on tiny sizes, meets its quality goals and records baselines."""

from __future__ import annotations

from benchmarks.__main__ import main


def test_registry_benchmark_runs_quick() -> None:
    harness = main(["registry", "--quick"])
    names = {(f.group, f.name) for f in harness.figures}
    assert ("registry people", "resolve (registry)") in names
    assert ("registry people", "exact-ID join") in names
    assert harness.get("registry people", "registry precision").value >= 99.0
    assert harness.get("registry people", "registry recall").value >= 99.0
    # The plain join misses the dirty IDs the registry recovers.
    assert harness.ratio(harness.get("registry people", "registry recall")) > 1.0
    for fig in harness.figures:
        assert fig.value > 0, fig
        if fig.baseline is not None:
            assert harness.ratio(fig) is not None
