"""context: claims of periodic (timeInterval) notifications

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported, so this script keeps meaning what it meant.
KEY = sa.Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")
AWARE = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the table in which one worker claims each notification interval."""
    op.create_table(
        "ngsi_subscription_periods",
        sa.Column("tenant", KEY, primary_key=True),
        sa.Column("sub_id", KEY, primary_key=True),
        sa.Column("due_at", AWARE, primary_key=True),
    )


def downgrade() -> None:
    """Drop the claims table."""
    op.drop_table("ngsi_subscription_periods")
