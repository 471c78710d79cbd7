"""The audit chain: appends, signed checkpoints, and verification that names the bad record."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opencitybrain.kernel.events import Context
from opencitybrain.sharing import audit_parallel
from opencitybrain.sharing import tables as t
from opencitybrain.sharing.audit import AuditEntry, AuditKind, CheckpointSigner, verify_chain
from opencitybrain.sharing.audit_store import SqlAuditStore
from opencitybrain.sharing.trail import AuditTrail
from tests.integration.sharing.conftest import World

ADMIN = Context(actor="u-admin", department="bureau", roles=frozenset({"bureau_admin"}))
READER = Context(actor="u-t", department="transport", roles=frozenset({"department_staff"}),
                 purpose="核验")  # fmt: skip


def fill(w: World, n: int) -> None:
    entries = [
        AuditEntry(AuditKind.READ, READER, w.clock.now(), "res-1", ("name",), i, f"{i:064x}")
        for i in range(n)
    ]
    w.trail.record_many(entries)


def fresh(w: World) -> SqlAuditStore:
    """Return a store without the cached head (as another process would see the table)."""
    return SqlAuditStore(w.audit_store._engine)


def test_records_chain_and_checkpoints_are_signed(world: World) -> None:
    fill(world, 25)
    cps = world.audit_store.checkpoints()
    assert [cp.seq for cp in cps] == [25]  # a batch crossing multiples of 10 signs its end
    world.trail.record(AuditEntry(AuditKind.READ, READER, world.clock.now(), "res-1"))
    world.trail.checkpoint()
    verdict = world.trail.verify(ADMIN)
    assert verdict.ok
    assert verdict.records == 26
    assert verdict.checkpoints == 2
    assert verdict.head_seq == 26


def _engine(w: World) -> sa.Engine:
    return w.audit_store._engine


def test_an_edited_record_fails_at_that_record(world: World) -> None:
    fill(world, 30)
    with _engine(world).begin() as conn:
        conn.execute(t.audit.update().where(t.audit.c.seq == 17).values(row_count=0))
    verdict = world.trail.verify(ADMIN)
    assert not verdict.ok
    assert verdict.first_bad_seq == 17
    assert verdict.reason == "record content changed"
    assert verdict.head_seq == 16


def test_a_deleted_record_is_found(world: World) -> None:
    fill(world, 30)
    with _engine(world).begin() as conn:
        conn.execute(t.audit.delete().where(t.audit.c.seq == 12))
    verdict = world.trail.verify(ADMIN)
    assert not verdict.ok
    assert verdict.first_bad_seq == 12


def test_a_rehashed_edit_is_caught_by_the_next_link(world: World) -> None:
    fill(world, 5)
    rec = next(r for r in world.audit_store.records() if r.seq == 3)
    forged = replace(rec, actor="someone-else")
    forged = replace(forged, hash=forged.expected_hash())
    with _engine(world).begin() as conn:
        conn.execute(
            t.audit.update().where(t.audit.c.seq == 3).values(actor=forged.actor, hash=forged.hash)
        )
    verdict = world.trail.verify(ADMIN)
    assert verdict.first_bad_seq == 4
    assert verdict.reason == "link to previous record broken"


def test_truncation_below_a_checkpoint_is_found(world: World) -> None:
    fill(world, 20)
    with _engine(world).begin() as conn:
        conn.execute(t.audit.delete().where(t.audit.c.seq > 15))
    verdict = world.trail.verify(ADMIN)
    assert not verdict.ok
    assert verdict.first_bad_seq == 16
    assert "truncated" in verdict.reason


def test_a_forged_checkpoint_is_refused(world: World) -> None:
    fill(world, 10)
    other = CheckpointSigner("another secret")
    records = list(world.audit_store.records())
    forged = other.sign(10, records[-1].hash, world.clock.now())
    verdict = verify_chain(records, [forged], world.trail.signer)
    assert not verdict.ok
    assert verdict.reason == "checkpoint signature invalid"


def test_another_process_appending_is_chained_not_forked(world: World) -> None:
    fill(world, 3)
    other = AuditTrail(fresh(world), world.trail.signer, world.clock, every=10)
    other.record(AuditEntry(AuditKind.READ, READER, world.clock.now(), "res-2"))
    fill(world, 2)  # this process's cached head is stale: it must re-read and re-seal
    verdict = world.trail.verify(ADMIN)
    assert verdict.ok
    assert verdict.records == 6


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.integers(min_value=1, max_value=40), st.data())
def test_any_single_edit_is_named(world: World, n: int, data: st.DataObject) -> None:
    with _engine(world).begin() as conn:
        conn.execute(t.audit.delete())
        conn.execute(t.checkpoints.delete())
    trail = AuditTrail(fresh(world), world.trail.signer, world.clock, every=10)
    trail.record_many(
        [AuditEntry(AuditKind.READ, READER, world.clock.now(), "r", (), i) for i in range(n)]
    )
    victim = data.draw(st.integers(min_value=1, max_value=n))
    column = data.draw(st.sampled_from(["kind", "actor", "purpose", "fields", "detail", "at"]))
    with _engine(world).begin() as conn:
        conn.execute(t.audit.update().where(t.audit.c.seq == victim).values({column: "X"}))
    verdict = trail.verify_all()
    assert verdict.first_bad_seq == victim


def _tamper(w: World, how: str) -> None:
    with _engine(w).begin() as conn:
        if how == "edit":
            conn.execute(t.audit.update().where(t.audit.c.seq == 41).values(row_count=-1))
        elif how == "delete at the cut":  # the record that ends the first run
            conn.execute(t.audit.delete().where(t.audit.c.seq == 30))
        elif how == "relink":
            conn.execute(t.audit.update().where(t.audit.c.seq == 31).values(prev_hash="0" * 64))
        elif how == "truncate":
            conn.execute(t.audit.delete().where(t.audit.c.seq > 52))


@pytest.mark.parametrize("how", ["none", "edit", "delete at the cut", "relink", "truncate"])
def test_a_parallel_verification_gives_the_serial_verdict(
    world: World, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_parallel, "PARALLEL_FROM", 0)
    fill(world, 61)  # two runs: 1–30 and 31–61; checkpoints every 10
    _tamper(world, how)
    serial = verify_chain(fresh(world).records(), world.audit_store.checkpoints(),
                          world.trail.signer)  # fmt: skip
    parallel = world.trail.verify_all(processes=2)
    assert parallel == serial
    assert parallel.ok is (how == "none")
