"""SQL tables of the registry (kept in step with ``migrations/versions/0010``).

The golden records and links themselves are analysis data (Parquet files, millions of
rows, rewritten by each build); the operational store keeps what people decide and
what each build changed: ``registry_decisions`` (a reviewer's pick for one attribute of
one golden record, with the reason) and ``registry_builds`` (counts and changes).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
AWARE = sa.DateTime(timezone=True)

decisions = sa.Table(
    "registry_decisions",
    metadata,
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("golden_id", sa.String(32), primary_key=True),
    sa.Column("attribute", sa.String(32), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("decided_by", sa.String(64), nullable=False),
    sa.Column("department_id", sa.String(64), nullable=False),
    sa.Column("decided_at", AWARE, nullable=False),
)

builds = sa.Table(
    "registry_builds",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("built_at", AWARE, nullable=False),
    sa.Column("counts", JSON_DOC, nullable=False),
    sa.Column("changes", JSON_DOC, nullable=False),
)
