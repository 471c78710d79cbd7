"""Apps are found through entry points and satisfy the plug-in contract."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from opencitybrain.apps import plugin
from opencitybrain.apps.fleet.app import FleetApp
from opencitybrain.apps.plugin import App, load_apps


def test_the_fleet_app_is_found_through_its_entry_point() -> None:
    apps = load_apps()
    fleet = [a for a in apps if a.manifest.domain == "fleet"]
    assert len(fleet) == 1
    assert isinstance(fleet[0], FleetApp)
    assert isinstance(fleet[0], App)
    assert {r.prefix for r in fleet[0].routers()} == {"/api/v1/fleet"}
    assert "fleet:ingest" in fleet[0].manifest.permissions


def test_apps_can_be_left_out() -> None:
    kept = load_apps(enabled=lambda name: name != "fleet")
    assert all(a.manifest.domain != "fleet" for a in kept)
    assert len(kept) == len(load_apps()) - 1


def test_an_entry_point_that_is_no_app_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    bogus = EntryPoint("bogus", "builtins:object", plugin.ENTRY_POINT_GROUP)
    monkeypatch.setattr(plugin, "entry_points", lambda group: [bogus])
    with pytest.raises(TypeError, match="bogus"):
        load_apps()
