"""context: NGSI-LD subscriptions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported, so this script keeps meaning what it meant
# when the application's tables change later.
KEY = sa.Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
AWARE = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the subscriptions table."""
    op.create_table(
        "ngsi_subscriptions",
        sa.Column("tenant", KEY, nullable=False),
        sa.Column("id", KEY, nullable=False),
        sa.Column("doc", JSON_DOC, nullable=False),
        sa.Column("created_at", AWARE, nullable=False),
        sa.Column("modified_at", AWARE, nullable=False),
        sa.PrimaryKeyConstraint("tenant", "id", name=op.f("pk_ngsi_subscriptions")),
    )


def downgrade() -> None:
    """Drop the subscriptions table."""
    op.drop_table("ngsi_subscriptions")
