"""``citybrain open …``: release an extract of a resource to the open data portal.

``citybrain open release <resource> --k 5 --qi birth_date,county [--fields diagnosis]``
makes a k-anonymous release; ``citybrain open release <resource> --dp --epsilon 1
[--group-by county] [--value cost --lower 0 --upper 5000]`` a differentially private one.
Runs on the server with the platform's settings and acts as the platform (``system``),
audited as ``cli:<login>`` like ``citybrain catalog load``.
"""

from __future__ import annotations

import asyncio
import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from opencitybrain.bootstrap import platform_secret
from opencitybrain.cli_session import catalog_session
from opencitybrain.kernel.errors import CityBrainError
from opencitybrain.kernel.events import Context
from opencitybrain.kernel.settings import Settings
from opencitybrain.sharing.audit import CheckpointSigner
from opencitybrain.sharing.audit_store import SqlAuditStore
from opencitybrain.sharing.release_model import (
    DEFAULT_SUPPRESSION,
    DpSpec,
    KAnonSpec,
    Release,
    ReleaseMode,
    ReleaseSpec,
)
from opencitybrain.sharing.release_service import ReleaseService
from opencitybrain.sharing.release_store import ParquetReleaseFiles, SqlReleaseStore
from opencitybrain.sharing.trail import AuditTrail

open_app = typer.Typer(help="数据开放 / open data releases", no_args_is_help=True)
console = Console()


def _actor() -> Context:
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "unknown"
    return Context(actor=f"cli:{login}"[:64], roles=frozenset({"system"}), purpose="cli-release")


def _names(text: str | None) -> tuple[str, ...]:
    return tuple(n.strip() for n in (text or "").split(",") if n.strip())


async def _release(settings: Settings, ref: str, spec: ReleaseSpec) -> Release:
    async with catalog_session(settings) as s:
        resource = s.catalog.find(Context.system("cli-release"), ref)
        trail = AuditTrail(
            SqlAuditStore(s.engine), CheckpointSigner(platform_secret(settings)), s.clock
        )
        svc = ReleaseService(
            s.catalog,
            s.rows,
            SqlReleaseStore(s.engine),
            ParquetReleaseFiles(settings.data_dir / "releases"),
            trail,
            s.clock,
            s.bus,
        )
        return await svc.release(_actor(), ReleaseSpec(resource.id, spec.title, spec.mode,
                                                       spec.kanon, spec.dp))  # fmt: skip


def _print(r: Release) -> None:
    console.print(f"[green]已开放 / released[/green] {r.id} · {r.title} · {r.row_count} 行 / rows")
    table = Table("参数 / parameter", "值 / value")
    for k, v in {**r.params, **r.outcome}.items():
        table.add_row(k, str(v)[:200])
    console.print(table)


@open_app.command("release")
def open_release(
    resource: Annotated[str, typer.Argument(help="资源代码、别名或标识 / resource code, slug, id")],
    k: Annotated[int | None, typer.Option("--k", help="k-匿名的 k / k of k-anonymity")] = None,
    qi: Annotated[str | None, typer.Option(help="准标识符，逗号分隔 / quasi-identifiers")] = None,
    fields: Annotated[str | None, typer.Option(help="原样开放的属性 / attributes")] = None,
    max_suppression: Annotated[float, typer.Option(help="最大抑制比例")] = DEFAULT_SUPPRESSION,
    dp: Annotated[bool, typer.Option("--dp", help="差分隐私统计 / DP counts and sums")] = False,
    epsilon: Annotated[float | None, typer.Option(help="隐私预算 ε / epsilon")] = None,
    group_by: Annotated[str | None, typer.Option(help="分类字段 / category field")] = None,
    value: Annotated[str | None, typer.Option(help="数值字段 / numeric field")] = None,
    lower: Annotated[float | None, typer.Option(help="下界 / lower bound")] = None,
    upper: Annotated[float | None, typer.Option(help="上界 / upper bound")] = None,
    title: Annotated[str | None, typer.Option(help="标题 / title")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="数据目录 / data folder")] = None,
) -> None:
    """Release an extract with k-anonymity (--k, --qi) or as DP statistics (--dp --epsilon)."""
    given = {"data_dir": data_dir} if data_dir is not None else {}
    settings = Settings(**given)  # type: ignore[arg-type]
    if dp:
        mode = ReleaseMode.DP
        kanon, dps = (
            None,
            DpSpec(epsilon if epsilon is not None else 0.0, group_by, value, lower, upper),
        )
    else:
        mode = ReleaseMode.K_ANONYMITY
        kanon = KAnonSpec(_names(qi), k if k is not None else 0, max_suppression, _names(fields))
        dps = None
    name = title or f"{resource} · {'ε=' + str(epsilon) if dp else f'k={k}'}"
    try:
        r = asyncio.run(_release(settings, resource, ReleaseSpec("", name, mode, kanon, dps)))
    except CityBrainError as exc:
        console.print(f"[red]{exc.message}[/red] ({exc.code})")
        for err in exc.errors[:20]:
            console.print(f"  {err.field}: {err.reason}")
        raise typer.Exit(1) from exc
    _print(r)
