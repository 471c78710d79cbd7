"""Open311 GeoReport v2 in terms of unified operations (pure: no I/O, no clock).

Services are the case classes citizens may report; a service request is one report
filed through Open311, its status that of the case it made or joined. Only what the
submitter sent and the case's public state leave: never the reporter's identity, never
another source's text.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from opencitybrain.kernel.errors import FieldError, InvalidInput
from opencitybrain.operations.classes import CaseClass, Urgency
from opencitybrain.operations.intake import MAX_TEXT
from opencitybrain.operations.model import (
    STATUS_NAMES,
    Attachment,
    Case,
    CaseStatus,
    Report,
)
from opencitybrain.worktime.limits import UNIT_NAMES

# A link to the submitter's photo is kept as an attachment whose content is a one-line
# URI list (RFC 2483): the ref is the URL, the size the URL's length in bytes.
MEDIA_URL_TYPE = "text/uri-list"
MAX_MEDIA_URL = 2000
MAX_FIELD = 200  # names, e-mail, phone, device and account ids
FORMATS = ("json", "xml")
# Cases that no one will act on any more are closed to Open311.
CLOSED_STATUSES = frozenset({CaseStatus.CLOSED, CaseStatus.EVALUATED, CaseStatus.REJECTED})
_REPORTER_FIELDS = ("first_name", "last_name", "email", "phone", "device_id", "account_id")
_KNOWN_FIELDS = frozenset(
    {
        "api_key",
        "jurisdiction_id",
        "service_code",
        "lat",
        "long",
        "address_string",
        "address_id",
        "description",
        "media_url",
        *_REPORTER_FIELDS,
    }
)
_ATTRIBUTE_RE = re.compile(r"^attribute\[(.+)\]$")


def bad(field_name: str, reason: str, zh: str, en: str) -> InvalidInput:
    """Return a 400 naming the bad Open311 field."""
    return InvalidInput("open311.invalid", zh, en, (FieldError(field_name, reason),))


def status_of(status: CaseStatus) -> str:
    """Return the Open311 status of a case status: closed once no one acts any more."""
    return "closed" if status in CLOSED_STATUSES else "open"


def statuses_for(open311_status: str) -> frozenset[CaseStatus]:
    """Return the case statuses an Open311 status (open or closed) stands for."""
    if open311_status == "closed":
        return CLOSED_STATUSES
    if open311_status == "open":
        return frozenset(CaseStatus) - CLOSED_STATUSES
    raise bad(
        "status",
        "open | closed",
        f"未知的状态：{open311_status}",
        f"unknown status: {open311_status}",
    )


def limit_text(case_class: CaseClass) -> str:
    """Return the class's time limit in words, Chinese first."""
    limit = case_class.time_limit
    zh, en = UNIT_NAMES[limit.unit]
    urgent = "（紧急）" if case_class.urgency is Urgency.URGENT else ""
    return f"办理时限 {limit.value:g} {zh}{urgent} / time limit {limit.value:g} {en}"


def service_of(case_class: CaseClass) -> dict[str, Any]:
    """Return a class as a GeoReport service."""
    return {
        "service_code": case_class.code,
        "service_name": case_class.name_zh,
        "description": f"{case_class.name_en}（{limit_text(case_class)}）",
        # No class defines extra fields yet, so no service needs a definition's attributes.
        "metadata": False,
        "type": "realtime",
        "keywords": ", ".join(case_class.keywords),
        "group": case_class.major_zh,
    }


def definition_of(case_class: CaseClass) -> dict[str, Any]:
    """Return a class's service definition (its attributes; none yet)."""
    return {"service_code": case_class.code, "attributes": []}


@dataclass(frozen=True, slots=True)
class Submission:
    """A checked ``POST requests`` form."""

    service_code: str
    lon: float
    lat: float
    description: str
    address: str | None = None
    media_url: str | None = None
    reporter: dict[str, str] = field(default_factory=dict)

    @property
    def attachments(self) -> tuple[Attachment, ...]:
        """Return the media link as an attachment (none without one)."""
        if self.media_url is None:
            return ()
        size = len(self.media_url.encode("utf-8"))
        return (Attachment(self.media_url, MEDIA_URL_TYPE, size, "media_url"),)

    def external_id(self, actor: str) -> str | None:
        """Return the id that makes a device's resubmission of the same request recognisable.

        Open311 has no request id of the client's own; the same device (or account)
        sending the same service, point and text again is a resubmission, not news.
        """
        who = self.reporter.get("device_id") or self.reporter.get("account_id")
        if who is None:
            return None
        key = "\x1f".join(
            [actor, who, self.service_code, f"{self.lon:.6f}", f"{self.lat:.6f}", self.description]
        )
        return "open311:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]


def _one(form: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = form.get(name) or []
    if len(values) > 1:
        raise bad(name, "given once", f"参数 {name} 只能出现一次", f"{name} must be given once")
    value = values[0].strip() if values else ""
    return value or None


def _coordinate(form: Mapping[str, Sequence[str]], name: str, limit: float) -> float:
    text = _one(form, name)
    if text is None:
        raise bad(
            name,
            "required (address lookup is not offered)",
            f"缺少 {name}：请提供经纬度（WGS-84）",
            f"{name} is required: give the point (WGS-84)",
        )
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and -limit <= value <= limit):
        raise bad(
            name,
            f"a number within ±{limit:g}",
            f"{name} 不是有效的坐标：{text[:40]}",
            f"{name} is not a valid coordinate: {text[:40]}",
        )
    return value


