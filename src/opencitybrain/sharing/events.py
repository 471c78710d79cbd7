"""What the sharing events carry: JSON-ready summaries of requests and grants.

Events are ``city.sharing.<request|grant>.<what>``; their data never holds row values.
"""

from __future__ import annotations

from opencitybrain.sharing.model import Grant, Request, condition_doc


def request_data(r: Request) -> dict[str, object]:
    """Return the JSON-ready summary of a request announced on the bus."""
    return {
        "id": r.id,
        "resource_id": r.spec.resource_id,
        "status": r.status.value,
        "requester_department": r.requester_department,
        "provider_department": r.provider_department,
        "decider": r.decider.value,
        "fields": list(r.spec.fields),
        "grant_id": r.grant_id,
        "due_at": r.due_at.isoformat() if r.due_at else None,
    }


def grant_data(g: Grant) -> dict[str, object]:
    """Return the JSON-ready summary of a grant announced on the bus."""
    return {
        "id": g.id,
        "request_id": g.request_id,
        "resource_id": g.resource_id,
        "department_id": g.department_id,
        "provider_department": g.provider_department,
        "fields": list(g.fields),
        "cleared": list(g.cleared),
        "row_filter": [condition_doc(c) for c in g.row_filter],
        "purpose": g.purpose,
        "expires_at": g.expires_at.isoformat(),
        "revoked_at": g.revoked_at.isoformat() if g.revoked_at else None,
    }
