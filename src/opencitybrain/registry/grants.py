"""Golden-record reads under sharing's grants: what a caller sees in clear, and the audit.

The registry's lookups read the same resources a grant names (``resources.py``), so the
rule is sharing's (``GovernedReader``): a caller of another department needs a live grant
of its department for the kind's resource, stated with the grant's purpose
(``X-Purpose``); the grant's cleared fields are shown in clear and every other field
masked (fields outside the grant are masked too, not omitted, so a record keeps its
shape). A grant with a row filter does not clear golden records here (the filter is
applied on the governed rows route; a single lookup is not checked against it). The
bureau's own staff with ``sharing:decide`` see its records in clear, as a provider does.
Without a grant everything is masked. Every read is appended to the sharing audit
chain: who, the resource, the fields, the rows, the hash of what was returned, the grant.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote

from opencitybrain.accounts.model import Permission
from opencitybrain.accounts.service import allowed
from opencitybrain.kernel.clock import Clock
from opencitybrain.kernel.events import Context
from opencitybrain.registry.resources import RESOURCE_FIELDS, GoldenShelf
from opencitybrain.registry.store import Kind
from opencitybrain.sharing.audit import AuditEntry, AuditKind, result_hash
from opencitybrain.sharing.model import Grant
from opencitybrain.sharing.store import SharingStore
from opencitybrain.sharing.trail import AuditTrail

MAX_GRANTS = 200


@dataclass(frozen=True, slots=True)
class Clearing:
    """What one caller may see of one kind: the fields in clear, and under which grant."""

    resource_id: str = ""
    cleared: frozenset[str] = frozenset()
    grant_id: str | None = None
    own: bool = False


@dataclass(frozen=True, slots=True)
class Shown:
    """Golden records of one kind that a read returned, as the caller received them."""

    kind: Kind
    rows: Sequence[dict[str, Any]]


class ReadLog(Protocol):
    """Where the registry's reads are recorded (the sharing audit chain)."""

    def record(self, ctx: Context, shown: Sequence[Shown], document: dict[str, Any]) -> None:
        """Record one read: the golden records of each kind it returned."""
        ...


class GrantGate:
    """The registry's ``Clearance`` and read log, backed by sharing's grants and audit."""

    def __init__(
        self, shelf: GoldenShelf, store: SharingStore, trail: AuditTrail, clock: Clock
    ) -> None:
        self.shelf = shelf
        self.store = store
        self.trail = trail
        self.clock = clock
        # The clearing each read masked with, kept per thread until the read is recorded,
        # so the audit names the very grant that cleared what was returned.
        self._used = threading.local()

    def __call__(self, ctx: Context, kind: Kind) -> frozenset[str]:
        """Return the fields of a kind the caller's grant (or provider role) shows in clear."""
        clearing = self.clearing(ctx, kind)
        used: dict[tuple[str, Kind], Clearing] = self._used.__dict__.setdefault("by", {})
        used[ctx.actor, kind] = clearing
        return clearing.cleared

    def clearing(self, ctx: Context, kind: Kind) -> Clearing:
        """Return the caller's clearing for a kind's golden records."""
        rid = self.shelf.resource_id(kind)
        if rid is None:
            return Clearing()
        if ctx.department and ctx.department == self.shelf.department:
            every = frozenset(f.name for f in RESOURCE_FIELDS[kind])
            mine = every if allowed(ctx, Permission.SHARING_DECIDE) else frozenset()
            return Clearing(rid, mine, None, own=True)
        grant = self._grant(ctx, rid)
        if grant is None:
            return Clearing(rid)
        return Clearing(rid, frozenset(grant.cleared) & frozenset(grant.fields), grant.id)

    def _grant(self, ctx: Context, resource_id: str) -> Grant | None:
        """Return the caller's live grant for the resource with its stated purpose."""
        purpose = unquote(ctx.purpose or "").strip()
        if not ctx.department or not purpose:
            return None
        now = self.clock.now()
        fitting = [
            g
            for g in self.store.grants(ctx.department, MAX_GRANTS)
            if g.department_id == ctx.department
            and g.resource_id == resource_id
            and g.live(now)
            and not g.row_filter
            and g.purpose.strip() == purpose
        ]
        if not fitting:
            return None
        # The grant that clears most, then the newest: a reader gets its best right.
        return max(fitting, key=lambda g: (len(set(g.cleared) & set(g.fields)), g.granted_at))

    def record(self, ctx: Context, shown: Sequence[Shown], document: dict[str, Any]) -> None:
        """Append one audit record per kind a read returned (the first: the whole answer).

        The first record's hash is of the whole document the route returns (canonical
        JSON: an auditor re-hashes the received body the same way); each further kind's
        record hashes the rows of that kind.
        """
        used: dict[tuple[str, Kind], Clearing] = self._used.__dict__.setdefault("by", {})
        entries = []
        for n, part in enumerate(shown):
            clearing = used.pop((ctx.actor, part.kind), None) or self.clearing(ctx, part.kind)
            specs = {f.name: f for f in RESOURCE_FIELDS[part.kind]}
            fields = tuple(dict.fromkeys(k for row in part.rows for k in row if k in specs))
            masked = [f for f in fields if f not in clearing.cleared
                      and specs[f].masking.value != "none"]  # fmt: skip
            entries.append(
                AuditEntry(
                    AuditKind.READ,
                    ctx,
                    self.clock.now(),
                    clearing.resource_id or f"registry/{part.kind}",
                    fields,
                    len(part.rows),
                    result_hash(document if n == 0 else list(part.rows)),
                    subject=clearing.grant_id or "",
                    detail={
                        "via": "registry",
                        "kind": part.kind,
                        "masked": masked,
                        "own": clearing.own,
                    },
                )
            )
        if entries:
            self.trail.record_many(entries)


class NoLog:
    """A read log that keeps nothing (a registry without sharing: tests, the CLI)."""

    def record(self, ctx: Context, shown: Sequence[Shown], document: dict[str, Any]) -> None:
        """Keep nothing."""
