"""``citybrain audit verify`` and ``citybrain audit checkpoint`` on a data folder."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opencitybrain.adapters.sql import make_engine
from opencitybrain.bootstrap import platform_secret
from opencitybrain.cli import app
from opencitybrain.kernel.clock import ManualClock
from opencitybrain.kernel.events import Context
from opencitybrain.kernel.settings import Settings
from opencitybrain.sharing import tables as t
from opencitybrain.sharing.audit import AuditEntry, AuditKind, CheckpointSigner
from opencitybrain.sharing.audit_store import SqlAuditStore
from opencitybrain.sharing.trail import AuditTrail

runner = CliRunner()


def test_verify_names_the_first_bad_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("CITYBRAIN_DATA_DIR", str(data))
    res = runner.invoke(app, ["audit", "verify"])
    assert res.exit_code == 0, res.output
    settings = Settings(data_dir=data)
    engine = make_engine(settings.sql_url)
    trail = AuditTrail(SqlAuditStore(engine), CheckpointSigner(platform_secret(settings)),
                       ManualClock(datetime(2026, 11, 23, tzinfo=UTC)), every=5)  # fmt: skip
    ctx = Context(actor="u-1", department="transport", purpose="核验")
    trail.record_many([AuditEntry(AuditKind.READ, ctx, trail.clock.now(), "r", ("name",), i)
                       for i in range(12)])  # fmt: skip
    res = runner.invoke(app, ["audit", "checkpoint"])
    assert res.exit_code == 0, res.output
    assert "12" in res.output
    res = runner.invoke(app, ["audit", "verify"])
    assert res.exit_code == 0, res.output
    assert "chain intact" in res.output
    with engine.begin() as conn:
        conn.execute(t.audit.update().where(t.audit.c.seq == 7).values(purpose="别的"))
    res = runner.invoke(app, ["audit", "verify"])
    assert res.exit_code == 1
    assert "record 7 is bad" in res.output
    engine.dispose()
