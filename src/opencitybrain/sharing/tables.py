"""SQL tables of sharing (kept in step with ``migrations/versions/0009``).

Requests and grants keep their filter terms, field lists and history as JSON documents
(read whole, never searched inside). The audit chain stores each record in exactly the
columns its hash covers; its time is ISO text so no engine's datetime round trip can
change what was hashed.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
AWARE = sa.DateTime(timezone=True)
ID = sa.String(32)

requests = sa.Table(
    "sharing_requests",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("resource_id", ID, nullable=False),
    sa.Column("requester_department", sa.String(64), nullable=False),
    sa.Column("provider_department", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("decider", sa.String(16), nullable=False),
    sa.Column("created_at", AWARE, nullable=False),
    sa.Column("due_at", AWARE, nullable=True),
    sa.Column("updated_at", AWARE, nullable=False),
    sa.Column("doc", JSON_DOC, nullable=False),
    sa.Index("ix_sharing_requests_requester_department", "requester_department"),
    sa.Index("ix_sharing_requests_provider_department", "provider_department"),
    sa.Index("ix_sharing_requests_due_at", "status", "due_at"),
)

grants = sa.Table(
    "sharing_grants",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("request_id", ID, nullable=False),
    sa.Column("resource_id", ID, nullable=False),
    sa.Column("department_id", sa.String(64), nullable=False),
    sa.Column("provider_department", sa.String(64), nullable=False),
    sa.Column("expires_at", AWARE, nullable=False),
    sa.Column("revoked_at", AWARE, nullable=True),
    sa.Column("doc", JSON_DOC, nullable=False),
    sa.Index("ix_sharing_grants_department_id", "department_id"),
    sa.Index("ix_sharing_grants_provider_department", "provider_department"),
)

audit = sa.Table(
    "sharing_audit",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("department", sa.String(64), nullable=False),
    sa.Column("purpose", sa.Text, nullable=False),
    sa.Column("resource_id", sa.String(64), nullable=False),
    sa.Column("fields", sa.Text, nullable=False),
    sa.Column("row_count", sa.Integer, nullable=False),
    sa.Column("result_hash", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(64), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index("ix_sharing_audit_resource_id", "resource_id"),
    sa.Index("ix_sharing_audit_department", "department"),
)

checkpoints = sa.Table(
    "sharing_audit_checkpoints",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("signed_at", sa.String(40), nullable=False),
    sa.Column("signature", sa.String(128), nullable=False),
    sa.Column("public_key", sa.String(64), nullable=False),
)

# Open data releases (``release_store``; migration 0011): metadata and parameters here,
# the released table as Parquet under ``data_dir/releases/``.
releases = sa.Table(
    "open_releases",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("resource_id", ID, nullable=False),
    sa.Column("department_id", sa.String(64), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("created_at", AWARE, nullable=False),
    sa.Column("doc", JSON_DOC, nullable=False),
    sa.Index("ix_open_releases_created_at", "created_at"),
    sa.Index("ix_open_releases_resource_id", "resource_id", "created_at"),
)
