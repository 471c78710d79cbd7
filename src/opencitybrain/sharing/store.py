"""The port sharing needs for requests and grants, and its SQL implementation.

The audit chain's store is in ``audit_store.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa

from opencitybrain.sharing import tables as t
from opencitybrain.sharing.model import (
    Decider,
    Grant,
    Request,
    RequestSpec,
    RequestStatus,
    StatusChange,
    condition_doc,
    condition_from_doc,
)


class SharingStore(Protocol):
    """Keep requests and grants."""

    def add_request(self, r: Request) -> None:
        """Store a new request."""
        ...

    def save_request(self, r: Request) -> None:
        """Replace a stored request (status changes)."""
        ...

    def request(self, request_id: str) -> Request | None:
        """Return a request or None."""
        ...

    def requests(self, department: str | None, limit: int = 200) -> list[Request]:
        """Return requests a department made or must answer (None: all), newest first."""
        ...

    def overdue(self, now: datetime) -> list[Request]:
        """Return pending requests whose answer was due before ``now``."""
        ...

    def add_grant(self, g: Grant) -> None:
        """Store a new grant."""
        ...

    def save_grant(self, g: Grant) -> None:
        """Replace a stored grant (revocation)."""
        ...

    def grant(self, grant_id: str) -> Grant | None:
        """Return a grant or None."""
        ...

    def grants(self, department: str | None, limit: int = 200) -> list[Grant]:
        """Return grants a department holds or gave (None: all), newest first."""
        ...


# --- codecs --------------------------------------------------------------------------------


def _spec_doc(s: RequestSpec) -> dict[str, Any]:
    return {
        "resource_id": s.resource_id,
        "fields": list(s.fields),
        "purpose": s.purpose,
        "scenario": s.scenario,
        "ends_at": s.ends_at.isoformat(),
        "clear_fields": list(s.clear_fields),
        "clear_reason": s.clear_reason,
        "row_filter": [condition_doc(c) for c in s.row_filter],
    }


def _request_doc(r: Request) -> dict[str, Any]:
    return {
        "spec": _spec_doc(r.spec),
        "requested_by": r.requested_by,
        "grant_id": r.grant_id,
        "reason": r.reason,
        "legal_basis": r.legal_basis,
        "history": [
            {"status": h.status.value, "at": h.at.isoformat(), "actor": h.actor, "note": h.note}
            for h in r.history
        ],
    }


def _request_of(row: sa.Row[Any]) -> Request:
    doc = row.doc
    s = doc["spec"]
    spec = RequestSpec(
        resource_id=s["resource_id"],
        fields=tuple(s["fields"]),
        purpose=s["purpose"],
        scenario=s["scenario"],
        ends_at=datetime.fromisoformat(s["ends_at"]),
        clear_fields=tuple(s["clear_fields"]),
        clear_reason=s["clear_reason"],
        row_filter=tuple(condition_from_doc(c) for c in s["row_filter"]),
    )
    history = tuple(
        StatusChange(
            RequestStatus(h["status"]), datetime.fromisoformat(h["at"]), h["actor"], h["note"]
        )
        for h in doc["history"]
    )
    return Request(
        id=row.id,
        spec=spec,
        requester_department=row.requester_department,
        requested_by=doc["requested_by"],
        provider_department=row.provider_department,
        decider=Decider(row.decider),
        status=RequestStatus(row.status),
        created_at=datetime.fromisoformat(doc["history"][0]["at"]) if history else row.created_at,
        due_at=_due(doc),
        updated_at=history[-1].at if history else row.updated_at,
        grant_id=doc["grant_id"],
        reason=doc["reason"],
        legal_basis=doc["legal_basis"],
        history=history,
    )


def _due(doc: dict[str, Any]) -> datetime | None:
    due = doc.get("due_at")
    return datetime.fromisoformat(due) if isinstance(due, str) else None


def _grant_doc(g: Grant) -> dict[str, Any]:
    return {
        "fields": list(g.fields),
        "cleared": list(g.cleared),
        "row_filter": [condition_doc(c) for c in g.row_filter],
        "purpose": g.purpose,
        "scenario": g.scenario,
        "granted_by": g.granted_by,
        "granted_at": g.granted_at.isoformat(),
        "expires_at": g.expires_at.isoformat(),
        "revoked_at": g.revoked_at.isoformat() if g.revoked_at else None,
        "revoked_by": g.revoked_by,
        "revoke_reason": g.revoke_reason,
    }


def _grant_of(row: sa.Row[Any]) -> Grant:
    d = row.doc
    return Grant(
        id=row.id,
        request_id=row.request_id,
        resource_id=row.resource_id,
        department_id=row.department_id,
        provider_department=row.provider_department,
        fields=tuple(d["fields"]),
        cleared=tuple(d["cleared"]),
        row_filter=tuple(condition_from_doc(c) for c in d["row_filter"]),
        purpose=d["purpose"],
        scenario=d["scenario"],
        granted_by=d["granted_by"],
        granted_at=datetime.fromisoformat(d["granted_at"]),
        expires_at=datetime.fromisoformat(d["expires_at"]),
        revoked_at=datetime.fromisoformat(d["revoked_at"]) if d["revoked_at"] else None,
        revoked_by=d["revoked_by"],
        revoke_reason=d["revoke_reason"],
    )


class SqlSharingStore:
    """Requests and grants in the operational SQL database."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def _request_values(self, r: Request) -> dict[str, Any]:
        doc = _request_doc(r)
        doc["due_at"] = r.due_at.isoformat() if r.due_at else None
        return {
            "resource_id": r.spec.resource_id,
            "requester_department": r.requester_department,
            "provider_department": r.provider_department,
            "status": r.status.value,
            "decider": r.decider.value,
            "created_at": r.created_at,
            "due_at": r.due_at,
            "updated_at": r.updated_at,
            "doc": doc,
        }

    def add_request(self, r: Request) -> None:
        """Store a new request."""
        with self._engine.begin() as conn:
            conn.execute(t.requests.insert().values(id=r.id, **self._request_values(r)))

    def save_request(self, r: Request) -> None:
        """Replace a stored request."""
        with self._engine.begin() as conn:
            conn.execute(
                t.requests.update().where(t.requests.c.id == r.id).values(**self._request_values(r))
            )

    def request(self, request_id: str) -> Request | None:
        """Return a request or None."""
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(t.requests).where(t.requests.c.id == request_id)).first()
        return _request_of(row) if row is not None else None

    def requests(self, department: str | None, limit: int = 200) -> list[Request]:
        """Return requests a department made or must answer (None: all), newest first."""
        q = sa.select(t.requests).order_by(t.requests.c.created_at.desc(), t.requests.c.id)
        if department is not None:
            q = q.where(
                sa.or_(
                    t.requests.c.requester_department == department,
                    t.requests.c.provider_department == department,
                )
            )
        with self._engine.connect() as conn:
            return [_request_of(r) for r in conn.execute(q.limit(limit))]

    def overdue(self, now: datetime) -> list[Request]:
        """Return pending requests whose answer was due before ``now``."""
        q = sa.select(t.requests).where(
            t.requests.c.status == RequestStatus.PENDING.value, t.requests.c.due_at < now
        )
        with self._engine.connect() as conn:
            return [_request_of(r) for r in conn.execute(q)]

    def add_grant(self, g: Grant) -> None:
        """Store a new grant."""
        with self._engine.begin() as conn:
            conn.execute(
                t.grants.insert().values(
                    id=g.id,
                    request_id=g.request_id,
                    resource_id=g.resource_id,
                    department_id=g.department_id,
                    provider_department=g.provider_department,
                    expires_at=g.expires_at,
                    revoked_at=g.revoked_at,
                    doc=_grant_doc(g),
                )
            )

    def save_grant(self, g: Grant) -> None:
        """Replace a stored grant."""
        with self._engine.begin() as conn:
            conn.execute(
                t.grants.update()
                .where(t.grants.c.id == g.id)
                .values(revoked_at=g.revoked_at, expires_at=g.expires_at, doc=_grant_doc(g))
            )

    def grant(self, grant_id: str) -> Grant | None:
        """Return a grant or None."""
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(t.grants).where(t.grants.c.id == grant_id)).first()
        return _grant_of(row) if row is not None else None

    def grants(self, department: str | None, limit: int = 200) -> list[Grant]:
        """Return grants a department holds or gave (None: all), newest first."""
        q = sa.select(t.grants).order_by(t.grants.c.expires_at.desc(), t.grants.c.id)
        if department is not None:
            q = q.where(
                sa.or_(
                    t.grants.c.department_id == department,
                    t.grants.c.provider_department == department,
                )
            )
        with self._engine.connect() as conn:
            return [_grant_of(r) for r in conn.execute(q.limit(limit))]
