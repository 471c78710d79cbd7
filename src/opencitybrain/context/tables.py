"""SQL tables of the context broker (kept in step with ``migrations/versions/0002``).

Ids, type IRIs and attribute IRIs use the "C" collation on PostgreSQL, so ``ORDER BY id``
is code-point order there as it is on SQLite (binary) and in Python. Keyset pagination
and prefix ranges then mean the same thing on both engines and in an in-memory index.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Text compared byte by byte on both engines (see the module docstring).
KEY = sa.Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")
# JSONB on PostgreSQL: smaller, indexable and parsed once on write.
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
# SQLite only makes INTEGER PRIMARY KEY columns auto-increment.
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
AWARE = sa.DateTime(timezone=True)

entities = sa.Table(
    "ngsi_entities",
    metadata,
    sa.Column("tenant", KEY, primary_key=True),
    sa.Column("id", KEY, primary_key=True),
    sa.Column("types", JSON_DOC, nullable=False),
    sa.Column("doc", JSON_DOC, nullable=False),
    sa.Column("created_at", AWARE, nullable=False),
    sa.Column("modified_at", AWARE, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Index("ix_ngsi_entities_tenant_modified_at", "tenant", "modified_at"),
)

# One row per (entity, type): type queries and /types counts read an index, not documents.
# The primary key serves lookups and deletes by entity; the index serves scans by type
# in id order, which keyset pagination needs.
entity_types = sa.Table(
    "ngsi_entity_types",
    metadata,
    sa.Column("tenant", KEY, primary_key=True),
    sa.Column("entity_id", KEY, primary_key=True),
    sa.Column("type", KEY, primary_key=True),
    sa.Index("ix_ngsi_entity_types_tenant_type", "tenant", "type", "entity_id"),
)

# Every attribute instance ever written, for the temporal API. ``dataset_id`` is '' for
# the default instance; ``observed_at`` is the instance's observedAt, when it has one.
attribute_history = sa.Table(
    "ngsi_attribute_history",
    metadata,
    sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
    sa.Column("tenant", KEY, nullable=False),
    sa.Column("entity_id", KEY, nullable=False),
    sa.Column("attr", KEY, nullable=False),
    sa.Column("dataset_id", KEY, nullable=False),
    sa.Column("observed_at", AWARE, nullable=True),
    sa.Column("recorded_at", AWARE, nullable=False),
    sa.Column("instance", JSON_DOC, nullable=False),
    sa.Index(
        "ix_ngsi_attribute_history_entity_attr_recorded",
        "tenant",
        "entity_id",
        "attr",
        "recorded_at",
    ),
    # Retention deletes by age; without this index each prune would read the whole table.
    sa.Index("ix_ngsi_attribute_history_tenant_recorded", "tenant", "recorded_at"),
)

# Tenants other than the default one: a tenant exists once something was created in it
# (clause 4.14); operations on any other answer NonexistentTenant.
tenants = sa.Table(
    "ngsi_tenants",
    metadata,
    sa.Column("tenant", KEY, primary_key=True),
    sa.Column("created_at", AWARE, nullable=False),
)

# User @context documents served at /jsonldContexts (not per tenant, as in the spec).
contexts = sa.Table(
    "ngsi_contexts",
    metadata,
    sa.Column("url", KEY, primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("document", JSON_DOC, nullable=False),
    sa.Column("created_at", AWARE, nullable=False),
)
