"""Governed reads: grants, purpose, projection, row filters, masking, pseudonyms, audit."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from opencitybrain.catalog.rows import Condition, Op
from opencitybrain.kernel.errors import Forbidden, InvalidInput
from opencitybrain.kernel.events import Context
from opencitybrain.sharing.access import RowQuery, parse_filter, rows_hash
from opencitybrain.sharing.masking import pseudonym
from opencitybrain.sharing.model import RequestSpec
from opencitybrain.sharing.service import Decision
from tests.integration.sharing.conftest import MARKET, POLICE, ROWS, SECRET, TRANSPORT, World

PURPOSE = "违停车主通知"
ADMIN = Context(actor="u-admin", department="bureau", roles=frozenset({"bureau_admin"}))


def granted(w: World, **changes: object) -> str:
    """Return a live grant of the conditional resource to transport (approved by police)."""
    base: dict[str, object] = {
        "resource_id": w.conditional.id,
        "fields": ("person_id", "name", "id_number", "mobile", "district"),
        "purpose": PURPOSE,
        "scenario": "机动车违停处置一件事",
        "ends_at": w.clock.now() + timedelta(days=30),
    }
    base.update(changes)
    r = asyncio.run(w.sharing.submit(TRANSPORT, RequestSpec(**base)))  # type: ignore[arg-type]
    done = asyncio.run(w.sharing.approve(ADMIN, r.id, Decision(reason="同意")))
    assert done.grant_id is not None
    return done.grant_id


def reader(ctx: Context, purpose: str = PURPOSE) -> Context:
    return replace(ctx, purpose=purpose)


def test_a_grant_reads_masked_rows_of_its_fields(world: World) -> None:
    gid = granted(world)
    page = world.reader.read(reader(TRANSPORT), RowQuery(world.conditional.id, gid))
    assert page.fields == ("person_id", "name", "id_number", "mobile", "district")
    assert page.total == len(ROWS)
    first = page.rows[0]
    assert first == {"person_id": "P0001", "name": "段*", "id_number": "3***************1X",
                     "mobile": "139****0001", "district": "东湖区"}  # fmt: skip
    assert set(page.masked) == {"name", "id_number", "mobile"}
    raw = {v for row in ROWS for k, v in row.items() if k in ("name", "id_number", "mobile")}
    assert not raw & {v for row in page.rows for v in row.values()}


def test_cleared_fields_and_pseudonyms(world: World) -> None:
    gid = granted(world, clear_fields=("mobile",), clear_reason="电话通知车主")
    page = world.reader.read(
        reader(TRANSPORT), RowQuery(world.conditional.id, gid, pseudonyms=True, limit=2)
    )
    assert page.rows[0]["mobile"] == ROWS[0]["mobile"]
    assert page.rows[0]["id_number"] == pseudonym(SECRET, ROWS[0]["id_number"])
    assert page.pseudonymised == ("id_number",)
    assert len(page.rows) == 2


def test_the_grant_row_filter_is_always_applied(world: World) -> None:
    gid = granted(world, row_filter=(Condition("district", Op.EQ, "东湖区"),))
    page = world.reader.read(reader(TRANSPORT), RowQuery(world.conditional.id, gid, limit=100))
    assert page.total == 3
    assert {r["district"] for r in page.rows} == {"东湖区"}
    # A reader's own filter narrows further; it never widens the grant's.
    where = parse_filter(world.conditional, ["district:eq:西湖区"])
    out = world.reader.read(reader(TRANSPORT), RowQuery(world.conditional.id, gid, where=where))
    assert out.total == 0


def test_filtering_on_a_masked_field_is_refused(world: World) -> None:
    gid = granted(world)
    where = parse_filter(world.conditional, ["mobile:prefix:139"])
    with pytest.raises(Forbidden, match="masked"):
        world.reader.read(reader(TRANSPORT), RowQuery(world.conditional.id, gid, where=where))


@pytest.mark.parametrize(
    ("ctx", "query_changes", "code"),
    [
        (TRANSPORT, {"grant_id": None}, "sharing.needs_grant"),
        (MARKET, {}, "sharing.not_your_grant"),
        (replace(TRANSPORT, purpose="别的用途"), {}, "sharing.purpose_mismatch"),
        (TRANSPORT, {"fields": ("address",)}, "sharing.field_not_granted"),
        (TRANSPORT, {"limit": 10_001}, "sharing.bad_page"),
        (TRANSPORT, {"fields": ("nope",)}, "sharing.unknown_field"),
    ],
)
def test_reads_outside_the_grant_are_refused_and_audited(
    world: World, ctx: Context, query_changes: dict[str, object], code: str
) -> None:
    gid = granted(world)
    q = replace(RowQuery(world.conditional.id, gid), **query_changes)  # type: ignore[arg-type]
    c = ctx if ctx.purpose else reader(ctx)
    with pytest.raises((Forbidden, InvalidInput)) as err:
        world.reader.read(c, q)
    assert err.value.code == code
    last = world.trail.recent(ADMIN, 1)[0]
    assert last.kind == "read_refused"
    assert code in last.detail


def test_revoked_and_expired_grants_read_nothing(world: World) -> None:
    gid = granted(world)
    world.clock.advance(timedelta(days=31).total_seconds())
    with pytest.raises(Forbidden, match="expired"):
        world.reader.read(reader(TRANSPORT), RowQuery(world.conditional.id, gid))
    gid2 = granted(world)
    asyncio.run(world.sharing.revoke(POLICE, gid2, "停止使用"))
    with pytest.raises(Forbidden, match="revoked"):
        world.reader.read(reader(TRANSPORT), RowQuery(world.conditional.id, gid2))


def test_the_provider_reads_its_own_rows_unmasked_and_is_audited(world: World) -> None:
    page = world.reader.read(POLICE, RowQuery(world.conditional.id, limit=1))
    assert page.rows[0]["id_number"] == ROWS[0]["id_number"]
    app = Context(actor="app-1", department="public-security", roles=frozenset({"app"}))
    masked = world.reader.read(app, RowQuery(world.conditional.id, limit=1))
    assert masked.rows[0]["id_number"] == "3***************1X"
    kinds = [r.kind for r in world.trail.recent(ADMIN, 2)]
    assert kinds == ["read", "read"]


def test_reads_are_audited_with_the_hash_of_the_result(world: World) -> None:
    gid = granted(world)
    page = world.reader.read(reader(TRANSPORT), RowQuery(world.conditional.id, gid, limit=3))
    [rec] = world.trail.recent(ADMIN, 1)
    assert rec.seq == page.audit_seq
    assert rec.kind == "read"
    assert rec.row_count == 3
    assert rec.result_hash == rows_hash(page.rows)
    assert rec.purpose == PURPOSE
    assert rec.department == "transport"


@pytest.mark.parametrize(
    "term", ["age", "age:like:1", "nope:eq:1", "age:eq:abc", "age:in:1,x", "district:eq"]
)
def test_bad_filter_terms_are_refused(world: World, term: str) -> None:
    with pytest.raises(InvalidInput):
        parse_filter(world.conditional, [term])


def test_filter_terms_are_typed(world: World) -> None:
    [age] = parse_filter(world.conditional, ["age:in:21,22"])
    assert age.value == (21, 22)
