"""``citybrain catalog load``: a file into a resource, the report printed Chinese first."""

from __future__ import annotations

import asyncio
from pathlib import Path

from typer.testing import CliRunner

from opencitybrain.accounts.model import DepartmentKind
from opencitybrain.bootstrap import open_accounts
from opencitybrain.catalog.service import CatalogService
from opencitybrain.catalog.store import SqlCatalogStore
from opencitybrain.cli import app
from opencitybrain.kernel.bus import InProcessBus
from opencitybrain.kernel.clock import RealClock
from opencitybrain.kernel.events import Context
from opencitybrain.kernel.settings import Settings
from tests.unit.catalog.samples import spec

runner = CliRunner()


def _publish(data_dir: Path) -> str:
    engine, accounts = open_accounts(Settings(data_dir=data_dir))
    sys = Context.system()
    accounts.create_department(sys, "city", "示例市", "Example City", DepartmentKind.CITY)
    accounts.create_department(
        sys, "public-security", "公安局", "Public Security", DepartmentKind.DEPARTMENT, "city"
    )
    catalog = CatalogService(SqlCatalogStore(engine), accounts, RealClock(), InProcessBus())
    resource = asyncio.run(catalog.publish(sys, spec()))
    engine.dispose()
    return resource.code


def test_catalog_load_prints_the_report(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    code = _publish(data_dir)
    file = tmp_path / "people.csv"
    file.write_text(
        "姓名,公民身份号码,出生日期\n张三,11010519491231002X,1949-12-31\n李四,123,1990-01-01\n",
        encoding="gbk",
    )
    args = ["catalog", "load", code, str(file), "--data-dir", str(data_dir)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.stdout
    out = res.stdout
    assert "读入 2 行，入库 1 行（新增 1，更新 0，未变 0），隔离 1 行" in out
    assert out.index("读入") < out.index("rows in")
    assert "gb18030" in out
    assert "GB 11643" in out
    again = runner.invoke(app, args)
    assert "未变 1" in again.stdout
    moved = runner.invoke(app, [*args, "--key", "name"])
    assert moved.exit_code == 1
    assert "catalog.key_changed" in moved.stdout
    missing = runner.invoke(
        app, ["catalog", "load", "nope", str(file), "--data-dir", str(data_dir)]
    )
    assert missing.exit_code == 1
    assert "不存在" in missing.stdout
