"""catalog: load reports and quarantined rows of the rows behind resources

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported, so this script keeps meaning what it meant.
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
AWARE = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create ``catalog_loads`` (one report per load) and ``catalog_load_quarantine``."""
    op.create_table(
        "catalog_loads",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("resource_id", sa.String(32), nullable=False),
        sa.Column("department_id", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("key", JSON_DOC, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("rows_in", sa.Integer(), nullable=False),
        sa.Column("inserted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("started_at", AWARE, nullable=False),
        sa.Column("finished_at", AWARE, nullable=False),
        sa.Column("detail", JSON_DOC, nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["catalog_resources.id"],
            name=op.f("fk_catalog_loads_resource_id_catalog_resources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_loads")),
    )
    op.create_index("ix_catalog_loads_resource_id", "catalog_loads", ["resource_id", "started_at"])
    op.create_table(
        "catalog_load_quarantine",
        sa.Column("load_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("raw", JSON_DOC, nullable=False),
        sa.ForeignKeyConstraint(
            ["load_id"],
            ["catalog_loads.id"],
            name=op.f("fk_catalog_load_quarantine_load_id_catalog_loads"),
        ),
        sa.PrimaryKeyConstraint("load_id", "seq", name=op.f("pk_catalog_load_quarantine")),
    )


def downgrade() -> None:
    """Drop the load tables."""
    op.drop_table("catalog_load_quarantine")
    op.drop_index("ix_catalog_loads_resource_id", table_name="catalog_loads")
    op.drop_table("catalog_loads")
