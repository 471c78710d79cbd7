"""context: the tenants that exist (NonexistentTenant for any other)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported, so this script keeps meaning what it meant.
KEY = sa.Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")
AWARE = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the tenants table, with every tenant that already has entities or subscriptions."""
    op.create_table(
        "ngsi_tenants",
        sa.Column("tenant", KEY, primary_key=True),
        sa.Column("created_at", AWARE, nullable=False),
    )
    op.execute(
        "INSERT INTO ngsi_tenants (tenant, created_at) "
        "SELECT tenant, MIN(created_at) FROM ("
        "  SELECT tenant, created_at FROM ngsi_entities WHERE tenant <> '' "
        "  UNION ALL SELECT tenant, created_at FROM ngsi_subscriptions WHERE tenant <> ''"
        ") AS known GROUP BY tenant"
    )


def downgrade() -> None:
    """Drop the tenants table."""
    op.drop_table("ngsi_tenants")
