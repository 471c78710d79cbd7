"""Operations use cases: intake, actions on cases, timers, supervision figures, classes.

Methods are synchronous (the store is) and return the CloudEvents they caused; the caller
publishes them with :meth:`OperationsService.publish` (routes do so after the thread-pool
hop, the timer task after each scan). Time comes from the injected clock only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from opencitybrain.accounts.model import Permission
from opencitybrain.accounts.service import allowed
from opencitybrain.kernel.bus import Bus
from opencitybrain.kernel.clock import Clock
from opencitybrain.kernel.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from opencitybrain.kernel.events import CloudEvent, Context
from opencitybrain.operations.batch import BatchResult, take_batch
from opencitybrain.operations.class_store import ClassChange, ClassStore, StoredClass
from opencitybrain.operations.classes import CaseClass, class_from_dict, demo_classes
from opencitybrain.operations.classify import Classified
from opencitybrain.operations.directory import GridWorkers
from opencitybrain.operations.events import ACTION_EVENTS, case_event
from opencitybrain.operations.intake import Intake, IntakeResult, NewReport
from opencitybrain.operations.locate import CaseLocator
from opencitybrain.operations.model import Action, Case, Step, Task
from opencitybrain.operations.ports import CaseQuery, CaseStore, KpiRow
from opencitybrain.operations.suggest import classifier_for, warm
from opencitybrain.operations.timers import ALARM_EVENTS, raise_due
from opencitybrain.operations.workflow import ActionInput, apply_action
from opencitybrain.worktime import WorkCalendar

log = logging.getLogger(__name__)

# Actions a department's own staff (or the named worker) take on its cases.
HANDLER_ACTIONS = frozenset(
    {Action.ACCEPT, Action.RETURN, Action.HANDLE, Action.SUSPEND, Action.RESUME}
)


@dataclass(frozen=True, slots=True)
class OperationsPolicy:
    """Tunable rules: the duplicate radius and window, and the timer scan's pace."""

    duplicate_radius_m: float = 50.0
    duplicate_window: timedelta = timedelta(hours=24)
    scan_interval_s: float = 60.0  # clock seconds between timer scans
    scan_batch: int = 10_000


@dataclass(frozen=True, slots=True)
class CaseView:
    """A case with its timeline, reports and joint-case tasks."""

    case: Case
    steps: list[Step]
    reports: list[Any]
    tasks: list[Task]


