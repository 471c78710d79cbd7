"""What the ``citybrain`` sub-command modules share: the console and settings from the
environment (a bad setting ends the command with exit code 2 and the reason)."""

from __future__ import annotations

import typer
from rich.console import Console

from opencitybrain.kernel.settings import Settings

console = Console()


def settings_or_exit(**overrides: object) -> Settings:
    """Return the settings (environment, TOML, these overrides) or exit 2 with the reason."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)  # type: ignore[arg-type]
    except Exception as exc:
        console.print(f"[red]配置错误 / bad settings:[/red] {exc}")
        raise typer.Exit(2) from exc
