"""sharing: find a resource's open releases by an index (the catalogue lists them)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Index releases by resource, newest first within one."""
    op.create_index("ix_open_releases_resource_id", "open_releases", ["resource_id", "created_at"])


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("ix_open_releases_resource_id", table_name="open_releases")
