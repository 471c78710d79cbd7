"""sharing: requests, grants, the audit chain and its signed checkpoints

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported, so this script keeps meaning what it meant.
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
AWARE = sa.DateTime(timezone=True)
ID = sa.String(32)


def upgrade() -> None:
    """Create the sharing tables."""
    op.create_table(
        "sharing_requests",
        sa.Column("id", ID, nullable=False),
        sa.Column("resource_id", ID, nullable=False),
        sa.Column("requester_department", sa.String(64), nullable=False),
        sa.Column("provider_department", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decider", sa.String(16), nullable=False),
        sa.Column("created_at", AWARE, nullable=False),
        sa.Column("due_at", AWARE, nullable=True),
        sa.Column("updated_at", AWARE, nullable=False),
        sa.Column("doc", JSON_DOC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sharing_requests"),
    )
    op.create_index(
        "ix_sharing_requests_requester_department", "sharing_requests", ["requester_department"]
    )
    op.create_index(
        "ix_sharing_requests_provider_department", "sharing_requests", ["provider_department"]
    )
    op.create_index("ix_sharing_requests_due_at", "sharing_requests", ["status", "due_at"])
    op.create_table(
        "sharing_grants",
        sa.Column("id", ID, nullable=False),
        sa.Column("request_id", ID, nullable=False),
        sa.Column("resource_id", ID, nullable=False),
        sa.Column("department_id", sa.String(64), nullable=False),
        sa.Column("provider_department", sa.String(64), nullable=False),
        sa.Column("expires_at", AWARE, nullable=False),
        sa.Column("revoked_at", AWARE, nullable=True),
        sa.Column("doc", JSON_DOC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sharing_grants"),
    )
    op.create_index("ix_sharing_grants_department_id", "sharing_grants", ["department_id"])
    op.create_index(
        "ix_sharing_grants_provider_department", "sharing_grants", ["provider_department"]
    )
    op.create_table(
        "sharing_audit",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("resource_id", sa.String(64), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("result_hash", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_sharing_audit"),
    )
    op.create_index("ix_sharing_audit_resource_id", "sharing_audit", ["resource_id"])
    op.create_index("ix_sharing_audit_department", "sharing_audit", ["department"])
    op.create_table(
        "sharing_audit_checkpoints",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("signed_at", sa.String(40), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_sharing_audit_checkpoints"),
    )


def downgrade() -> None:
    """Drop the sharing tables."""
    op.drop_table("sharing_audit_checkpoints")
    op.drop_table("sharing_audit")
    op.drop_table("sharing_grants")
    op.drop_table("sharing_requests")
