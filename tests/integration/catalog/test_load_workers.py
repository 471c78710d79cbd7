"""Several worker processes share one analytics folder: loads take turns (flock) instead
of failing on DuckDB's file lock, and reads in any process see whole loads only."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from opencitybrain.adapters.duckdb_rows import DuckRows

WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import pyarrow as pa
    from opencitybrain.adapters.duckdb_rows import DuckRows
    from opencitybrain.catalog.model import DataType, FieldSpec
    fields = (FieldSpec("k", "键", DataType.STRING, is_identifier=True),
              FieldSpec("v", "值", DataType.INTEGER))
    store = DuckRows(Path(sys.argv[1]))
    me = int(sys.argv[2])
    for round_ in range(5):
        keys = [f"w{me}-{i:04d}" for i in range(2000)]
        rows = pa.table({"k": pa.array(keys), "v": pa.array([round_] * 2000, pa.int64())})
        store.upsert("R", fields, ("k",), rows)
        page = store.read("R", columns=["k", "v"], limit=100_000)
        mine = {r["v"] for r in page.rows if r["k"].startswith(f"w{me}-")}
        assert mine == {round_}, mine  # this worker's whole load, never half of it
        assert page.total % 2000 == 0, page.total
    print("ok")
    """
)


def test_workers_take_turns_and_read_whole_loads(tmp_path: Path) -> None:
    root = tmp_path / "analytics"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(root), str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(3)
    ]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert out.strip() == "ok"
    store = DuckRows(root)
    assert store.count("R") == 6000
    assert {r["v"] for r in store.read("R", columns=["v"], limit=6000).rows} == {4}
