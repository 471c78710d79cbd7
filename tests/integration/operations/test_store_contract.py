"""The case and class stores behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from opencitybrain.adapters.migrate import upgrade
from opencitybrain.kernel.errors import Conflict
from opencitybrain.operations.class_store import SqlClassStore, StoredClass
from opencitybrain.operations.classes import demo_classes
from opencitybrain.operations.model import (
    Alarm,
    Attachment,
    Case,
    CaseStatus,
    Location,
    Report,
    Satisfaction,
    Source,
    Step,
    Supervision,
    Task,
    TaskStatus,
)
from opencitybrain.operations.ports import CaseQuery
from opencitybrain.operations.store import SqlCaseStore
from opencitybrain.worktime import TimeUnit

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


@pytest.fixture
def store(sql_engine: sa.Engine) -> SqlCaseStore:
    upgrade(sql_engine)
    return SqlCaseStore(sql_engine)


def make(i: int, **kw: object) -> tuple[Case, Report, Step]:
    loc = Location(115.9 + i * 1e-4, 28.68, "360102", "360102001", "360102001001",
                   "360102001001001", "八一大道 1 号")  # fmt: skip
    case = Case(
        id=f"case{i:04d}", source=Source.HOTLINE_12345, class_code="E0102", title="暴露垃圾",
        description="路边垃圾", location=loc, status=CaseStatus.REPORTED, urgent=False,
        reported_at=T0 + timedelta(minutes=i), updated_at=T0, reporter={"name": "张三"},
        file_due_at=T0 + timedelta(minutes=30), alarm=Alarm.FILING_LATE,
        alarm_at=T0 + timedelta(minutes=30),
    )  # fmt: skip
    case = replace(case, **kw)  # type: ignore[arg-type]
    report = Report(f"rep{i:04d}", case.id, case.source, case.reported_at, loc.lon, loc.lat,
                    "路边有垃圾", external_id=f"call-{i}")  # fmt: skip
    step = Step(case.id, 1, "report", None, CaseStatus.REPORTED, "operator", "command-centre",
                case.reported_at, "来电")  # fmt: skip
    return case, report, step


def test_a_case_round_trips_with_every_field(store: SqlCaseStore) -> None:
    case, report, step = make(1)
    case = replace(
        case, limit_value=2.0, limit_unit=TimeUnit.WORKING_HOURS, warn_at=T0, due_at=T0,
        escalate_at=T0, clock_running=True, supervision=Supervision.BUREAU, warned=True,
        satisfaction=Satisfaction.SATISFIED, handled_on_time=False, handling_seconds=12.5,
        resume_status=CaseStatus.IN_PROGRESS,
    )  # fmt: skip
    store.add_case(case, report, step)
    assert store.get_case(case.id) == case
    assert store.get_case("nope") is None
    assert store.reports_of(case.id) == [report]
    assert store.find_report(Source.HOTLINE_12345, "call-1") == report
    assert store.timeline(case.id) == [step]


def test_a_source_cannot_submit_the_same_external_id_twice(store: SqlCaseStore) -> None:
    case, report, step = make(1)
    store.add_case(case, report, step)
    other, _, step2 = make(2)
    with pytest.raises(Conflict) as err:
        store.add_case(other, replace(report, id="rep-x", case_id=other.id), step2)
    assert err.value.code == "case.duplicate_submission"
    assert store.get_case(other.id) is None  # nothing half-written


def test_save_is_optimistic_and_appends_steps(store: SqlCaseStore) -> None:
    case, report, step = make(1)
    store.add_case(case, report, step)
    filed = replace(case, status=CaseStatus.FILED, filed_at=T0)
    att = (Attachment("att/1.jpg", "image/jpeg", 1234, "photo.jpg"),)
    step2 = Step(case.id, 0, "file", CaseStatus.REPORTED, CaseStatus.FILED, "op", None, T0,
                 "立案", att, {"k": 1})  # fmt: skip
    task = Task("task1", case.id, "transport", TaskStatus.OPEN, T0)
    saved = store.save(filed, case.version, step2, [task])
    assert saved.version == case.version + 1
    assert store.get_case(case.id) == saved
    assert [s.seq for s in store.timeline(case.id)] == [1, 2]
    assert store.timeline(case.id)[1].attachments == att
    with pytest.raises(Conflict) as err:
        store.save(filed, case.version, step2)  # read at the old version
    assert err.value.code == "case.changed"
    assert store.tasks_of(case.id) == [task]
    done = replace(task, status=TaskStatus.DONE, done_at=T0, note="ok")
    store.update_task(done)
    assert store.tasks_of(case.id) == [done]


def test_linked_reports_count(store: SqlCaseStore) -> None:
    case, report, step = make(1)
    store.add_case(case, report, step)
    dup = Report("rep-dup", case.id, Source.GRID_INSPECTOR, T0, 115.9, 28.68, "又有人报")
    store.link_report(dup, replace(step, action="merge"))
    assert store.get_case(case.id).report_count == 2  # type: ignore[union-attr]
    assert [r.id for r in store.reports_of(case.id)] == ["rep-dup", "rep0001"]


def test_nearby_open_cases_are_found_by_class_time_and_box(store: SqlCaseStore) -> None:
    for i in range(5):
        store.add_case(*make(i))
    box = (115.9 - 1e-3, 28.679, 115.9 + 2.5e-4, 28.681)
    found = store.nearby_open("E0102", T0, box)
    assert [c.id for c in found] == ["case0000", "case0001", "case0002"]
    assert store.nearby_open("E0102", T0 + timedelta(minutes=2), box)[0].id == "case0002"
    assert store.nearby_open("E0101", T0, box) == []


def test_query_filters_and_pages(store: SqlCaseStore) -> None:
    for i in range(7):
        case, report, step = make(i, department_id="urban-management" if i % 2 else "transport")
        store.add_case(case, report, step)
    page, total = store.query(CaseQuery(department_id="transport", limit=2))
    assert total == 4
    assert [c.id for c in page] == ["case0006", "case0004"]
    assert store.query(CaseQuery(region="360102001"))[1] == 7
    assert store.query(CaseQuery(region="360103"))[1] == 0
    assert store.query(CaseQuery(status=(CaseStatus.FILED,)))[1] == 0
    assert store.query(CaseQuery(limit=3, offset=6))[0][0].id == "case0000"


def test_due_alarms_and_applying_them(store: SqlCaseStore) -> None:
    for i in range(3):
        store.add_case(*make(i, alarm_at=T0 + timedelta(minutes=10 * i)))
    due = store.due_alarms(T0 + timedelta(minutes=15), 100)
    assert [c.id for c in due] == ["case0000", "case0001"]
    changed = [(replace(c, alarm=None, alarm_at=None), c.version) for c in due]
    stale = (replace(due[0], alarm=None), due[0].version)  # second write of the same read
    assert store.apply_alarms([*changed, stale]) == ["case0000", "case0001"]
    assert store.due_alarms(T0 + timedelta(minutes=15), 100) == []


def _case(store: SqlCaseStore, case_id: str) -> Case:
    case = store.get_case(case_id)
    assert case is not None
    return case


def test_a_batch_of_alarms_is_stored_whole_or_case_by_case(store: SqlCaseStore) -> None:
    """All versions current: one batch. One changed meanwhile: the others still stand."""
    for i in range(4):
        store.add_case(*make(i, alarm_at=T0))
    due = store.due_alarms(T0, 100)
    warned = [(replace(c, warned=True, alarm=None, alarm_at=None), c.version) for c in due[:2]]
    assert store.apply_alarms(warned) == ["case0000", "case0001"]
    assert [_case(store, c.id).version for c in due[:2]] == [c.version + 1 for c in due[:2]]
    assert all(_case(store, c.id).warned for c in due[:2])
    raced = _case(store, "case0002")
    store.apply_alarms([(replace(raced, urgent=True), raced.version)])  # someone else's write
    late = [(replace(c, warned=True, alarm=None, alarm_at=None), c.version) for c in due[2:]]
    assert store.apply_alarms(late) == ["case0003"]
    assert _case(store, "case0002").warned is False  # its read was stale: not overwritten
    assert _case(store, "case0003").warned is True


def test_kpis_group_by_department_and_county(store: SqlCaseStore) -> None:
    rows = [
        {"department_id": "transport", "dispatched_at": T0, "handled_at": T0,
         "handled_on_time": True, "handling_seconds": 100.0,
         "satisfaction": Satisfaction.VERY_SATISFIED},
        {"department_id": "transport", "dispatched_at": T0, "handled_at": T0,
         "handled_on_time": False, "handling_seconds": 300.0, "reopen_count": 1,
         "satisfaction": Satisfaction.BASIC},
        {"department_id": "transport", "dispatched_at": T0, "status": CaseStatus.IN_PROGRESS,
         "clock_running": True, "due_at": T0},
        {"department_id": "health"},  # never dispatched: not counted
    ]  # fmt: skip
    for i, kw in enumerate(rows):
        store.add_case(*make(i, **kw))
    (k,) = store.kpis("department_id", None, T0 + timedelta(hours=1))
    assert (k.key, k.cases, k.handled, k.on_time, k.overdue_open) == ("transport", 3, 2, 1, 1)
    assert k.avg_handling_seconds == 200.0
    assert (k.reopened, k.evaluated, k.avg_satisfaction) == (1, 2, 4.0)
    assert [r.key for r in store.kpis("county", None, T0)] == ["360102"]
    assert store.kpis("county", T0 + timedelta(days=1), T0) == []


def test_classes_are_versioned_and_audited(sql_engine: sa.Engine) -> None:
    upgrade(sql_engine)
    classes = SqlClassStore(sql_engine)
    shipped = demo_classes()
    assert classes.seed(shipped, "system", T0) == len(shipped)
    assert classes.seed(shipped, "system", T0) == 0
    first = classes.get("E0102")
    assert first is not None
    assert first.version == 1
    changed = replace(first.case_class, department_id="health")
    stored = classes.put(changed, "admin", T0 + timedelta(hours=1), 1)
    assert stored.version == 2
    assert classes.get("E0102").case_class.department_id == "health"  # type: ignore[union-attr]
    with pytest.raises(Conflict):
        classes.put(changed, "admin", T0, 1)  # stale version
    with pytest.raises(Conflict):
        classes.put(changed, "admin", T0, None)  # exists
    classes.put(replace(changed, active=False), "admin", T0, 2)
    history = classes.history("E0102")
    assert [(h.version, h.change, h.actor) for h in history] == [
        (1, "created", "system"), (2, "updated", "admin"), (3, "deactivated", "admin"),
    ]  # fmt: skip
    assert len(classes.all()) == len(shipped)


class _ReadBeforeTheOtherWorker(SqlClassStore):
    """A worker that listed the classes just before another worker seeded them."""

    def all(self) -> list[StoredClass]:
        return []


def test_two_workers_seeding_at_once_both_start(sql_engine: sa.Engine) -> None:
    upgrade(sql_engine)
    shipped = demo_classes()
    assert SqlClassStore(sql_engine).seed(shipped, "system", T0) == len(shipped)
    late = _ReadBeforeTheOtherWorker(sql_engine)
    assert late.seed(shipped, "system", T0) == 0  # every insert met the other's row
    assert len(SqlClassStore(sql_engine).all()) == len(shipped)
