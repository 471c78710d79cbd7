"""The Open311 desk: GeoReport v2 use cases over the operations service.

A submission enters through the same intake as every other source (source ``open311``):
the city's boundary, the class table, duplicate merging and resubmission checks apply
unchanged. Reads answer only reports filed through Open311.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from opencitybrain.kernel.errors import Conflict, InvalidInput, NotFound
from opencitybrain.kernel.events import CloudEvent, Context
from opencitybrain.operations.classes import CaseClass
from opencitybrain.operations.intake import NewReport
from opencitybrain.operations.model import Report, Source
from opencitybrain.operations.open311 import (
    bad,
    definition_of,
    parse_datetime,
    parse_submission,
    receipt_of,
    request_of,
    service_of,
    split_list,
    statuses_for,
)
from opencitybrain.operations.open311_store import Open311Reads, RequestQuery
from opencitybrain.operations.service import OperationsService

# GeoReport: a date range may not span more than 90 days; without one, the last 90 days.
MAX_SPAN = timedelta(days=90)
MAX_RESULTS = 1000
MAX_IDS = 200


def _unknown_service(code: str) -> NotFound:
    return NotFound("open311.unknown_service", f"服务 {code} 不存在", f"service {code} not found")


def _unknown_request(rid: str) -> NotFound:
    return NotFound(
        "open311.unknown_request", f"服务请求 {rid} 不存在", f"service request {rid} not found"
    )


class Open311Desk:
    """Answer GeoReport v2 calls with the operations service's cases and classes."""

    def __init__(
        self,
        ops: OperationsService,
        reads: Open311Reads,
        agencies: Callable[[], Mapping[str, str]] | None = None,
    ) -> None:
        self.ops = ops
        self.reads = reads
        self._agencies = agencies  # department id → display name

    def _services(self) -> list[CaseClass]:
        return [s.case_class for s in self.ops.classes() if s.case_class.active]

    def services(self) -> list[dict[str, Any]]:
        """Return the active case classes as GeoReport services."""
        return [service_of(c) for c in self._services()]

    def definition(self, code: str) -> dict[str, Any]:
        """Return a service's definition, or NotFound for an unknown or retired one."""
        found = next((c for c in self._services() if c.code == code), None)
        if found is None:
            raise _unknown_service(code)
        return definition_of(found)

    def submit(
        self, ctx: Context, form: Mapping[str, Sequence[str]]
    ) -> tuple[dict[str, Any], bool, list[CloudEvent]]:
        """File a request through intake; return the receipt, whether merged, the events."""
        sub = parse_submission(form)
        try:
            self.ops.case_class(sub.service_code)
        except InvalidInput:
            raise _unknown_service(sub.service_code) from None
        external_id = sub.external_id(ctx.actor)
        if external_id is not None:
            earlier = self.ops.store.find_report(Source.OPEN311, external_id)
            if earlier is not None:
                raise Conflict(
                    "case.duplicate_submission",
                    f"该请求已提交过，服务请求编号 {earlier.id}",
                    f"this request was submitted already as service request {earlier.id}",
                )
        new = NewReport(
            source=Source.OPEN311,
            class_code=sub.service_code,
            lon=sub.lon,
            lat=sub.lat,
            description=sub.description,
            address=sub.address,
            reporter=dict(sub.reporter),
            external_id=external_id,
            attachments=sub.attachments,
        )
        result, events = self.ops.intake(ctx, new)
        return receipt_of(result.report_id, result.merged), result.merged, events

    def requests(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """Return the Open311 requests a ``GET requests`` query asks for, newest first."""
        ids = split_list(params.get("service_request_id"))
        if len(ids) > MAX_IDS:
            raise bad(
                "service_request_id",
                f"at most {MAX_IDS} ids",
                f"一次最多查询 {MAX_IDS} 个服务请求",
                f"at most {MAX_IDS} ids at once",
            )
        if ids:  # the spec: ids override every other parameter
            return self._answer(self.reads.reports(RequestQuery(ids=tuple(ids))))
        start = parse_datetime("start_date", params.get("start_date"))
        end = parse_datetime("end_date", params.get("end_date"))
        if start is None and end is None:
            start = self.ops.clock.now() - MAX_SPAN
        elif start is None and end is not None:
            start = end - MAX_SPAN
        elif start is not None and end is None:
            end = start + MAX_SPAN
        elif start is not None and end is not None and (end < start or end - start > MAX_SPAN):
            raise bad(
                "end_date",
                "after start_date, at most 90 days later",
                "时间范围须在 90 天以内且结束不早于开始",
                "the range must run forwards and span at most 90 days",
            )
        statuses: set[str] = set()
        for status in split_list(params.get("status")):
            statuses |= {s.value for s in statuses_for(status)}
        q = RequestQuery(
            class_codes=tuple(split_list(params.get("service_code"))),
            statuses=tuple(sorted(statuses)),
            start=start,
            end=end,
            limit=MAX_RESULTS,
            case_since=start - self.ops.policy.duplicate_window if start else None,
        )
        return self._answer(self.reads.reports(q))

    def request(self, rid: str) -> dict[str, Any]:
        """Return one Open311 request, or NotFound (also for cases of other sources)."""
        found = self._answer(self.reads.reports(RequestQuery(ids=(rid,))))
        if not found:
            raise _unknown_request(rid)
        return found[0]

    def token(self, token: str) -> dict[str, Any]:
        """Return the request a token stands for (ids are assigned at once: the same id)."""
        if not self.reads.reports(RequestQuery(ids=(token,))):
            raise _unknown_request(token)
        return {"service_request_id": token, "token": token}

    def _answer(self, found: list[Report]) -> list[dict[str, Any]]:
        if not found:
            return []
        cases = self.ops.store.get_cases(sorted({r.case_id for r in found}))
        traces = self.reads.traces(found)
        agencies = self._agencies() if self._agencies else {}
        classes = {c.case_class.code: c.case_class for c in self.ops.classes()}
        out = []
        for report in found:
            case = cases.get(report.case_id)
            if case is None:  # a report always has its case; skip rather than fail the list
                continue
            trace = traces.get(report.id)
            agency = agencies.get(case.department_id or "", case.department_id)
            out.append(
                request_of(
                    report,
                    case,
                    classes.get(case.class_code),
                    agency,
                    trace.media_url if trace else None,
                    trace.merged if trace else False,
                )
            )
        return out
