"""registry: reviewers' decisions on conflicting attributes and each build's counts

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported, so this script keeps meaning what it meant.
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
AWARE = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the registry's decision and build tables."""
    op.create_table(
        "registry_decisions",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("golden_id", sa.String(32), nullable=False),
        sa.Column("attribute", sa.String(32), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=False),
        sa.Column("department_id", sa.String(64), nullable=False),
        sa.Column("decided_at", AWARE, nullable=False),
        sa.PrimaryKeyConstraint("kind", "golden_id", "attribute", name="pk_registry_decisions"),
    )
    op.create_table(
        "registry_builds",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("built_at", AWARE, nullable=False),
        sa.Column("counts", JSON_DOC, nullable=False),
        sa.Column("changes", JSON_DOC, nullable=False),
        sa.PrimaryKeyConstraint("id", "kind", name="pk_registry_builds"),
    )


def downgrade() -> None:
    """Drop the registry's tables."""
    op.drop_table("registry_builds")
    op.drop_table("registry_decisions")
