"""The fleet benchmark runs on tiny sizes and compares the pipeline with the naive loop."""

from __future__ import annotations

from benchmarks.__main__ import main


def test_fleet_benchmark_runs_quick() -> None:
    harness = main(["fleet", "--quick"])
    pipeline = harness.get("fleet engine", "batched pipeline")
    naive = harness.get("fleet engine", "naive per-point loop")
    assert pipeline.baseline == naive.name
    assert pipeline.value > 0
    assert naive.value > 0
    assert harness.get("fleet engine", "decode only").value > 0
