"""Sharing domain: requests for a resource's fields, the grants that answer them, their rules.

A department asks for named fields of another department's resource, for a stated
purpose and scenario (一件事) and a period. What happens next depends on the resource's
sharing type (2016 共享管理暂行办法):

- 无条件共享: granted at once, unless the request asks to clear masked fields (then the
  provider decides, as for a conditional resource);
- 有条件共享: the provider approves or refuses, with reasons, within 10 working days;
  an unanswered request escalates to the bureau, which may then decide it;
- 不予共享: only the bureau decides, and only a recorded legal basis lets it approve.

Clearing a field of masking needs a reason; clearing a core-level (核心) field needs the
bureau's approval, whoever provides the resource.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from opencitybrain.catalog.model import SPACES, Level, Resource, SharingType
from opencitybrain.catalog.rows import Condition, Op, Value
from opencitybrain.kernel.errors import FieldError, InvalidInput

DECISION_WORKING_DAYS = 10
PURPOSE_MAX = 200
REASON_MAX = 2000
MAX_FILTER_TERMS = 20


class RequestStatus(StrEnum):
    """Where a request stands; every change is kept in its history and announced."""

    PENDING = "pending"  # waiting for the provider (or the bureau)
    ESCALATED = "escalated"  # overdue: the bureau may decide it now
    GRANTED = "granted"
    REFUSED = "refused"


OPEN_STATUSES = (RequestStatus.PENDING, RequestStatus.ESCALATED)


class Decider(StrEnum):
    """Who decides a request."""

    AUTO = "auto"  # 无条件共享 without clearing: granted at once
    PROVIDER = "provider"
    BUREAU = "bureau"  # 不予共享, or a core-level field to clear


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """What a requesting department states."""

    resource_id: str
    fields: tuple[str, ...]
    purpose: str
    scenario: str  # 一件事: the service the data is for
    ends_at: datetime  # the period asked for: from the grant until this instant
    clear_fields: tuple[str, ...] = ()  # fields asked unmasked
    clear_reason: str = ""
    row_filter: tuple[Condition, ...] = ()


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One step of a request's history (the requester sees every one)."""

    status: RequestStatus
    at: datetime
    actor: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Request:
    """A department's request for a resource's fields."""

    id: str
    spec: RequestSpec
    requester_department: str
    requested_by: str
    provider_department: str
    decider: Decider
    status: RequestStatus
    created_at: datetime
    due_at: datetime | None  # when the answer is due (None: granted at once)
    updated_at: datetime
    grant_id: str | None = None
    reason: str = ""  # the decision's reasons
    legal_basis: str = ""
    history: tuple[StatusChange, ...] = field(default_factory=tuple)

    @property
    def is_open(self) -> bool:
        """Tell whether the request still waits for a decision."""
        return self.status in OPEN_STATUSES


@dataclass(frozen=True, slots=True)
class Grant:
    """The right to read named fields of a resource, for one purpose, until it expires."""

    id: str
    request_id: str
    resource_id: str
    department_id: str  # the grantee
    provider_department: str
    fields: tuple[str, ...]
    cleared: tuple[str, ...]  # fields returned unmasked
    row_filter: tuple[Condition, ...]
    purpose: str
    scenario: str
    granted_by: str
    granted_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    revoke_reason: str = ""

    def live(self, now: datetime) -> bool:
        """Tell whether the grant may be used now (not revoked, not expired)."""
        return self.revoked_at is None and now < self.expires_at


def decider_of(resource: Resource, spec: RequestSpec) -> Decider:
    """Return who decides a request for this resource."""
    levels = {f.name: f.level for f in resource.spec.fields}
    core_cleared = any(levels.get(name) is Level.CORE for name in spec.clear_fields)
    if resource.spec.sharing_type is SharingType.NONE or core_cleared:
        return Decider.BUREAU
    if resource.spec.sharing_type is SharingType.CONDITIONAL or spec.clear_fields:
        return Decider.PROVIDER
    return Decider.AUTO


