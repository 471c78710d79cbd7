from pathlib import Path

import pytest
from pydantic import ValidationError

from opencitybrain.kernel.settings import Settings


def test_defaults_use_embedded_engines(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    s = Settings()
    assert s.sql_url == "sqlite:///citybrain-data/citybrain.db"
    assert s.bus_url == "memory://"
    assert s.port == 8000


def test_environment_overrides_toml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "cb.toml"
    cfg.write_text('port = 9001\nbus_url = "nats://127.0.0.1:4222"\nsim_speed = 30\n')
    monkeypatch.setenv("CITYBRAIN_CONFIG", str(cfg))
    monkeypatch.setenv("CITYBRAIN_PORT", "9002")
    s = Settings()
    assert s.port == 9002  # environment beats the file
    assert s.bus_url == "nats://127.0.0.1:4222"
    assert s.sim_speed == 30


def test_secret_is_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYBRAIN_SECRET_KEY", "x" * 40)
    s = Settings()
    assert "x" * 40 not in repr(s)
    assert s.secret_key is not None
    assert s.secret_key.get_secret_value() == "x" * 40


@pytest.mark.parametrize(
    ("field", "value"),
    [("database_url", "mysql://x"), ("bus_url", "kafka://x"), ("port", "0"), ("sim_speed", "-1")],
)
def test_bad_settings_are_refused(monkeypatch: pytest.MonkeyPatch, field: str, value: str) -> None:
    monkeypatch.setenv(f"CITYBRAIN_{field.upper()}", value)
    with pytest.raises(ValidationError):
        Settings()


def test_unknown_toml_key_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "cb.toml"
    cfg.write_text("prot = 1\n")
    monkeypatch.setenv("CITYBRAIN_CONFIG", str(cfg))
    with pytest.raises(ValidationError):
        Settings()
