"""The sharing benchmark runs on tiny sizes and records its figures against their baselines."""

from __future__ import annotations

from benchmarks.__main__ import main


def test_sharing_benchmark_records_reads_masking_and_audit() -> None:
    harness = main(["sharing", "--quick"])
    read = "governed read (1,000 rows, 5 of 7 fields masked, audited)"
    governed = harness.get(read, "governed read")
    assert governed.baseline == "raw read, as JSON"
    assert 0 < governed.value < 60_000
    assert harness.ratio(governed) is not None
    first = harness.get(read, "first governed read of a new snapshot")
    assert first.baseline == "raw read, as JSON"
    assert harness.ratio(first) is not None
    masking = harness.get("masking (10,000 mobile numbers)", "column masker")
    assert masking.value > 0
    audit = "audit chain (SQLite, 2,000 records)"
    assert harness.get(audit, "append, 1,000 per transaction").value > 0
    assert harness.get(audit, "verify whole chain").unit == "s"
