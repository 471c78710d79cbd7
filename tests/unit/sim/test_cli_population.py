"""``citybrain sim population`` writes the departments' tables, truth and manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import stdnum.cn.ric as ric
from typer.testing import CliRunner

from opencitybrain.cli import app
from opencitybrain.sim.population import ALL_TABLES

runner = CliRunner()


@pytest.mark.slow
def test_sim_population_writes_parquet_on_the_packs_geography(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITYBRAIN_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "population"
    res = runner.invoke(
        app, ["sim", "population", "--people", "2000", "--out", str(out), "--seed", "3"]
    )
    assert res.exit_code == 0, res.stdout
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["sizes"] == {"people": 2000, "companies": 200, "vehicles": 1000}
    for schema in ALL_TABLES:
        table = pq.read_table(out / f"{schema.source}.parquet")
        truth = pq.read_table(out / "truth" / f"{schema.source}.parquet")
        assert table.num_rows == truth.num_rows > 0
    people = pq.read_table(out / "truth" / "people.parquet").to_pylist()
    assert all(ric.is_valid(p["id_number"]) for p in people)
    # Addresses use the pack's generated streets.
    assert any("第01街道" in p["address"] for p in people)
