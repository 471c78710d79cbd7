"""Request and response bodies of the sharing API (``/api/v1/sharing``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from opencitybrain.apikit.bodies import StrictBody
from opencitybrain.catalog.model import FILLED
from opencitybrain.catalog.rows import Condition, Op
from opencitybrain.sharing.access import GovernedPage
from opencitybrain.sharing.audit import AuditRecord, Verdict
from opencitybrain.sharing.model import (
    MAX_FILTER_TERMS,
    PURPOSE_MAX,
    REASON_MAX,
    Decider,
    Grant,
    Request,
    RequestSpec,
    RequestStatus,
    condition_doc,
)
from opencitybrain.sharing.service import Decision

FieldName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$", examples=["mobile"])]
Scalar = str | int | float | bool | None
Reason = Annotated[str, Field(max_length=REASON_MAX)]


class TermBody(StrictBody):
    """One row-filter term: ``field op value`` (``in`` takes a list)."""

    field: FieldName
    op: Op
    value: Annotated[Scalar | list[Annotated[Scalar, Field()]], Field(examples=["东湖区"])]

    def to_condition(self) -> Condition:
        """Return the domain term."""
        v = self.value
        return Condition(self.field, self.op, tuple(v) if isinstance(v, list) else v)


Terms = Annotated[list[TermBody], Field(max_length=MAX_FILTER_TERMS)]
Fields = Annotated[list[FieldName], Field(max_length=500)]


class RequestBody(StrictBody):
    """A department asks for named fields of a resource for a purpose and a scenario."""

    resource_id: Annotated[str, Field(min_length=1, max_length=32)]
    fields: Annotated[list[FieldName], Field(min_length=1, max_length=500)]
    purpose: Annotated[
        str, Field(max_length=PURPOSE_MAX, pattern=FILLED, examples=["违停车主通知"])
    ]
    scenario: Annotated[
        str, Field(max_length=200, pattern=FILLED, examples=["机动车违停处置一件事"])
    ]
    ends_at: Annotated[datetime, Field(description="使用期限 / end of the period asked for")]
    clear_fields: Fields = Field(default_factory=list)
    clear_reason: Reason = ""
    row_filter: Terms = Field(default_factory=list)

    def to_spec(self) -> RequestSpec:
        """Return the domain request."""
        return RequestSpec(
            resource_id=self.resource_id,
            fields=tuple(dict.fromkeys(self.fields)),
            purpose=self.purpose.strip(),
            scenario=self.scenario,
            ends_at=self.ends_at,
            clear_fields=tuple(dict.fromkeys(self.clear_fields)),
            clear_reason=self.clear_reason,
            row_filter=tuple(t.to_condition() for t in self.row_filter),
        )


class ApproveBody(StrictBody):
    """An approval: reasons, a legal basis (不予共享), fields cleared, a narrower row filter."""

    reason: Reason = ""
    legal_basis: Reason = ""
    clear_fields: Fields | None = None
    row_filter: Terms = Field(default_factory=list)

    def to_decision(self) -> Decision:
        """Return the domain decision."""
        return Decision(
            reason=self.reason,
            legal_basis=self.legal_basis,
            clear_fields=None if self.clear_fields is None else tuple(self.clear_fields),
            row_filter=tuple(t.to_condition() for t in self.row_filter),
        )


class ReasonBody(StrictBody):
    """A refusal or a revocation, with its reasons."""

    reason: Annotated[str, Field(min_length=1, max_length=REASON_MAX, pattern=FILLED)]


class StatusChangeOut(BaseModel):
    """One step of a request's history."""

    status: RequestStatus
    at: datetime
    actor: str
    note: str


