"""``citybrain open release``: a k-anonymous and a DP release from the command line."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from typer.testing import CliRunner

from opencitybrain.accounts.model import DepartmentKind
from opencitybrain.adapters.duckdb_rows import DuckRows
from opencitybrain.bootstrap import open_accounts
from opencitybrain.catalog.model import DataType, FieldSpec, Level, Masking, OpenType
from opencitybrain.catalog.service import CatalogService
from opencitybrain.catalog.store import SqlCatalogStore
from opencitybrain.cli import app
from opencitybrain.kernel.bus import InProcessBus
from opencitybrain.kernel.clock import RealClock
from opencitybrain.kernel.events import Context
from opencitybrain.kernel.settings import Settings
from opencitybrain.sharing import tables as t
from tests.unit.catalog.samples import spec

runner = CliRunner()
FIELDS = (
    FieldSpec("person_id", "人员编号", DataType.STRING, is_identifier=True),
    FieldSpec("name", "姓名", DataType.STRING, Level.IMPORTANT, Masking.NAME),
    FieldSpec("county", "区县代码", DataType.STRING),
    FieldSpec("age", "年龄", DataType.INTEGER),
)


def _publish(data_dir: Path) -> tuple[str, sa.Engine]:
    engine, accounts = open_accounts(Settings(data_dir=data_dir))
    sys = Context.system()
    accounts.create_department(sys, "city", "示例市", "Example City", DepartmentKind.CITY)
    accounts.create_department(
        sys, "public-security", "公安局", "Public Security", DepartmentKind.DEPARTMENT, "city"
    )
    catalog = CatalogService(SqlCatalogStore(engine), accounts, RealClock(), InProcessBus())
    resource = asyncio.run(catalog.publish(sys, spec(fields=FIELDS, open_type=OpenType.OPEN)))
    rows = [{"person_id": f"P{i:04d}", "name": f"居民{i}", "county": f"3601{i % 4:02d}",
             "age": 18 + i % 60} for i in range(300)]  # fmt: skip
    DuckRows(data_dir / "analytics").upsert(
        resource.id, FIELDS, ("person_id",), pa.Table.from_pylist(rows)
    )
    return resource.code, engine


def test_open_release_k_anonymity_and_dp(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    code, engine = _publish(data_dir)
    base = ["open", "release", code, "--data-dir", str(data_dir)]
    res = runner.invoke(app, [*base, "--k", "5", "--qi", "county,age"])
    assert res.exit_code == 0, res.stdout
    assert "已开放 / released" in res.stdout
    assert "k_achieved" in res.stdout
    res = runner.invoke(app, [*base, "--dp", "--epsilon", "1", "--group-by", "county",
                              "--value", "age", "--lower", "0", "--upper", "120"])  # fmt: skip
    assert res.exit_code == 0, res.stdout
    assert "epsilon_spent" in res.stdout
    bad = runner.invoke(app, [*base, "--k", "5", "--qi", "name"])
    assert bad.exit_code == 1
    assert "release.identifier" in bad.stdout
    with engine.connect() as conn:
        ids = [r.id for r in conn.execute(sa.select(t.releases.c.id))]
        kinds = [r.kind for r in conn.execute(sa.select(t.audit.c.kind))]
    engine.dispose()
    assert len(ids) == 2
    assert kinds.count("released") == 2
    assert kinds.count("release_refused") == 1
    tables = [pq.read_table(data_dir / "releases" / f"{i}.parquet") for i in ids]
    assert {"county", "age"} in [set(x.column_names) for x in tables]
    assert all("name" not in x.column_names for x in tables)
