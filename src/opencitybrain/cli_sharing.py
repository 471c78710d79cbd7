"""``citybrain audit …``: verify the sharing audit chain and sign a checkpoint.

Runs on the server with the platform's settings (database, data folder, secret): the
checkpoints' key is derived from the platform secret, so only the platform can sign, and
anyone holding its public key (printed here and by ``GET /api/v1/sharing/audit/verify``)
can check the signatures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from opencitybrain.adapters.migrate import upgrade
from opencitybrain.adapters.sql import make_engine
from opencitybrain.bootstrap import platform_secret
from opencitybrain.kernel.clock import RealClock
from opencitybrain.kernel.settings import Settings
from opencitybrain.sharing.audit import CheckpointSigner
from opencitybrain.sharing.audit_store import SqlAuditStore
from opencitybrain.sharing.trail import AuditTrail

audit_app = typer.Typer(help="共享审计 / sharing audit trail", no_args_is_help=True)
console = Console()

DataDir = Annotated[Path | None, typer.Option(help="数据目录 / data folder")]


def _trail(data_dir: Path | None) -> AuditTrail:
    given = {"data_dir": data_dir} if data_dir is not None else {}
    settings = Settings(**given)  # type: ignore[arg-type]
    engine = make_engine(settings.sql_url)
    upgrade(engine)
    signer = CheckpointSigner(platform_secret(settings))
    return AuditTrail(SqlAuditStore(engine), signer, RealClock())


@audit_app.command("verify")
def audit_verify(data_dir: DataDir = None) -> None:
    """Verify every record and signed checkpoint; name the first bad record (exit 1)."""
    trail = _trail(data_dir)
    v = trail.verify_all()
    console.print(f"公钥 / public key: {trail.signer.public_key}")
    console.print(f"记录 / records: {v.records} · 检查点 / checkpoints: {v.checkpoints}")
    if v.ok:
        console.print(f"[green]审计链完整 / chain intact[/green] · head {v.head_seq} {v.head_hash}")
        return
    console.print(
        f"[red]第 {v.first_bad_seq} 条记录有误：{v.reason_zh} / "
        f"record {v.first_bad_seq} is bad: {v.reason}[/red]"
    )
    console.print(f"最后一条完好的记录 / last good record: {v.head_seq}")
    raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint(data_dir: DataDir = None) -> None:
    """Sign a checkpoint of the chain's head now."""
    cp = _trail(data_dir).checkpoint()
    if cp is None:
        console.print("审计链为空 / the chain is empty")
        return
    console.print(f"已签名检查点 / signed checkpoint: {cp.seq} {cp.hash}")
