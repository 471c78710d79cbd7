"""Batched intake: the one-at-a-time rules, one transaction, bad reports refused alone."""

from __future__ import annotations

from datetime import timedelta

from opencitybrain.kernel.clock import ManualClock
from opencitybrain.operations.model import Action, CaseStatus, Source
from opencitybrain.operations.ports import CaseQuery
from opencitybrain.operations.service import OperationsService
from opencitybrain.operations.workflow import ActionInput
from tests.integration.operations.support import INSPECTOR, OPERATOR, report


def test_a_batch_lands_its_good_reports_and_refuses_the_bad_ones(
    ops: OperationsService, clock: ManualClock
) -> None:
    earlier, _ = ops.intake(OPERATOR, report(external_id="old"))  # an open case at 115.95
    batch = [
        report(source=Source.APP_ALERT, external_id="a1", lon=115.85),  # new, in 360102
        report(source=Source.APP_ALERT, external_id="a2", lon=115.8502),  # ~20 m: merges in batch
        report(source=Source.APP_ALERT, external_id="a3", lon=115.9501),  # merges into "old"
        report(source=Source.APP_ALERT, external_id="a4", lon=120.0),  # outside the city
        report(source=Source.APP_ALERT, external_id="a5", class_code="E9999"),  # unknown
        report(source=Source.APP_ALERT, external_id="a1", lon=115.82),  # repeated id
        report(source=Source.APP_ALERT, external_id="a7", class_code="C0102", lon=115.83),
        report(source=Source.APP_ALERT, external_id="a8", description=" "),
    ]
    result, events = ops.intake_batch(INSPECTOR, batch)
    assert sorted(i for i, _ in result.created) == [0, 6]
    assert sorted(result.merged) == sorted([(1, result.created[0][1].id), (2, earlier.case.id)])
    refused = {i: e.code for i, e in result.refused}
    assert refused == {3: "case.outside_city", 4: "case.unknown_class",
                       5: "case.duplicate_submission", 7: "case.bad_description"}  # fmt: skip
    assert len(result.created) + len(result.merged) + len(result.refused) == len(batch)
    first = ops.get(result.created[0][1].id)
    assert first.status is CaseStatus.DISPATCHED
    assert first.department_id == "district-360102"  # the region override
    assert first.worker_id == "grid-1"
    assert first.report_count == 2
    assert first.due_at is not None
    assert [s.action for s in ops.view(first.id).steps] == ["report", "file", "dispatch", "merge"]
    old = ops.view(earlier.case.id)
    assert old.case.report_count == 2
    assert [s.seq for s in old.steps] == [1, 2]
    manhole = ops.get(result.created[1][1].id)
    assert manhole.urgent
    assert manhole.due_at == clock.now() + timedelta(hours=2)
    types = [e.type.rsplit(".", 1)[1] for e in events]
    assert types.count("reported") == 2
    assert types.count("dispatched") == 2
    assert types.count("merged") == 2
    # The batch's cases go on like any other.
    ops.act(INSPECTOR, first.id, Action.ACCEPT, ActionInput())
    again, _ = ops.intake_batch(INSPECTOR, [report(source=Source.APP_ALERT, external_id="a1")])
    assert [e.code for _, e in again.refused] == ["case.duplicate_submission"]


def test_without_dispatch_a_batch_only_reports(ops: OperationsService) -> None:
    result, events = ops.intake_batch(OPERATOR, [report(), report(lon=115.83)], dispatch=False)
    assert {c.status for _, c in result.created} == {CaseStatus.REPORTED}
    assert ops.cases(CaseQuery(status=(CaseStatus.REPORTED,)))[1] == 2
    assert {e.type for e in events} == {"city.operations.case.reported"}
    assert ops.intake_batch(OPERATOR, [])[0].created == []
