"""The operations benchmark runs on tiny sizes and records its figures and baselines."""

from __future__ import annotations

from benchmarks.__main__ import main


def test_operations_benchmark_runs_quick() -> None:
    harness = main(["operations", "--quick"])
    names = {(f.group, f.name) for f in harness.figures}
    assert ("operations intake", "intake + file + dispatch") in names
    assert ("operations timers", "scan(now), stored deadlines") in names
    scan = harness.get("operations timers", "scan(now), stored deadlines")
    assert "alarms raised" in scan.note
    assert not scan.note.startswith("20,000 open cases, 0 alarms")
    for fig in harness.figures:
        assert fig.value > 0, fig
        if fig.baseline is not None:
            assert harness.ratio(fig) is not None
