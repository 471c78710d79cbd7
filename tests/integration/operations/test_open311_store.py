"""The Open311 desk on SQLite and PostgreSQL: reports in, queries by id, service, date, status."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from opencitybrain.kernel.clock import ManualClock
from opencitybrain.kernel.errors import Conflict, InvalidInput, NotFound
from opencitybrain.kernel.events import Context
from opencitybrain.operations.model import Action
from opencitybrain.operations.open311_service import Open311Desk
from opencitybrain.operations.open311_store import Open311Reads, RequestQuery
from opencitybrain.operations.service import OperationsService
from opencitybrain.operations.workflow import ActionInput
from tests.integration.operations.support import OPERATOR, report

APP = Context("demo-app", "transport", frozenset({"app"}))


@pytest.fixture
def desk(ops: OperationsService, sql_engine: sa.Engine) -> Open311Desk:
    return Open311Desk(ops, Open311Reads(sql_engine), lambda: {"urban-management": "城管局"})


def _form(
    code: str = "E0102", lon: float = 115.95, lat: float = 28.7, **kw: str
) -> dict[str, list[str]]:
    base = {
        "service_code": code,
        "lat": f"{lat}",
        "long": f"{lon}",
        "description": "垃圾成堆",
        "address_string": "八一大道",
        "device_id": "d-1",
        "phone": "13800000000",
        "media_url": "https://img.example.cn/1.jpg",
    }
    return {k: [v] for k, v in (base | kw).items()}


def test_requests_are_found_by_id_service_status_and_date(
    desk: Open311Desk, ops: OperationsService, clock: ManualClock
) -> None:
    first, merged, _ = desk.submit(APP, _form())
    assert merged is False
    clock.advance(3600)
    second, _, _ = desk.submit(APP, _form("C0101", lon=115.85, description="井盖缺失"))
    hotline, _ = ops.intake(OPERATOR, report(lon=115.97))
    r1, r2 = first["service_request_id"], second["service_request_id"]

    everything = desk.requests({})
    assert [r["service_request_id"] for r in everything] == [r2, r1]  # newest first
    assert hotline.report_id not in repr(everything)
    assert [r["service_request_id"] for r in desk.requests({"service_code": "C0101"})] == [r2]
    assert desk.requests({"service_request_id": f"{r1}, {hotline.report_id}"})[0]["media_url"] == (
        "https://img.example.cn/1.jpg"
    )
    assert len(desk.requests({"service_request_id": f"{r1},{hotline.report_id}"})) == 1
    start = (clock.now() - timedelta(minutes=30)).isoformat()
    assert [r["service_request_id"] for r in desk.requests({"start_date": start})] == [r2]
    end = (clock.now() - timedelta(minutes=30)).isoformat()
    assert [r["service_request_id"] for r in desk.requests({"end_date": end})] == [r1]
    assert desk.requests({"status": "closed"}) == []

    ops.act(OPERATOR, _case_id(desk, r1), Action.REJECT, ActionInput(note="不属于受理范围"))
    closed = desk.requests({"status": "closed"})
    assert [r["service_request_id"] for r in closed] == [r1]
    assert closed[0]["status_notes"].startswith("不予立案")
    assert desk.request(r1)["status"] == "closed"
    assert desk.token(r1) == {"service_request_id": r1, "token": r1}
    with pytest.raises(NotFound):
        desk.request(hotline.report_id)
    with pytest.raises(NotFound):
        desk.token(hotline.case.id)


def _case_id(desk: Open311Desk, rid: str) -> str:
    return desk.reads.reports(RequestQuery(ids=(rid,)))[0].case_id


def test_merges_resubmissions_and_bad_ranges(desk: Open311Desk, ops: OperationsService) -> None:
    first, _, _ = desk.submit(APP, _form())
    with pytest.raises(Conflict) as err:
        desk.submit(APP, _form())
    assert first["service_request_id"] in err.value.message_en
    near, merged, events = desk.submit(
        APP, _form(lon=115.9502, device_id="d-2", description="我也看到了")
    )
    assert merged is True
    assert [e.type for e in events] == ["city.operations.case.merged"]
    got = desk.request(near["service_request_id"])
    assert got["description"] == "我也看到了"
    assert got["address"] is None
    assert desk.request(first["service_request_id"])["address"] == "八一大道"
    with pytest.raises(NotFound):
        desk.submit(APP, _form("E0999"))
    with pytest.raises(InvalidInput):
        desk.submit(APP, _form(lon=120.0))
    with pytest.raises(InvalidInput):
        desk.requests({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-05-01T00:00:00Z"})
    with pytest.raises(InvalidInput):
        desk.requests({"service_request_id": ",".join(f"r{i}" for i in range(201))})
