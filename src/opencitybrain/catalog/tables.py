"""SQL tables of the catalogue (kept in step with ``migrations/versions/0005``).

``catalog_resources`` holds each resource's current version number and the columns that
search filters, facets and orders read (small rows: a search touches every match);
``catalog_versions`` keeps every version's document, the current one included.
``catalog_terms`` is the full-text index: one row per (term, resource) with the term's
weight, made by :mod:`opencitybrain.catalog.text`. It is an ordinary table, so the same
index, the same queries and the same ranking serve SQLite and PostgreSQL, and the schema
check compares it like any other table. Terms use the "C" collation on PostgreSQL so a
prefix range (``term >= 'vehic' AND term < 'vehid'``) means the same on both engines.
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

KEY = sa.Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
AWARE = sa.DateTime(timezone=True)
ID = sa.String(32)

resources = sa.Table(
    "catalog_resources",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("code", KEY, nullable=False, unique=True),
    sa.Column("class_code", KEY, nullable=False),
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("department_id", sa.String(64), nullable=False),
    sa.Column("domain", sa.String(32), nullable=False),
    sa.Column("sharing_type", sa.String(16), nullable=False),
    sa.Column("open_type", sa.String(16), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("name_zh", sa.String(200), nullable=False),
    sa.Column("published_at", AWARE, nullable=False),
    sa.Column("updated_at", AWARE, nullable=False),
    sa.Index("ix_catalog_resources_department_id", "department_id"),
    sa.Index("ix_catalog_resources_updated_at", "updated_at"),
    # Clustered by id on SQLite: joining matches to their rows is one lookup each.
    sqlite_with_rowid=False,
)

versions = sa.Table(
    "catalog_versions",
    metadata,
    sa.Column("resource_id", ID, sa.ForeignKey("catalog_resources.id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("change", sa.String(16), nullable=False),
    sa.Column("changed_at", AWARE, nullable=False),
    sa.Column("changed_by", sa.String(64), nullable=False),
    sa.Column("doc", JSON_DOC, nullable=False),
)

# A resource's current version, document included.
CURRENT = resources.join(
    versions,
    sa.and_(versions.c.resource_id == resources.c.id, versions.c.version == resources.c.version),
)

# Tags apart, so ``fq=tags:…`` and the tag facet read an index, not documents.
tags = sa.Table(
    "catalog_tags",
    metadata,
    sa.Column("resource_id", ID, sa.ForeignKey("catalog_resources.id"), primary_key=True),
    sa.Column("tag", KEY, primary_key=True),
    sa.Index("ix_catalog_tags_tag", "tag"),
)

# The primary key (term, resource) is the inverted index: a term lookup or a prefix range
# reads only its postings. The second index serves re-indexing one resource.
terms = sa.Table(
    "catalog_terms",
    metadata,
    sa.Column("term", KEY, nullable=False),
    sa.Column("resource_id", ID, sa.ForeignKey("catalog_resources.id"), nullable=False),
    sa.Column("weight", sa.Float, nullable=False),
    # PostgreSQL reads a term's postings, weights included, from the index alone (its
    # heap keeps them scattered, one resource at a time); SQLite keeps the rows in
    # primary-key order, which does the same.
    sa.PrimaryKeyConstraint("term", "resource_id", postgresql_include=["weight"]),
    sa.Index("ix_catalog_terms_resource_id", "resource_id"),
    sqlite_with_rowid=False,
)
