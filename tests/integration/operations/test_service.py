"""Operations use cases on a real store (SQLite and PostgreSQL) with a manual clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from opencitybrain.kernel.clock import ManualClock
from opencitybrain.kernel.errors import CityBrainError, Conflict, Forbidden, InvalidInput
from opencitybrain.kernel.events import Context
from opencitybrain.operations.model import (
    Action,
    CaseStatus,
    Satisfaction,
    Source,
    Supervision,
    SuspendReason,
)
from opencitybrain.operations.ports import CaseQuery
from opencitybrain.operations.service import OperationsService
from opencitybrain.operations.workflow import ActionInput
from tests.integration.operations.support import (
    BUREAU,
    INSPECTOR,
    MONDAY_9,
    OPERATOR,
    OTHER_STAFF,
    STAFF,
    TZ,
    report,
)


def act(ops: OperationsService, ctx: Context, case_id: str, action: Action, **kw: object):  # type: ignore[no-untyped-def]
    case, events = ops.act(ctx, case_id, action, ActionInput(**kw))  # type: ignore[arg-type]
    return case, events


def test_a_hotline_call_becomes_a_timed_case_that_closes_with_an_evaluation(
    ops: OperationsService, clock: ManualClock
) -> None:
    result, events = ops.intake(OPERATOR, report(external_id="call-1"))
    assert not result.merged
    assert events[0].type == "city.operations.case.reported"
    case = result.case
    assert (case.status, case.location.county, case.urgent) == (
        CaseStatus.REPORTED,
        "360121",
        False,
    )
    assert case.file_due_at == MONDAY_9 + timedelta(minutes=30)
    cid = case.id
    act(ops, OPERATOR, cid, Action.FILE)
    case, events = act(ops, OPERATOR, cid, Action.DISPATCH)
    assert events[0].type == "city.operations.case.dispatched"
    assert case.department_id == "urban-management"  # the class's default outside 360102
    # Exposed rubbish: 1 working day, due at the close of Tuesday.
    assert case.due_at == datetime(2026, 11, 24, 17, 30, tzinfo=TZ)
    clock.advance(3600)
    act(ops, STAFF, cid, Action.ACCEPT)
    act(ops, STAFF, cid, Action.HANDLE, note="已清运")
    act(ops, INSPECTOR, cid, Action.VERIFY)
    act(ops, OPERATOR, cid, Action.CLOSE)
    with pytest.raises(Conflict) as err:
        act(ops, OPERATOR, cid, Action.EVALUATE, satisfaction=Satisfaction.SATISFIED)
    assert err.value.code == "case.follow_up_required"
    act(ops, OPERATOR, cid, Action.FOLLOW_UP, note="市民确认已清理")
    case, _ = act(ops, OPERATOR, cid, Action.EVALUATE, satisfaction=Satisfaction.SATISFIED)
    assert case.status is CaseStatus.EVALUATED
    assert case.handled_on_time is True
    assert case.handling_seconds == pytest.approx(3600)
    view = ops.view(cid)
    assert [s.action for s in view.steps] == [
        "report", "file", "dispatch", "accept", "handle", "verify", "close", "follow_up",
        "evaluate",
    ]  # fmt: skip
    assert view.steps[4].note == "已清运"
    assert view.steps[4].actor == "staff-1"
    (k,) = ops.kpis("department")
    assert (k["key"], k["on_time_rate"], k["avg_satisfaction"]) == ("urban-management", 1.0, 4.0)


def test_bad_reports_are_refused_clearly_and_nothing_is_stored(ops: OperationsService) -> None:
    with pytest.raises(InvalidInput) as err:
        ops.intake(OPERATOR, report(lon=120.0))
    assert err.value.code == "case.outside_city"
    with pytest.raises(InvalidInput) as err:
        ops.intake(OPERATOR, report(class_code="E9999"))
    assert err.value.code == "case.unknown_class"
    with pytest.raises(InvalidInput):
        ops.intake(OPERATOR, report(lon=float("nan")))
    with pytest.raises(InvalidInput):
        ops.intake(OPERATOR, report(description="   "))
    assert ops.cases(CaseQuery())[1] == 0


def test_duplicates_merge_and_resubmissions_are_refused(ops: OperationsService) -> None:
    first, _ = ops.intake(OPERATOR, report(external_id="a"))
    near, events = ops.intake(INSPECTOR, report(lon=115.9503, source=Source.GRID_INSPECTOR))
    assert near.merged
    assert near.case.id == first.case.id
    assert near.case.report_count == 2
    assert events[0].type == "city.operations.case.merged"
    far, _ = ops.intake(OPERATOR, report(lon=115.96))  # ~1 km away: another case
    other_class, _ = ops.intake(OPERATOR, report(class_code="E0101"))
    assert not far.merged
    assert not other_class.merged
    with pytest.raises(Conflict) as err:
        ops.intake(OPERATOR, report(external_id="a"))
    assert first.case.id in err.value.message_en
    assert len(ops.view(first.case.id).reports) == 2


def test_dispatch_follows_region_overrides_and_names_the_grid_worker(
    ops: OperationsService,
) -> None:
    result, _ = ops.intake(OPERATOR, report(lon=115.85))  # in 360102
    act(ops, OPERATOR, result.case.id, Action.FILE)
    case, _ = act(ops, OPERATOR, result.case.id, Action.DISPATCH)
    assert case.department_id == "district-360102"
    assert case.worker_id == "grid-1"
    with pytest.raises(InvalidInput):
        act(ops, OPERATOR, result.case.id, Action.RETURN)  # a return needs a note
    case, _ = act(ops, INSPECTOR, result.case.id, Action.RETURN, note="非本区职责")
    assert (case.status, case.department_id, case.return_count) == (CaseStatus.FILED, None, 1)
    with pytest.raises(InvalidInput):
        act(ops, OPERATOR, result.case.id, Action.DISPATCH, department_id="nowhere")


def test_staff_act_only_on_their_own_departments_cases(ops: OperationsService) -> None:
    result, _ = ops.intake(OPERATOR, report())
    act(ops, OPERATOR, result.case.id, Action.FILE)
    act(ops, OPERATOR, result.case.id, Action.DISPATCH)
    with pytest.raises(Forbidden):
        act(ops, OTHER_STAFF, result.case.id, Action.ACCEPT)
    with pytest.raises(Conflict) as err:
        act(ops, STAFF, result.case.id, Action.CLOSE)
    assert err.value.code == "case.illegal_transition"


def test_joint_cases_close_only_when_every_helper_is_done(ops: OperationsService) -> None:
    result, _ = ops.intake(OPERATOR, report())
    cid = result.case.id
    act(ops, OPERATOR, cid, Action.FILE)
    act(ops, OPERATOR, cid, Action.DISPATCH, assist_departments=("transport", "health"))
    act(ops, STAFF, cid, Action.ACCEPT)
    with pytest.raises(Conflict) as err:
        act(ops, STAFF, cid, Action.HANDLE)
    assert err.value.code == "case.tasks_open"
    tasks = {t.department_id: t for t in ops.view(cid).tasks}
    assert set(tasks) == {"transport", "health"}
    with pytest.raises(Forbidden):
        act(ops, OTHER_STAFF, cid, Action.COMPLETE_TASK, task_id=tasks["health"].id)
    act(ops, OTHER_STAFF, cid, Action.COMPLETE_TASK, task_id=tasks["transport"].id, note="ok")
    act(ops, OPERATOR, cid, Action.COMPLETE_TASK, task_id=tasks["health"].id)
    case, _ = act(ops, STAFF, cid, Action.HANDLE)
    assert case.status is CaseStatus.HANDLED


def test_waiting_for_the_reporter_stops_the_clock_waiting_for_others_does_not(
    ops: OperationsService, clock: ManualClock
) -> None:
    result, _ = ops.intake(OPERATOR, report(class_code="C0102"))  # manhole cover: 2 WH
    cid = result.case.id
    act(ops, OPERATOR, cid, Action.FILE)
    case, _ = act(ops, OPERATOR, cid, Action.DISPATCH)
    assert case.urgent
    assert case.due_at == MONDAY_9 + timedelta(hours=2)
    act(ops, STAFF, cid, Action.SUSPEND, reason=SuspendReason.AWAITING_REPORTER, note="待补充")
    clock.advance(1800)
    case, _ = act(ops, STAFF, cid, Action.RESUME)
    assert case.status is CaseStatus.DISPATCHED
    assert case.due_at == MONDAY_9 + timedelta(hours=2, minutes=30)
    act(ops, STAFF, cid, Action.SUSPEND, reason=SuspendReason.AWAITING_OTHER_DEPARTMENT, note="x")
    clock.advance(1800)
    case, _ = act(ops, STAFF, cid, Action.RESUME)
    assert case.due_at == MONDAY_9 + timedelta(hours=2, minutes=30)


def test_timers_warn_then_escalate_to_the_supervisor_then_the_bureau(
    ops: OperationsService, clock: ManualClock
) -> None:
    result, _ = ops.intake(OPERATOR, report(class_code="C0102"))
    cid = result.case.id
    clock.advance(11 * 60)  # an urgent case not filed within 10 minutes
    changed, events = ops.scan()
    assert (changed, [e.type for e in events]) == (1, ["city.operations.case.filing-late"])
    assert ops.scan() == (0, [])
    act(ops, OPERATOR, cid, Action.FILE)
    act(ops, OPERATOR, cid, Action.DISPATCH)
    clock.advance(100 * 60)  # 100 of 120 working minutes: past the 80 % warning
    _, events = ops.scan()
    assert [e.type for e in events] == ["city.operations.case.warned"]
    clock.advance(3 * 3600)  # past due and past 150 % at once
    _, events = ops.scan()
    assert [e.type for e in events] == [
        "city.operations.case.overdue", "city.operations.case.escalated",
    ]  # fmt: skip
    case = ops.get(cid)
    assert case.supervision is Supervision.BUREAU
    assert ops.cases(CaseQuery(overdue_at=clock.now()))[1] == 1
    act(ops, STAFF, cid, Action.ACCEPT)
    case, _ = act(ops, STAFF, cid, Action.HANDLE)
    assert case.handled_on_time is False
    (k,) = ops.kpis("district")
    assert (k["key"], k["on_time_rate"]) == ("360121", 0.0)


def test_reopen_restarts_the_clock_and_counts(ops: OperationsService, clock: ManualClock) -> None:
    result, _ = ops.intake(OPERATOR, report(source=Source.GRID_INSPECTOR))
    cid = result.case.id
    path = [
        (OPERATOR, Action.FILE), (OPERATOR, Action.DISPATCH), (STAFF, Action.ACCEPT),
        (STAFF, Action.HANDLE), (INSPECTOR, Action.VERIFY), (OPERATOR, Action.CLOSE),
    ]  # fmt: skip
    for ctx, action in path:
        act(ops, ctx, cid, action)
    clock.advance(3600)
    case, _ = act(ops, OPERATOR, cid, Action.REOPEN, note="市民反映未处理干净")
    assert (case.status, case.reopen_count, case.department_id) == (
        CaseStatus.DISPATCHED, 1, "urban-management",
    )  # fmt: skip
    assert case.dispatched_at == clock.now()
    with pytest.raises(CityBrainError):
        act(ops, BUREAU, cid, Action.SUPERVISE)  # 督办 needs a note
    case, events = act(ops, BUREAU, cid, Action.SUPERVISE, note="限期办结")
    assert case.supervision is Supervision.BUREAU
    assert events[0].type == "city.operations.case.supervised"


def test_stale_versions_are_refused(ops: OperationsService) -> None:
    result, _ = ops.intake(OPERATOR, report())
    act(ops, OPERATOR, result.case.id, Action.FILE)
    with pytest.raises(Conflict) as err:
        ops.act(OPERATOR, result.case.id, Action.DISPATCH, ActionInput(), expected_version=1)
    assert err.value.code == "case.changed"


def test_the_bureau_edits_classes_and_every_edit_is_audited(ops: OperationsService) -> None:
    stored = next(s for s in ops.classes() if s.case_class.code == "E0102")
    doc = stored.case_class.to_dict() | {"department_id": "health"}
    ops.put_class(BUREAU, doc, stored.version)
    assert ops.case_class("E0102").department_id == "health"
    with pytest.raises(InvalidInput):
        ops.put_class(BUREAU, doc | {"department_id": "no-such-dept"}, stored.version + 1)
    new = doc | {"code": "E0599", "name_zh": "测试", "name_en": "Test"}
    ops.put_class(BUREAU, new, None)
    assert [h.change for h in ops.class_history("E0102")] == ["created", "updated"]
    ops.put_class(BUREAU, new | {"active": False}, 1)
    with pytest.raises(InvalidInput):
        ops.intake(OPERATOR, report(class_code="E0599"))
