"""sharing: open data releases (k-anonymity, differential privacy) and their parameters

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported, so this script keeps meaning what it meant.
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
AWARE = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the releases table (the released tables are Parquet files beside it)."""
    op.create_table(
        "open_releases",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("resource_id", sa.String(32), nullable=False),
        sa.Column("department_id", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("created_at", AWARE, nullable=False),
        sa.Column("doc", JSON_DOC, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_open_releases"),
    )
    op.create_index("ix_open_releases_created_at", "open_releases", ["created_at"])


def downgrade() -> None:
    """Drop the releases table."""
    op.drop_index("ix_open_releases_created_at", table_name="open_releases")
    op.drop_table("open_releases")