def _media_url(text: str | None) -> str | None:
    if text is None:
        return None
    parts = urlsplit(text)
    if len(text) > MAX_MEDIA_URL or parts.scheme not in ("http", "https") or not parts.netloc:
        raise bad(
            "media_url",
            f"an http(s) URL of at most {MAX_MEDIA_URL} characters",
            "media_url 须为 http(s) 链接",
            "media_url must be an http(s) URL",
        )
    return text


def parse_submission(form: Mapping[str, Sequence[str]]) -> Submission:
    """Check a ``POST requests`` form (field → values) and return what it asks for."""
    unknown = sorted(k for k in form if k not in _KNOWN_FIELDS and not _ATTRIBUTE_RE.match(k))
    if unknown:
        raise bad(
            unknown[0],
            "not a GeoReport v2 field",
            f"未知的参数：{', '.join(unknown)}",
            f"unknown fields: {', '.join(unknown)}",
        )
    attributes = sorted(k for k in form if _ATTRIBUTE_RE.match(k))
    if attributes:  # no service defines attributes (metadata false), so none can be kept
        raise bad(
            attributes[0],
            "this service defines no attributes",
            f"该服务没有可填写的属性：{attributes[0]}",
            f"the service defines no attribute {attributes[0]}",
        )
    code = _one(form, "service_code")
    if code is None:
        raise bad("service_code", "required", "缺少 service_code", "service_code is required")
    description = _one(form, "description")
    if description is None or len(description) > MAX_TEXT:
        raise bad(
            "description",
            f"1–{MAX_TEXT} characters",
            f"问题描述须为 1–{MAX_TEXT} 个字符",
            f"description must be 1–{MAX_TEXT} characters",
        )
    lat = _coordinate(form, "lat", 90)
    lon = _coordinate(form, "long", 180)
    address = _one(form, "address_string")
    if address is not None and len(address) > 300:
        raise bad(
            "address_string",
            "at most 300 characters",
            "地址过长（最多 300 个字符）",
            "address_string is too long (at most 300 characters)",
        )
    reporter: dict[str, str] = {}
    for name in _REPORTER_FIELDS:
        value = _one(form, name)
        if value is not None and len(value) > MAX_FIELD:
            raise bad(
                name, f"at most {MAX_FIELD} characters", f"{name} 过长", f"{name} is too long"
            )
        if value is not None:
            reporter[name] = value
    return Submission(
        code, lon, lat, description, address, _media_url(_one(form, "media_url")), reporter
    )


def parse_datetime(name: str, text: str | None) -> datetime | None:
    """Parse a W3C datetime with its offset (``2026-11-23T09:00:00+08:00`` or ``…Z``)."""
    if text is None or not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise bad(
            name,
            "W3C datetime with offset, e.g. 2026-11-23T09:00:00+08:00",
            f"{name} 须为带时区的 W3C 时间",
            f"{name} must be a W3C datetime with an offset",
        )
    return value


def split_list(text: str | None) -> list[str]:
    """Split a comma-delimited parameter into its non-empty parts."""
    return [p.strip() for p in (text or "").split(",") if p.strip()]


def media_url_of(attachments: Sequence[Attachment]) -> str | None:
    """Return the media link kept among a report's attachments, if any."""
    return next((a.ref for a in attachments if a.media_type == MEDIA_URL_TYPE), None)


def _w3c(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")


def request_of(
    report: Report,
    case: Case,
    case_class: CaseClass | None,
    agency: str | None,
    media_url: str | None,
    merged: bool,
) -> dict[str, Any]:
    """Return one Open311 report and its case's public state as a GeoReport request.

    ``merged`` tells that the report joined a case another report had made.
    """
    notes = f"{STATUS_NAMES[case.status]} / {case.status.value.replace('_', ' ')}"
    if merged:
        notes += "；已并入同一问题的案件 / merged into the case of the same problem"
    # The address typed is kept on the case the report made; a merged report (perhaps
    # into another source's case) shows its own point only, never another's address.
    address = None if merged else case.location.address
    return {
        "service_request_id": report.id,
        "status": status_of(case.status),
        "status_notes": notes,
        "service_name": case_class.name_zh if case_class else case.class_code,
        "service_code": case.class_code,
        "description": report.text,
        "agency_responsible": agency,
        "service_notice": limit_text(case_class) if case_class else None,
        "requested_datetime": _w3c(report.received_at),
        "updated_datetime": _w3c(max(case.updated_at, report.received_at)),
        "expected_datetime": _w3c(case.due_at),
        "address": address,
        "address_id": None,
        "zipcode": None,
        "lat": report.lat,
        "long": report.lon,
        "media_url": media_url,
    }


def receipt_of(report_id: str, merged: bool) -> dict[str, Any]:
    """Return the answer to ``POST requests``: the request id and a notice."""
    notice = (
        "附近已有同一问题的案件，您的报告已并入该案件 / "
        "a case of the same problem nearby exists; your report joined it"
        if merged
        else "已受理，将按分类派遣处置 / received; it will be dispatched by its class"
    )
    return {"service_request_id": report_id, "service_notice": notice, "account_id": None}