class RequestOut(BaseModel):
    """A request and every status change it went through."""

    id: str
    resource_id: str
    fields: list[str]
    purpose: str
    scenario: str
    ends_at: datetime
    clear_fields: list[str]
    clear_reason: str
    row_filter: list[dict[str, Any]]
    requester_department: str
    requested_by: str
    provider_department: str
    decider: Decider
    status: RequestStatus
    created_at: datetime
    due_at: datetime | None
    updated_at: datetime
    grant_id: str | None
    reason: str
    legal_basis: str
    history: list[StatusChangeOut]

    @classmethod
    def of(cls, r: Request) -> RequestOut:
        """Return the response form of a request."""
        s = r.spec
        return cls(
            id=r.id, resource_id=s.resource_id, fields=list(s.fields), purpose=s.purpose,
            scenario=s.scenario, ends_at=s.ends_at, clear_fields=list(s.clear_fields),
            clear_reason=s.clear_reason, row_filter=[condition_doc(c) for c in s.row_filter],
            requester_department=r.requester_department, requested_by=r.requested_by,
            provider_department=r.provider_department, decider=r.decider, status=r.status,
            created_at=r.created_at, due_at=r.due_at, updated_at=r.updated_at,
            grant_id=r.grant_id, reason=r.reason, legal_basis=r.legal_basis,
            history=[StatusChangeOut(status=h.status, at=h.at, actor=h.actor, note=h.note)
                     for h in r.history],
        )  # fmt: skip


class GrantOut(BaseModel):
    """A grant: what a department may read, for which purpose, until when."""

    id: str
    request_id: str
    resource_id: str
    department_id: str
    provider_department: str
    fields: list[str]
    cleared: list[str]
    row_filter: list[dict[str, Any]]
    purpose: str
    scenario: str
    granted_by: str
    granted_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str

    @classmethod
    def of(cls, g: Grant) -> GrantOut:
        """Return the response form of a grant."""
        return cls(
            id=g.id, request_id=g.request_id, resource_id=g.resource_id,
            department_id=g.department_id, provider_department=g.provider_department,
            fields=list(g.fields), cleared=list(g.cleared),
            row_filter=[condition_doc(c) for c in g.row_filter], purpose=g.purpose,
            scenario=g.scenario, granted_by=g.granted_by, granted_at=g.granted_at,
            expires_at=g.expires_at, revoked_at=g.revoked_at, revoked_by=g.revoked_by,
            revoke_reason=g.revoke_reason,
        )  # fmt: skip


class RowsOut(BaseModel):
    """A page of governed rows and what was done to them."""

    resource_id: str
    grant_id: str | None
    fields: list[str]
    masked: list[str]
    pseudonymised: list[str]
    total: int
    offset: int
    limit: int
    audit_seq: int
    rows: list[dict[str, Scalar | date | datetime]]

    @classmethod
    def of(cls, p: GovernedPage) -> RowsOut:
        """Return the response form of a page."""
        return cls(
            resource_id=p.resource_id, grant_id=p.grant_id, fields=list(p.fields),
            masked=list(p.masked), pseudonymised=list(p.pseudonymised), total=p.total,
            offset=p.offset, limit=p.limit, audit_seq=p.audit_seq, rows=p.rows,
        )  # fmt: skip


class AuditRecordOut(BaseModel):
    """One record of the audit chain, as stored (its hash covers all of it)."""

    seq: int
    at: str
    kind: str
    actor: str
    department: str
    purpose: str
    resource_id: str
    fields: str
    row_count: int
    result_hash: str
    subject: str
    detail: str
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, r: AuditRecord) -> AuditRecordOut:
        """Return the response form of a record."""
        return cls(**{name: getattr(r, name) for name in AuditRecord.__slots__})


class VerdictOut(BaseModel):
    """The audit chain's verification: ok, or the first bad record and why."""

    ok: bool
    records: int
    checkpoints: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None
    reason: str
    reason_zh: str
    public_key: str

    @classmethod
    def of(cls, v: Verdict, public_key: str) -> VerdictOut:
        """Return the response form of a verdict."""
        return cls(
            ok=v.ok, records=v.records, checkpoints=v.checkpoints, head_seq=v.head_seq,
            head_hash=v.head_hash, first_bad_seq=v.first_bad_seq, reason=v.reason,
            reason_zh=v.reason_zh, public_key=public_key,
        )  # fmt: skip
