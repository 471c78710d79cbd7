"""``citybrain registry load`` and ``build``: departments' tables through the catalogue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opencitybrain.adapters.duckdb_rows import DuckRows
from opencitybrain.bootstrap import open_accounts
from opencitybrain.catalog.service import CatalogService
from opencitybrain.catalog.store import SqlCatalogStore
from opencitybrain.citypack.loader import load_pack
from opencitybrain.cli import app
from opencitybrain.kernel.bus import InProcessBus
from opencitybrain.kernel.clock import RealClock
from opencitybrain.kernel.settings import Settings
from opencitybrain.registry.resources import GoldenShelf
from opencitybrain.registry.store import KINDS
from opencitybrain.sim.demo_org import DemoCounty, seed_demo_org

runner = CliRunner()


@pytest.fixture
def data_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CITYBRAIN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    engine, accounts = open_accounts(settings)
    pack = load_pack(settings.city_pack, cache_dir=settings.data_dir / "cache")
    counties = [DemoCounty(c.code, c.name_zh, c.code) for c in pack.counties]
    m = pack.manifest
    seed_demo_org(accounts, m.city_code, m.name_zh, m.name_en, counties)
    engine.dispose()
    return tmp_path


def test_load_then_build_reconciles_and_a_rebuild_changes_nothing(data_env: Path) -> None:
    out = data_env / "pop"
    res = runner.invoke(app, ["sim", "population", "--people", "800", "--out", str(out)])
    assert res.exit_code == 0, res.stdout
    res = runner.invoke(app, ["registry", "load", str(out)])
    assert res.exit_code == 0, res.stdout
    sources = json.loads((data_env / "data" / "registry" / "sources.json").read_text())
    assert len(sources) == 7
    res = runner.invoke(app, ["registry", "build"])
    assert res.exit_code == 0, res.stdout
    people = next(line for line in res.stdout.splitlines() if "people" in line)
    assert "✓" in people
    golden = {
        line.split("│")[1].strip(): int(line.split("│")[6].strip().replace(",", ""))
        for line in res.stdout.splitlines()
        if any(f" {k} " in line for k in KINDS)
    }
    assert golden.keys() == set(KINDS)
    # The build wrote the golden records as the bureau's resources' rows at once.
    assert _resource_rows(data_env) == {k: (golden[k], 1) for k in KINDS}
    again = runner.invoke(app, ["registry", "load", str(out)])
    assert again.exit_code == 0, again.stdout
    rebuilt = runner.invoke(app, ["registry", "build"])
    assert rebuilt.exit_code == 0, rebuilt.stdout
    line = next(x for x in rebuilt.stdout.splitlines() if "people" in x)
    cells = [c.strip() for c in line.split("│") if c.strip()]
    assert cells[6:9] == ["0", "0", "0"]  # nothing added, changed or removed


def _resource_rows(data_env: Path) -> dict[str, tuple[int, int]]:
    """Return each registry resource's current rows and the build they hold."""
    settings = Settings()
    engine, accounts = open_accounts(settings)
    try:
        catalog = CatalogService(SqlCatalogStore(engine), accounts, RealClock(), InProcessBus())
        rows = DuckRows(settings.data_dir / "analytics")
        shelf = GoldenShelf(catalog, rows, rows, settings.data_dir / "registry")
        found = {}
        for kind in KINDS:
            rid = shelf.resource_id(kind)
            assert rid is not None, kind
            found[kind] = (rows.count(rid), shelf.shared_build(kind))
        return found
    finally:
        engine.dispose()
