"""Verify a long audit chain on every core: runs of the chain walked in parallel processes.

The chain is cut at sequence numbers into as many runs as there are processes. Each run
is walked by :func:`~opencitybrain.sharing.audit.walk` in a process of its own (its own
database connection), starting after the record that ends the run before it, with that
record's stored hash as its link. The run before checks that very record (its content
and its hash), so the runs together check exactly what one walk from the genesis checks:
the parent then requires each run to end where the next one starts, takes the first bad
run's verdict (counts made whole), and checks the signed checkpoints' signatures and
that none lies beyond the head. Processes are spawned, not forked (a serving process has
threads whose locks a fork would copy).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import sqlalchemy as sa

from opencitybrain.sharing.audit import (
    GENESIS,
    Checkpoint,
    CheckpointSigner,
    Verdict,
    truncated,
    verify_rows,
)
from opencitybrain.sharing.audit_runs import run_sql, run_sqlite
from opencitybrain.sharing.audit_store import SqlAuditStore

Walker = Callable[[str, int, int | None, str, dict[int, str]], Verdict]
PARALLEL_FROM = 200_000  # shorter chains are walked in this process (spawning costs ~1 s)


def verify_in_parallel(
    store: SqlAuditStore, checkpoints: list[Checkpoint], signer: CheckpointSigner, processes: int
) -> Verdict:
    """Verify the whole chain, in ``processes`` runs when it is long enough to pay."""
    head, _ = store.head()
    url = store.engine.url
    sqlite = url.get_backend_name() == "sqlite"
    in_memory = sqlite and url.database in (None, "", ":memory:")  # no other process sees it
    if processes < 2 or head < PARALLEL_FROM or in_memory:
        return verify_rows(store.rows(), checkpoints, signer)
    for cp in checkpoints:
        if not signer.valid(cp):
            return verify_rows((), checkpoints, signer)  # names the bad checkpoint
    pinned = {cp.seq: cp.hash for cp in checkpoints}
    cuts = [head * i // processes for i in range(processes)]
    links = [GENESIS, *(_stored_hash(store.engine, c) for c in cuts[1:])]
    walker: Walker
    if sqlite:
        walker, where = run_sqlite, str(url.database)
    else:
        walker, where = run_sql, url.render_as_string(hide_password=False)
    ends: list[int | None] = [*cuts[1:], None]  # the last run reads to the chain's end
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        runs = list(pool.map(walker, [where] * processes, cuts, ends, links, [pinned] * processes))
    records = checkpoints_seen = 0
    for run, end in zip(runs, ends, strict=True):
        run = replace(run, records=run.records + records,
                      checkpoints=run.checkpoints + checkpoints_seen)  # fmt: skip
        if not run.ok:
            return run
        if end is not None and run.head_seq != end:  # the run's last records are gone
            return Verdict(False, run.records, run.checkpoints, run.head_seq, run.head_hash,
                           run.head_seq + 1, "record missing (deleted)",
                           "记录序号不连续（有记录被删除或插入）")  # fmt: skip
        records, checkpoints_seen = run.records, run.checkpoints
    return truncated(run, pinned)


def _stored_hash(engine: sa.Engine, seq: int) -> str:
    with engine.connect() as conn:
        found = conn.execute(
            sa.text("SELECT hash FROM sharing_audit WHERE seq = :seq"), {"seq": seq}
        ).scalar()
    return str(found) if found is not None else ""  # a missing record: the run before says so
