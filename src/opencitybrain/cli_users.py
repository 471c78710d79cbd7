"""``citybrain users …``: list and create users, set passwords, create API keys.

Passwords and keys are generated and printed once; nothing else ever shows them.
"""

from __future__ import annotations

import secrets
from typing import Annotated

import typer
from rich.table import Table

from opencitybrain.accounts.model import Role
from opencitybrain.bootstrap import open_accounts
from opencitybrain.cli_support import console
from opencitybrain.cli_support import settings_or_exit as _settings
from opencitybrain.kernel.errors import CityBrainError
from opencitybrain.kernel.events import Context

users_app = typer.Typer(help="用户与密钥 / users and API keys", no_args_is_help=True)


@users_app.command("list")
def users_list() -> None:
    """List users."""
    settings = _settings()
    _, accounts = open_accounts(settings)
    table = Table("username", "display name", "department", "roles", "active")
    for u in accounts.users(Context.system("cli")):
        table.add_row(
            u.username,
            u.display_name,
            u.department_id,
            ",".join(sorted(u.roles)),
            "yes" if u.is_active else "no",
        )
    console.print(table)


@users_app.command("create")
def users_create(
    username: str,
    department: Annotated[str, typer.Option(help="部门编号 / department id")],
    role: Annotated[list[Role], typer.Option(help="角色 / role (repeatable)")],
    display_name: Annotated[str, typer.Option(help="显示名 / display name")] = "",
) -> None:
    """Create a user with a generated password (printed once)."""
    settings = _settings()
    _, accounts = open_accounts(settings)
    password = secrets.token_urlsafe(12)
    try:
        accounts.create_user(
            Context.system("cli"),
            username,
            display_name or username,
            department,
            frozenset(role),
            password,
        )
    except CityBrainError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"{username}: {password}")


@users_app.command("set-password")
def users_set_password(username: str) -> None:
    """Give a user a new generated password (printed once)."""
    settings = _settings()
    _, accounts = open_accounts(settings)
    password = secrets.token_urlsafe(12)
    try:
        accounts.set_password(Context.system("cli"), accounts.find_user(username).id, password)
    except CityBrainError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"{username}: {password}")


@users_app.command("create-key")
def users_create_key(
    username: str, name: Annotated[str, typer.Option(help="用途 / what it is for")] = "cli"
) -> None:
    """Create an API key for a user (printed once; also usable as OAuth2 client credentials)."""
    settings = _settings()
    _, accounts = open_accounts(settings)
    try:
        _, key = accounts.create_api_key(
            Context.system("cli"), accounts.find_user(username).id, name
        )
    except CityBrainError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from exc
    console.print(key)
