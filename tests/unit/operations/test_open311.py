"""Open311 GeoReport v2 mapping and XML: services, submissions, requests, escaping."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from opencitybrain.kernel.errors import ErrorKind, InvalidInput
from opencitybrain.operations.classes import demo_classes
from opencitybrain.operations.model import Case, CaseStatus, Location, Report, Source
from opencitybrain.operations.open311 import (
    MEDIA_URL_TYPE,
    media_url_of,
    parse_datetime,
    parse_submission,
    receipt_of,
    request_of,
    service_of,
    split_list,
    status_of,
    statuses_for,
)
from opencitybrain.operations.open311_xml import (
    definition_xml,
    errors_xml,
    requests_xml,
    services_xml,
    xml_safe,
)

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
FORM = {
    "service_code": ["E0102"],
    "lat": ["28.676"],
    "long": ["115.907"],
    "description": ["小区门口垃圾堆了三天"],
    "address_string": ["八一广场东侧"],
    "first_name": ["李"],
    "last_name": ["娜"],
    "email": ["li@example.cn"],
    "phone": ["13800000000"],
    "device_id": ["phone-1"],
    "media_url": ["https://img.example.cn/a.jpg"],
    "api_key": ["cbk_x.y"],
}


def _form(**kw: list[str]) -> dict[str, list[str]]:
    return FORM | kw


def _case(status: CaseStatus = CaseStatus.DISPATCHED, **kw: object) -> Case:
    loc = Location(
        115.907, 28.676, "360102", "360102001", "360102001001", "360102001001001", "八一广场东侧"
    )
    base = Case(
        id="c1",
        source=Source.OPEN311,
        class_code="E0102",
        title="t",
        description="d",
        location=loc,
        status=status,
        urgent=False,
        reported_at=T0,
        updated_at=T0 + timedelta(hours=1),
        reporter={"first_name": "李", "phone": "13800000000", "email": "li@example.cn"},
        department_id="urban-management",
        due_at=T0 + timedelta(days=1),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def _report(**kw: object) -> Report:
    base = Report(
        "r1",
        "c1",
        Source.OPEN311,
        T0,
        115.907,
        28.676,
        "垃圾",
        "open311:x",
        {"first_name": "李", "phone": "13800000000"},
    )
    return replace(base, **kw)  # type: ignore[arg-type]


# --- statuses and services ------------------------------------------------------------


@pytest.mark.parametrize("status", list(CaseStatus))
def test_only_cases_no_one_acts_on_any_more_are_closed(status: CaseStatus) -> None:
    done = {CaseStatus.CLOSED, CaseStatus.EVALUATED, CaseStatus.REJECTED}
    assert status_of(status) == ("closed" if status in done else "open")
    assert status in statuses_for(status_of(status))


def test_open_and_closed_split_the_statuses() -> None:
    opened, closed = statuses_for("open"), statuses_for("closed")
    assert opened | closed == set(CaseStatus)
    assert not opened & closed
    with pytest.raises(InvalidInput):
        statuses_for("pending")


def test_every_demo_class_is_a_realtime_service_in_its_major_group() -> None:
    classes = demo_classes()
    services = [service_of(c) for c in classes]
    assert [s["service_code"] for s in services] == [c.code for c in classes]
    for c, s in zip(classes, services, strict=True):
        assert s["service_name"] == c.name_zh
        assert c.name_en in s["description"]
        assert s["group"] == c.major_zh
        assert s["type"] == "realtime"
        assert s["metadata"] is False
        assert s["keywords"] == ", ".join(c.keywords)


# --- submissions ------------------------------------------------------------------------


def test_a_full_form_becomes_a_submission() -> None:
    sub = parse_submission(_form())
    assert (sub.service_code, sub.lon, sub.lat) == ("E0102", 115.907, 28.676)
    assert sub.address == "八一广场东侧"
    assert sub.reporter == {
        "first_name": "李",
        "last_name": "娜",
        "email": "li@example.cn",
        "phone": "13800000000",
        "device_id": "phone-1",
    }
    (att,) = sub.attachments
    assert (att.ref, att.media_type, att.size) == (
        "https://img.example.cn/a.jpg",
        MEDIA_URL_TYPE,
        len("https://img.example.cn/a.jpg"),
    )
    assert media_url_of(sub.attachments) == "https://img.example.cn/a.jpg"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"service_code": [""]}, "service_code"),
        ({"lat": ["north"]}, "lat"),
        ({"lat": ["91"]}, "lat"),
        ({"long": ["nan"]}, "long"),
        ({"long": ["inf"]}, "long"),
        ({"description": ["   "]}, "description"),
        ({"description": ["长" * 4001]}, "description"),
        ({"media_url": ["javascript:alert(1)"]}, "media_url"),
        ({"media_url": ["https://x.cn/" + "a" * 2000]}, "media_url"),
        ({"email": ["a" * 201]}, "email"),
        ({"address_string": ["路" * 301]}, "address_string"),
        ({"colour": ["red"]}, "colour"),
        ({"attribute[WHISHETN]": ["x"]}, "attribute[WHISHETN]"),
        ({"service_code": ["E0102", "C0101"]}, "service_code"),
    ],
)
def test_bad_forms_name_the_field(change: dict[str, list[str]], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_submission(_form(**change))
    assert err.value.kind is ErrorKind.INVALID
    assert [e.field for e in err.value.errors] == [field]
    assert err.value.message_zh
    assert err.value.message_en


def test_a_missing_point_is_refused_as_address_lookup_is_not_offered() -> None:
    form = {k: v for k, v in FORM.items() if k not in ("lat", "long")}
    with pytest.raises(InvalidInput) as err:
        parse_submission(form)
    assert err.value.errors[0].field == "lat"


def test_a_description_of_exactly_the_limit_is_taken() -> None:
    assert len(parse_submission(_form(description=["长" * 4000])).description) == 4000


def test_resubmissions_are_recognised_by_device_service_point_and_text() -> None:
    sub = parse_submission(_form())
    assert sub.external_id("app-1") == parse_submission(_form()).external_id("app-1")
    assert sub.external_id("app-1") != sub.external_id("app-2")
    other_text = parse_submission(_form(description=["又堆了"]))
    assert other_text.external_id("app-1") != sub.external_id("app-1")
    nameless = parse_submission({k: v for k, v in FORM.items() if k != "device_id"})
    assert nameless.external_id("app-1") is None
    by_account = parse_submission(
        {k: v for k, v in FORM.items() if k != "device_id"} | {"account_id": ["u-9"]}
    )
    assert (by_account.external_id("app-1") or "").startswith("open311:")


def test_datetimes_need_their_offset() -> None:
    assert parse_datetime("start_date", "2026-11-23T09:00:00Z") == datetime(
        2026, 11, 23, 9, tzinfo=UTC
    )
    assert parse_datetime("start_date", "2026-11-23T09:00:00+08:00") == T0
    assert parse_datetime("start_date", None) is None
    for bad in ("2026-11-23T09:00:00", "yesterday"):
        with pytest.raises(InvalidInput):
            parse_datetime("start_date", bad)
    assert split_list(" a, ,b,") == ["a", "b"]


# --- requests ---------------------------------------------------------------------------


def test_a_request_carries_the_cases_public_state_and_never_the_reporter() -> None:
    cls = next(c for c in demo_classes() if c.code == "E0102")
    out = request_of(_report(), _case(), cls, "城市管理局 / Urban management", None, False)
    assert out["service_request_id"] == "r1"
    assert out["status"] == "open"
    assert out["service_name"] == cls.name_zh
    assert out["agency_responsible"] == "城市管理局 / Urban management"
    assert out["requested_datetime"] == "2026-11-23T01:00:00+00:00"
    assert out["updated_datetime"] == "2026-11-23T02:00:00+00:00"
    assert out["expected_datetime"] == "2026-11-24T01:00:00+00:00"
    assert out["address"] == "八一广场东侧"
    assert (out["lat"], out["long"]) == (28.676, 115.907)
    assert out["status_notes"].startswith("派遣")
    text = repr(out)
    for private in ("13800000000", "li@example.cn", "李"):
        assert private not in text


def test_a_merged_report_shows_its_own_text_and_point_never_the_cases_address() -> None:
    case = _case(CaseStatus.EVALUATED, source=Source.HOTLINE_12345, description="热线原话")
    report = _report(lon=115.9071, lat=28.6761, text="我也看到了")
    out = request_of(report, case, None, None, "https://img.example.cn/b.jpg", True)
    assert out["status"] == "closed"
    assert out["description"] == "我也看到了"
    assert out["address"] is None
    assert (out["lat"], out["long"]) == (28.6761, 115.9071)
    assert out["media_url"] == "https://img.example.cn/b.jpg"
    assert "合并" in out["status_notes"] or "并入" in out["status_notes"]
    assert "热线原话" not in repr(out)


def test_a_receipt_says_whether_the_report_joined_a_case() -> None:
    assert receipt_of("r1", False)["account_id"] is None
    assert "并入" in receipt_of("r1", True)["service_notice"]


# --- XML --------------------------------------------------------------------------------


def _parse(doc: bytes) -> ET.Element:
    return ET.fromstring(doc)


def test_documents_follow_the_specs_element_names() -> None:
    cls = demo_classes()[0]
    services = _parse(services_xml([service_of(cls)]))
    assert services.tag == "services"
    assert services[0].tag == "service"
    assert services[0].findtext("service_code") == cls.code
    assert services[0].findtext("metadata") == "false"
    definition = _parse(definition_xml({"service_code": cls.code, "attributes": []}))
    assert definition.tag == "service_definition"
    assert definition.find("attributes") is not None
    reqs = _parse(requests_xml([request_of(_report(), _case(), cls, None, None, False)]))
    assert reqs.tag == "service_requests"
    assert reqs[0].tag == "request"
    assert reqs[0].findtext("service_request_id") == "r1"
    assert reqs[0].find("media_url") is not None  # empty fields stay, empty
    errors = _parse(errors_xml([{"code": 400, "description": "坏 <x> & y"}]))
    assert errors.tag == "errors"
    assert errors[0].tag == "error"
    assert errors[0].findtext("code") == "400"
    assert errors[0].findtext("description") == "坏 <x> & y"


def test_nested_lists_take_their_item_names() -> None:
    attr = {"code": "A1", "values": [{"key": "1", "name": "是"}, {"key": "0", "name": "否"}]}
    doc = _parse(definition_xml({"service_code": "E0102", "attributes": [attr]}))
    assert [v.findtext("name") for v in doc.iter("value")] == ["是", "否"]
    assert doc.find("attributes/attribute/code") is not None


@given(st.text())
@example("line\r\nnext\rlast\n")
@example("<request>&amp;</request> ]]> \x00\x1f\ufffe")
def test_any_text_survives_the_xml_round_trip_as_xml_can_carry_it(text: str) -> None:
    doc = requests_xml([{"description": text, "status_notes": text}])
    item = _parse(doc)[0]
    # What XML 1.0 can carry comes back exactly, carriage returns and markup included.
    assert (item.findtext("description") or "") == xml_safe(text)
    assert (item.findtext("status_notes") or "") == xml_safe(text)


@given(st.text(alphabet=st.characters(codec="utf-8")))
def test_xml_safe_keeps_what_xml_can_carry(text: str) -> None:
    safe = xml_safe(text)
    assert len(safe) == len(text)
    for before, after in zip(text, safe, strict=True):
        assert after == before or after == "\ufffd"
