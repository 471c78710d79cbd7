"""The audit trail use cases: append, sign checkpoints, query and verify the chain."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

from opencitybrain.accounts.model import Permission
from opencitybrain.accounts.service import ensure
from opencitybrain.kernel.clock import Clock
from opencitybrain.kernel.events import Context
from opencitybrain.sharing.audit import (
    CHECKPOINT_EVERY,
    AuditEntry,
    AuditRecord,
    Checkpoint,
    CheckpointSigner,
    Verdict,
    verify_rows,
)
from opencitybrain.sharing.audit_parallel import verify_in_parallel
from opencitybrain.sharing.audit_store import AuditStore, SqlAuditStore

MAX_RECENT = 500


class AuditTrail:
    """Append to the hash chain, sign a checkpoint every ``every`` records, verify it all."""

    def __init__(
        self,
        store: AuditStore,
        signer: CheckpointSigner,
        clock: Clock,
        every: int = CHECKPOINT_EVERY,
    ) -> None:
        self.store = store
        self.signer = signer
        self.clock = clock
        self.every = every
        self._lock = threading.Lock()

    def record(self, *entries: AuditEntry) -> list[AuditRecord]:
        """Append entries; sign a checkpoint when the chain passes a multiple of ``every``."""
        return self.record_many(entries)

    def record_many(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        """Append a batch of entries in one transaction (one chain step each)."""
        sealed = self.store.append(entries)
        if sealed and (sealed[0].seq - 1) // self.every != sealed[-1].seq // self.every:
            last = sealed[-1]
            self.store.add_checkpoint(self.signer.sign(last.seq, last.hash, self.clock.now()))
        return sealed

    def checkpoint(self) -> Checkpoint | None:
        """Sign the current head now (None: the chain is empty)."""
        seq, chain_hash = self.store.head()
        if seq == 0:
            return None
        cp = self.signer.sign(seq, chain_hash, self.clock.now())
        self.store.add_checkpoint(cp)
        return cp

    def verify(self, ctx: Context) -> Verdict:
        """Verify the whole chain and every checkpoint (auditors)."""
        ensure(ctx, Permission.AUDIT_READ)
        return self.verify_all()

    def verify_all(self, processes: int | None = None) -> Verdict:
        """Verify the whole chain and every checkpoint (no permission check: the CLI).

        A long chain in SQL is walked in runs on every core (``audit_parallel``).
        """
        checkpoints = self.store.checkpoints()
        if isinstance(self.store, SqlAuditStore):
            cores = processes if processes is not None else min(os.cpu_count() or 1, 8)
            return verify_in_parallel(self.store, checkpoints, self.signer, cores)
        return verify_rows(self.store.rows(), checkpoints, self.signer)

    def recent(
        self,
        ctx: Context,
        limit: int = 100,
        resource_id: str | None = None,
        department: str | None = None,
    ) -> list[AuditRecord]:
        """Return the newest records (auditors)."""
        ensure(ctx, Permission.AUDIT_READ)
        return self.store.recent(min(max(limit, 1), MAX_RECENT), resource_id, department)