class OperationsService:
    """Take reports in, move cases through their workflow, watch their clocks."""

    def __init__(
        self,
        store: CaseStore,
        classes: ClassStore,
        calendar: WorkCalendar,
        locator: CaseLocator,
        clock: Clock,
        bus: Bus | None = None,
        policy: OperationsPolicy | None = None,
        workers: GridWorkers | None = None,
        departments: Callable[[], set[str]] | None = None,
    ) -> None:
        self.store = store
        self.class_store = classes
        self.calendar = calendar
        self.clock = clock
        self.bus = bus
        self.policy = policy or OperationsPolicy()
        self.workers = workers or GridWorkers()
        self._departments = departments
        self._classes: dict[str, CaseClass] | None = None
        self.intake_desk = Intake(store, locator, self.policy.duplicate_radius_m)

    # --- classes ------------------------------------------------------------------------

    def seed_classes(self, rows: Sequence[CaseClass] | None = None) -> int:
        """Store the shipped class table's missing rows; return how many were added."""
        added = self.class_store.seed(rows or demo_classes(), "system", self.clock.now())
        self._classes = None
        warm(self.active_classes())  # the 12345 desk's classifier, fitted off the request path
        return added

    def classes(self) -> list[StoredClass]:
        """Return the class table with versions."""
        return self.class_store.all()

    def stored_class(self, code: str) -> StoredClass:
        """Return a class with its version, or raise NotFound."""
        found = self.class_store.get(code)
        if found is None:
            raise NotFound("classes.not_found", f"分类 {code} 不存在", f"class {code} not found")
        return found

    def case_class(self, code: str, *, active_only: bool = True) -> CaseClass:
        """Return a class by code, or refuse an unknown (or retired) one."""
        if self._classes is None or code not in self._classes:
            self._classes = {s.case_class.code: s.case_class for s in self.class_store.all()}
        found = self._classes.get(code)
        if found is None or (active_only and not found.active):
            raise InvalidInput(
                "case.unknown_class",
                f"未知的案件分类：{code}",
                f"unknown case class: {code}",
                (FieldError("class_code", "one of GET /api/v1/operations/classes"),),
            )
        return found

    def _table(self) -> dict[str, CaseClass]:
        if self._classes is None:
            self._classes = {s.case_class.code: s.case_class for s in self.class_store.all()}
        return self._classes

    def active_classes(self) -> list[CaseClass]:
        """Return the classes that take new reports."""
        return [c for c in self._table().values() if c.active]

    def class_names(self) -> dict[str, tuple[str, str]]:
        """Return each class's Chinese and English name by code."""
        return {c.code: (c.name_zh, c.name_en) for c in self._table().values()}

    def suggest(self, text: str, k: int = 3) -> Classified:
        """Suggest active classes for a caller's free text, best first, with confidence."""
        return classifier_for(list(self._table().values())).classify(text, k)

    def suggest_threshold(self) -> float:
        """Return the confidence at which a suggestion is taken without a person."""
        return classifier_for(list(self._table().values())).min_confidence

    def put_class(
        self, ctx: Context, data: dict[str, Any], expected_version: int | None
    ) -> StoredClass:
        """Create or replace a class (the bureau's edit), checked and audited."""
        row = class_from_dict(data)
        self._check_departments([row.department_id, *row.region_departments.values()])
        stored = self.class_store.put(row, ctx.actor, self.clock.now(), expected_version)
        self._classes = None
        warm(self.active_classes())  # refit for the edited table before the next call needs it
        return stored

    def class_history(self, code: str) -> list[ClassChange]:
        """Return the audited changes of a class."""
        history = self.class_store.history(code)
        if not history:
            raise NotFound("classes.not_found", f"分类 {code} 不存在", f"class {code} not found")
        return history

    def _check_departments(self, ids: Sequence[str | None]) -> None:
        known = self._departments() if self._departments else None
        bad = sorted({d for d in ids if d and known is not None and d not in known})
        if bad:
            raise InvalidInput(
                "case.unknown_department",
                f"未知的部门：{', '.join(bad)}",
                f"unknown department: {', '.join(bad)}",
                (FieldError("department_id", "an id of GET /api/v1/departments"),),
            )

    # --- intake and reads ---------------------------------------------------------------

    def intake(self, ctx: Context, new: NewReport) -> tuple[IntakeResult, list[CloudEvent]]:
        """Take a report in: a new case, or a linked report on an open duplicate."""
        case_class = self.case_class(new.class_code)
        now = self.clock.now()
        result = self.intake_desk.take(ctx, new, case_class, now, self.policy.duplicate_window)
        what = "merged" if result.merged else "reported"
        extra = {"report_id": result.report_id}
        return result, [case_event(what, result.case, now, ctx, extra)]

    def intake_batch(
        self, ctx: Context, reports: Sequence[NewReport], *, dispatch: bool = True
    ) -> tuple[BatchResult, list[CloudEvent]]:
        """Take many reports in one transaction; with ``dispatch`` file and dispatch them."""
        return take_batch(
            ctx, reports, self.clock.now(), store=self.store, classes=self.case_class,
            locator=self.intake_desk.locator, calendar=self.calendar, workers=self.workers,
            radius_m=self.policy.duplicate_radius_m, window=self.policy.duplicate_window,
            dispatch=dispatch,
        )  # fmt: skip

    def get(self, case_id: str) -> Case:
        """Return a case or raise NotFound."""
        case = self.store.get_case(case_id)
        if case is None:
            raise NotFound("case.not_found", f"案件 {case_id} 不存在", f"case {case_id} not found")
        return case

    def view(self, case_id: str) -> CaseView:
        """Return a case with its timeline, reports and tasks."""
        case = self.get(case_id)
        store = self.store
        return CaseView(
            case, store.timeline(case_id), store.reports_of(case_id), store.tasks_of(case_id)
        )

    def cases(self, query: CaseQuery) -> tuple[list[Case], int]:
        """Return a page of cases and the total matching."""
        return self.store.query(query)

    # --- actions ------------------------------------------------------------------------

    def act(
        self,
        ctx: Context,
        case_id: str,
        action: Action,
        inp: ActionInput,
        expected_version: int | None = None,
    ) -> tuple[Case, list[CloudEvent]]:
        """Take one action on a case, if the workflow and the actor's scope allow it."""
        case = self.get(case_id)
        if expected_version is not None and expected_version != case.version:
            raise Conflict(
                "case.changed",
                f"案件已被修改（当前版本 {case.version}），请刷新后重试",
                f"the case has changed (now version {case.version}); reload and retry",
            )
        # Sub-tasks matter only to joint-case steps; skip the read for the rest.
        needs_tasks = action in (Action.HANDLE, Action.COMPLETE_TASK) or inp.assist_departments
        tasks = self.store.tasks_of(case_id) if needs_tasks else []
        self._check_scope(ctx, case, action, inp, tasks)
        if action in (Action.DISPATCH, Action.REOPEN):
            self._check_departments([inp.department_id, *inp.assist_departments])
            if inp.worker_id is None:
                inp = replace(inp, worker_id=self.workers.worker_for(case.location.region_codes))
        now = self.clock.now()
        case_class = self.case_class(case.class_code, active_only=False)
        out = apply_action(case, action, inp, now, self.calendar, case_class, tasks)
        step = Step(
            case.id, 0, action.value, case.status, out.case.status, ctx.actor, ctx.department,
            now, inp.note, inp.attachments, out.data,
        )  # fmt: skip
        done = (out.done_task,) if out.done_task else ()
        saved = self.store.save(out.case, case.version, step, out.new_tasks, done)
        return saved, [case_event(ACTION_EVENTS[action], saved, now, ctx, out.data)]

    def _check_scope(
        self, ctx: Context, case: Case, action: Action, inp: ActionInput, tasks: list[Task]
    ) -> None:
        if allowed(ctx, Permission.CASES_DISPATCH) or allowed(ctx, Permission.CASES_SUPERVISE):
            return  # the command centre and the bureau act on any case
        if action in HANDLER_ACTIONS:
            mine = ctx.department is not None and ctx.department == case.department_id
            if mine or (case.worker_id is not None and ctx.actor == case.worker_id):
                return
        elif action is Action.COMPLETE_TASK:
            task = next((t for t in tasks if t.id == inp.task_id), None)
            if task is None or ctx.department in (task.department_id, case.department_id):
                return
        else:
            return
        raise Forbidden(
            "case.not_your_department",
            "只能处理本部门的案件",
            "only the responsible department (or its named worker) handles this case",
        )

    # --- timers -------------------------------------------------------------------------

    def scan(self, now: datetime | None = None) -> tuple[int, list[CloudEvent]]:
        """Raise every alarm due by ``now``; return how many cases changed and the events."""
        now = now or self.clock.now()
        changed = 0
        events: list[CloudEvent] = []
        seen: set[str] = set()
        while True:
            due = [
                c for c in self.store.due_alarms(now, self.policy.scan_batch) if c.id not in seen
            ]
            if not due:
                break
            updates = []
            raised_of: dict[str, tuple[Case, list[Any]]] = {}
            for case in due:
                seen.add(case.id)
                after, raised = raise_due(case, now)
                updates.append((after, case.version))
                raised_of[case.id] = (after, raised)
            ctx = Context.system("operations-timers")
            for case_id in self.store.apply_alarms(updates):
                after, raised = raised_of[case_id]
                changed += 1
                events += [case_event(ALARM_EVENTS[a], after, now, ctx) for a in raised]
            if len(due) < self.policy.scan_batch:
                break
        return changed, events

    async def publish(self, events: Sequence[CloudEvent]) -> None:
        """Announce events on the platform bus (if any)."""
        if self.bus is None:
            return
        await self.bus.publish_many(events)

    async def run_timers(self) -> None:
        """Scan the timers every ``scan_interval_s`` of clock time until cancelled."""
        while True:
            try:
                _, events = await asyncio.to_thread(self.scan, self.clock.now())
                await self.publish(events)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bad round must not stop the timers for good
                log.exception("operations timer scan failed; retrying next round")
            await self.clock.sleep(self.policy.scan_interval_s)

    # --- supervision --------------------------------------------------------------------

    def kpis(self, by: str, since: datetime | None = None) -> list[dict[str, Any]]:
        """Return on-time rate, average handling time, reopen rate and satisfaction per group."""
        if by not in ("department", "district"):
            raise InvalidInput(
                "case.bad_kpi_group",
                "分组须为 department 或 district",
                "group by department or district",
                (FieldError("by", "department | district"),),
            )
        rows = self.store.kpis("department_id" if by == "department" else "county", since,
                               self.clock.now())  # fmt: skip
        return [_kpi_dict(r) for r in rows]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _kpi_dict(r: KpiRow) -> dict[str, Any]:
    hours = None if r.avg_handling_seconds is None else round(r.avg_handling_seconds / 3600, 2)
    satisfaction = None if r.avg_satisfaction is None else round(r.avg_satisfaction, 2)
    return {
        "key": r.key,
        "cases": r.cases,
        "handled": r.handled,
        "on_time": r.on_time,
        "on_time_rate": _rate(r.on_time, r.handled),
        "overdue_open": r.overdue_open,
        "avg_handling_hours": hours,
        "reopened": r.reopened,
        "reopen_rate": _rate(r.reopened, r.cases),
        "evaluated": r.evaluated,
        "avg_satisfaction": satisfaction,
    }
