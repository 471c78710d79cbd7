"""Requests and grants: sharing types, decisions, time limits, revocation, events, audit."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from opencitybrain.catalog.rows import Condition, Op
from opencitybrain.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from opencitybrain.kernel.events import Context
from opencitybrain.sharing.model import Decider, RequestSpec, RequestStatus
from opencitybrain.sharing.service import Decision
from tests.integration.sharing.conftest import MARKET, POLICE, TRANSPORT, World

ADMIN = Context(actor="u-admin", department="bureau", roles=frozenset({"bureau_admin"}))


def ask(w: World, resource_id: str, **changes: object) -> RequestSpec:
    base: dict[str, object] = {
        "resource_id": resource_id,
        "fields": ("person_id", "name", "mobile", "district"),
        "purpose": "违停车主通知",
        "scenario": "机动车违停处置一件事",
        "ends_at": w.clock.now() + timedelta(days=90),
    }
    base.update(changes)
    return RequestSpec(**base)  # type: ignore[arg-type]


def test_unconditional_is_granted_at_once(world: World) -> None:
    r = asyncio.run(world.sharing.submit(TRANSPORT, ask(world, world.unconditional.id)))
    assert r.status is RequestStatus.GRANTED
    assert r.decider is Decider.AUTO
    assert r.grant_id is not None
    assert [h.status for h in r.history] == [RequestStatus.PENDING, RequestStatus.GRANTED]
    types = [e.type for e in world.bus.events if e.type.startswith("city.sharing")]
    assert types == [
        "city.sharing.request.submitted",
        "city.sharing.request.granted",
        "city.sharing.grant.issued",
    ]


def test_conditional_waits_for_the_provider_within_ten_working_days(world: World) -> None:
    r = asyncio.run(world.sharing.submit(TRANSPORT, ask(world, world.conditional.id)))
    assert r.status is RequestStatus.PENDING
    assert r.decider is Decider.PROVIDER
    assert r.due_at is not None
    # 2026-11-22 is a Sunday: ten working days end on Friday 2026-12-04.
    assert r.due_at.astimezone(world.clock.now().tzinfo).date().isoformat() == "2026-12-04"
    with pytest.raises(NotFound):  # a third department does not even see it
        asyncio.run(world.sharing.approve(MARKET, r.id, Decision()))
    with pytest.raises(Forbidden):  # the requester sees it but does not decide it
        asyncio.run(world.sharing.approve(TRANSPORT, r.id, Decision()))
    done = asyncio.run(world.sharing.approve(POLICE, r.id, Decision(reason="同意")))
    assert done.status is RequestStatus.GRANTED
    with pytest.raises(Conflict):
        asyncio.run(world.sharing.refuse(POLICE, r.id, "迟了"))
    mine = world.sharing.requests(TRANSPORT)
    assert [x.id for x in mine] == [r.id]
    assert [h.status for h in mine[0].history] == [RequestStatus.PENDING, RequestStatus.GRANTED]


def test_a_refusal_needs_reasons(world: World) -> None:
    r = asyncio.run(world.sharing.submit(TRANSPORT, ask(world, world.conditional.id)))
    with pytest.raises(InvalidInput):
        asyncio.run(world.sharing.refuse(POLICE, r.id, "  "))
    done = asyncio.run(world.sharing.refuse(POLICE, r.id, "超出职责范围"))
    assert done.status is RequestStatus.REFUSED
    assert done.reason == "超出职责范围"


def test_overdue_requests_escalate_to_the_bureau(world: World) -> None:
    r = asyncio.run(world.sharing.submit(TRANSPORT, ask(world, world.conditional.id)))
    assert asyncio.run(world.sharing.escalate_overdue()) == []
    world.clock.advance(timedelta(days=13).total_seconds())
    [up] = asyncio.run(world.sharing.escalate_overdue())
    assert up.id == r.id
    assert up.status is RequestStatus.ESCALATED
    assert asyncio.run(world.sharing.escalate_overdue()) == []  # once
    assert "city.sharing.request.escalated" in [e.type for e in world.bus.events]
    done = asyncio.run(world.sharing.approve(ADMIN, r.id, Decision(reason="督办批准")))
    assert done.status is RequestStatus.GRANTED


def test_not_for_sharing_needs_the_bureau_and_a_legal_basis(world: World) -> None:
    r = asyncio.run(world.sharing.submit(TRANSPORT, ask(world, world.closed.id)))
    assert r.decider is Decider.BUREAU
    with pytest.raises(Forbidden):
        asyncio.run(world.sharing.approve(POLICE, r.id, Decision()))
    with pytest.raises(InvalidInput, match="legal basis"):
        asyncio.run(world.sharing.approve(ADMIN, r.id, Decision()))
    done = asyncio.run(
        world.sharing.approve(ADMIN, r.id, Decision(legal_basis="《道路交通安全法》第一百一十四条"))
    )
    assert done.status is RequestStatus.GRANTED
    assert done.legal_basis.startswith("《道路交通安全法》")


def test_clearing_needs_a_reason_and_core_fields_need_the_bureau(world: World) -> None:
    with pytest.raises(InvalidInput, match="reason"):
        asyncio.run(world.sharing.submit(
            TRANSPORT, ask(world, world.unconditional.id, clear_fields=("mobile",))))  # fmt: skip
    mobile = ask(world, world.unconditional.id, clear_fields=("mobile",), clear_reason="通知车主")
    r = asyncio.run(world.sharing.submit(TRANSPORT, mobile))
    assert r.decider is Decider.PROVIDER  # unconditional, but clearing: the provider decides
    fields = ("person_id", "id_number")
    core = asyncio.run(world.sharing.submit(TRANSPORT, ask(
        world, world.unconditional.id, fields=fields, clear_fields=("id_number",),
        clear_reason="身份核验")))  # fmt: skip
    assert core.decider is Decider.BUREAU


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"fields": ()}, "sharing.no_fields"),
        ({"fields": ("nope",)}, "sharing.unknown_field"),
        ({"purpose": " "}, "sharing.no_purpose"),
        ({"clear_fields": ("age",), "clear_reason": "x"}, "sharing.clear_not_requested"),
        ({"row_filter": (Condition("nope", Op.EQ, 1),)}, "sharing.unknown_field"),
        ({"row_filter": (Condition("age", Op.IN, 1),)}, "sharing.bad_filter"),
    ],
)
def test_bad_requests_are_refused_by_name(
    world: World, changes: dict[str, object], code: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        asyncio.run(world.sharing.submit(TRANSPORT, ask(world, world.conditional.id, **changes)))
    assert err.value.code == code
    [last] = world.trail.recent(ADMIN, 1)
    assert last.kind == "request_refused"
    assert code in last.detail


def test_a_past_period_and_own_resources_are_refused(world: World) -> None:
    past = world.clock.now() - timedelta(days=1)
    with pytest.raises(InvalidInput, match="future"):
        asyncio.run(world.sharing.submit(TRANSPORT, ask(world, world.conditional.id, ends_at=past)))
    with pytest.raises(InvalidInput, match="your department"):
        asyncio.run(world.sharing.submit(POLICE, ask(world, world.conditional.id)))


def test_revocation_by_the_provider_only(world: World) -> None:
    r = asyncio.run(world.sharing.submit(TRANSPORT, ask(world, world.unconditional.id)))
    assert r.grant_id is not None
    with pytest.raises(Forbidden):
        asyncio.run(world.sharing.revoke(TRANSPORT, r.grant_id, "不用了"))
    g = asyncio.run(world.sharing.revoke(POLICE, r.grant_id, "发现滥用"))
    assert g.revoked_at is not None
    with pytest.raises(Conflict):
        asyncio.run(world.sharing.revoke(POLICE, r.grant_id, "again"))
    assert world.bus.events[-1].type == "city.sharing.grant.revoked"


def test_every_decision_is_audited_and_the_chain_verifies(world: World) -> None:
    r = asyncio.run(world.sharing.submit(TRANSPORT, ask(world, world.conditional.id)))
    asyncio.run(world.sharing.refuse(POLICE, r.id, "不符合条件"))
    kinds = [x.kind for x in reversed(world.trail.recent(ADMIN, 10))]
    assert kinds == ["requested", "refused"]
    verdict = world.trail.verify(ADMIN)
    assert verdict.ok
    assert verdict.records == 2
    with pytest.raises(Forbidden):
        world.trail.verify(TRANSPORT)
