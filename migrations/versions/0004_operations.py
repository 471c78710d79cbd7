"""operations: 一网统管 cases, classification, timers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the operations tables (filled in as the capability gains them)."""


def downgrade() -> None:
    """Drop the operations tables."""