def _bad(code: str, zh: str, en: str, where: str, why: str) -> InvalidInput:
    return InvalidInput(f"sharing.{code}", zh, en, (FieldError(where, why),))


def filled(text: str) -> bool:
    """Tell whether a text holds something besides spaces."""
    return bool(text.strip(SPACES))


def check_request(resource: Resource, spec: RequestSpec, now: datetime) -> None:
    """Raise InvalidInput unless the request names known fields, a purpose and a future end."""
    known = {f.name for f in resource.spec.fields}
    if not spec.fields:
        raise _bad("no_fields", "须列出申请的信息项", "name at least one field", "fields", "min 1")
    unknown = [f for f in (*spec.fields, *spec.clear_fields) if f not in known]
    if unknown:
        raise _bad(
            "unknown_field",
            f"资源没有信息项：{', '.join(unknown[:5])}",
            f"the resource has no field {', '.join(unknown[:5])}",
            "fields",
            "a field of the resource",
        )
    outside = [f for f in spec.clear_fields if f not in spec.fields]
    if outside:
        raise _bad(
            "clear_not_requested",
            "只能申请对所申请的信息项取消脱敏",
            "only requested fields can be cleared of masking",
            "clear_fields",
            "subset of fields",
        )
    if spec.clear_fields and not filled(spec.clear_reason):
        raise _bad(
            "clear_needs_reason",
            "取消脱敏须说明理由",
            "clearing masked fields needs a reason",
            "clear_reason",
            "required with clear_fields",
        )
    if not filled(spec.purpose) or not filled(spec.scenario):
        raise _bad(
            "no_purpose",
            "须说明用途和应用场景",
            "state the purpose and the scenario",
            "purpose",
            "required",
        )
    if spec.ends_at <= now:
        raise _bad(
            "past_period",
            "使用期限须在将来",
            "the period must end in the future",
            "ends_at",
            "after now",
        )
    check_filter(resource, spec.row_filter, "row_filter")


def check_filter(resource: Resource, terms: tuple[Condition, ...], where: str) -> None:
    """Raise InvalidInput unless each term names a known field and a well-formed value."""
    if len(terms) > MAX_FILTER_TERMS:
        raise _bad(
            "filter_too_long",
            f"过滤条件至多 {MAX_FILTER_TERMS} 项",
            f"at most {MAX_FILTER_TERMS} filter terms",
            where,
            "too many",
        )
    known = {f.name for f in resource.spec.fields}
    for term in terms:
        if term.field not in known:
            raise _bad(
                "unknown_field",
                f"资源没有信息项：{term.field[:64]}",
                f"the resource has no field {term.field[:64]!r}",
                where,
                "unknown field",
            )
        if (term.op is Op.IN) != isinstance(term.value, tuple):
            raise _bad(
                "bad_filter",
                "过滤值与运算不匹配",
                "the filter value does not fit the operator",
                where,
                "in takes a list; other operators one value",
            )


def condition_doc(c: Condition) -> dict[str, object]:
    """Return a JSON-ready form of a filter term."""
    value = list(c.value) if isinstance(c.value, tuple) else c.value
    return {"field": c.field, "op": c.op.value, "value": _json_value(value)}


def _json_value(value: object) -> object:
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()  # a date
    return value


def condition_from_doc(doc: dict[str, object]) -> Condition:
    """Rebuild a filter term from :func:`condition_doc` output (dates stay ISO text)."""
    value = doc.get("value")
    parsed: Value | tuple[Value, ...]
    if isinstance(value, list):
        parsed = tuple(v for v in value if v is None or isinstance(v, str | int | float | bool))
    else:
        parsed = value if value is None or isinstance(value, str | int | float | bool) else None
    return Condition(str(doc["field"]), Op(str(doc["op"])), parsed)
