"""The catalogue benchmark runs on tiny sizes and records p50/p95 against the LIKE scan."""

from __future__ import annotations

from benchmarks.__main__ import main


def test_catalog_benchmark_records_search_percentiles() -> None:
    harness = main(["catalog", "--quick"])
    groups = {f.group for f in harness.figures}
    assert "catalog search (SQLite, 300 resources)" in groups
    group = "catalog search (SQLite, 300 resources)"
    for q in (50, 95):
        ours = harness.get(group, f"term index p{q}")
        assert ours.baseline == f"LIKE scan p{q}"
        assert ours.unit == "ms"
        assert 0 < ours.value < 5000
        assert harness.ratio(ours) is not None
    assert harness.get(group, "publish + index").value > 0
