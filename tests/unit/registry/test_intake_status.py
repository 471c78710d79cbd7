"""The intake status: phases, skips, counts, and a copy that later updates do not touch."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from opencitybrain.registry.intake_status import IntakeStatus

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def test_a_run_goes_from_idle_through_its_phases_to_done() -> None:
    status = IntakeStatus()
    assert status.state == "idle"
    status.start(NOW, {"people": 2000, "companies": 200, "vehicles": 1000})
    status.skip("generate")
    status.step("load", "public-security/czrk: 装载 / loading", 0.25)
    status.table("public-security/czrk", {"rows_in": 2010, "quarantined": 0})
    seen = status.snapshot()
    assert (seen["state"], seen["phase"], seen["fraction"]) == ("running", "load", 0.25)
    status.build("people", {"golden": 1998, "reconciles": True})
    status.resource("people", "r-1")
    status.finish(NOW, "基础库就绪 / registry ready")
    done = status.snapshot()
    assert done["state"] == "done"
    assert done["phase"] is None
    assert done["fraction"] == 1.0
    assert done["skipped"] == ["generate"]
    assert done["builds"] == {"people": {"golden": 1998, "reconciles": True}}
    assert done["resources"] == {"people": "r-1"}
    assert done["started_at"] == done["finished_at"] == NOW.isoformat()
    json.dumps(done)  # plain JSON for the API
    # The earlier copy is its own: later updates did not change it.
    assert seen["builds"] == {}
    assert seen["state"] == "running"


def test_disabled_and_failed_say_why() -> None:
    status = IntakeStatus()
    status.disable("演示未配置部门数据 / demo loads none")
    assert status.snapshot()["state"] == "disabled"
    status.start(NOW, {"people": 10})
    status.fail(NOW, "no manifest")
    failed = status.snapshot()
    assert (failed["state"], failed["error"]) == ("failed", "no manifest")
