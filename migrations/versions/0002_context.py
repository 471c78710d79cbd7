"""context: NGSI-LD entities, their types, attribute history, stored @contexts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported, so this script keeps meaning what it meant
# when the application's tables change later.
KEY = sa.Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
AWARE = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the context broker's tables."""
    op.create_table(
        "ngsi_entities",
        sa.Column("tenant", KEY, nullable=False),
        sa.Column("id", KEY, nullable=False),
        sa.Column("types", JSON_DOC, nullable=False),
        sa.Column("doc", JSON_DOC, nullable=False),
        sa.Column("created_at", AWARE, nullable=False),
        sa.Column("modified_at", AWARE, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "id", name=op.f("pk_ngsi_entities")),
    )
    op.create_index(
        "ix_ngsi_entities_tenant_modified_at", "ngsi_entities", ["tenant", "modified_at"]
    )
    op.create_table(
        "ngsi_entity_types",
        sa.Column("tenant", KEY, nullable=False),
        sa.Column("entity_id", KEY, nullable=False),
        sa.Column("type", KEY, nullable=False),
        sa.PrimaryKeyConstraint("tenant", "entity_id", "type", name=op.f("pk_ngsi_entity_types")),
    )
    op.create_index(
        "ix_ngsi_entity_types_tenant_type", "ngsi_entity_types", ["tenant", "type", "entity_id"]
    )
    op.create_table(
        "ngsi_attribute_history",
        sa.Column("seq", SEQ, autoincrement=True, nullable=False),
        sa.Column("tenant", KEY, nullable=False),
        sa.Column("entity_id", KEY, nullable=False),
        sa.Column("attr", KEY, nullable=False),
        sa.Column("dataset_id", KEY, nullable=False),
        sa.Column("observed_at", AWARE, nullable=True),
        sa.Column("recorded_at", AWARE, nullable=False),
        sa.Column("instance", JSON_DOC, nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ngsi_attribute_history")),
    )
    op.create_index(
        "ix_ngsi_attribute_history_entity_attr_recorded",
        "ngsi_attribute_history",
        ["tenant", "entity_id", "attr", "recorded_at"],
    )
    op.create_index(
        "ix_ngsi_attribute_history_tenant_recorded",
        "ngsi_attribute_history",
        ["tenant", "recorded_at"],
    )
    op.create_table(
        "ngsi_contexts",
        sa.Column("url", KEY, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("document", JSON_DOC, nullable=False),
        sa.Column("created_at", AWARE, nullable=False),
        sa.PrimaryKeyConstraint("url", name=op.f("pk_ngsi_contexts")),
    )


def downgrade() -> None:
    """Drop the context broker's tables."""
    op.drop_table("ngsi_contexts")
    op.drop_index(
        "ix_ngsi_attribute_history_tenant_recorded", table_name="ngsi_attribute_history"
    )
    op.drop_index(
        "ix_ngsi_attribute_history_entity_attr_recorded", table_name="ngsi_attribute_history"
    )
    op.drop_table("ngsi_attribute_history")
    op.drop_index("ix_ngsi_entity_types_tenant_type", table_name="ngsi_entity_types")
    op.drop_table("ngsi_entity_types")
    op.drop_index("ix_ngsi_entities_tenant_modified_at", table_name="ngsi_entities")
    op.drop_table("ngsi_entities")
