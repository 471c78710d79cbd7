"""catalog: resource catalogue

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported, so this script keeps meaning what it meant
# when the application's tables change later.
KEY = sa.Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
AWARE = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the catalog tables: resources, versions, tags and the search terms."""
    op.create_table(
        "catalog_resources",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("code", KEY, nullable=False),
        sa.Column("class_code", KEY, nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("department_id", sa.String(64), nullable=False),
        sa.Column("domain", sa.String(32), nullable=False),
        sa.Column("sharing_type", sa.String(16), nullable=False),
        sa.Column("open_type", sa.String(16), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("name_zh", sa.String(200), nullable=False),
        sa.Column("published_at", AWARE, nullable=False),
        sa.Column("updated_at", AWARE, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_resources")),
        sa.UniqueConstraint("code", name=op.f("uq_catalog_resources_code")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_catalog_resources_department_id", "catalog_resources", ["department_id"])
    op.create_index("ix_catalog_resources_updated_at", "catalog_resources", ["updated_at"])
    op.create_table(
        "catalog_versions",
        sa.Column("resource_id", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(16), nullable=False),
        sa.Column("changed_at", AWARE, nullable=False),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("doc", JSON_DOC, nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["catalog_resources.id"],
            name=op.f("fk_catalog_versions_resource_id_catalog_resources"),
        ),
        sa.PrimaryKeyConstraint("resource_id", "version", name=op.f("pk_catalog_versions")),
    )
    op.create_table(
        "catalog_tags",
        sa.Column("resource_id", sa.String(32), nullable=False),
        sa.Column("tag", KEY, nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["catalog_resources.id"],
            name=op.f("fk_catalog_tags_resource_id_catalog_resources"),
        ),
        sa.PrimaryKeyConstraint("resource_id", "tag", name=op.f("pk_catalog_tags")),
    )
    op.create_index("ix_catalog_tags_tag", "catalog_tags", ["tag"])
    op.create_table(
        "catalog_terms",
        sa.Column("term", KEY, nullable=False),
        sa.Column("resource_id", sa.String(32), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["catalog_resources.id"],
            name=op.f("fk_catalog_terms_resource_id_catalog_resources"),
        ),
        sa.PrimaryKeyConstraint(
            "term", "resource_id", name=op.f("pk_catalog_terms"), postgresql_include=["weight"]
        ),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_catalog_terms_resource_id", "catalog_terms", ["resource_id"])


def downgrade() -> None:
    """Drop the catalog tables."""
    op.drop_index("ix_catalog_terms_resource_id", table_name="catalog_terms")
    op.drop_table("catalog_terms")
    op.drop_index("ix_catalog_tags_tag", table_name="catalog_tags")
    op.drop_table("catalog_tags")
    op.drop_table("catalog_versions")
    op.drop_index("ix_catalog_resources_updated_at", table_name="catalog_resources")
    op.drop_index("ix_catalog_resources_department_id", table_name="catalog_resources")
    op.drop_table("catalog_resources")
