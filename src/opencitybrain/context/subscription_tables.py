"""SQL table of NGSI-LD subscriptions (kept in step with ``migrations/versions/0003``).

It lives on the context broker's MetaData, so migrations and schema checks see it with
the entity tables; importing this module registers it there.
"""

from __future__ import annotations

import sqlalchemy as sa

from opencitybrain.context.tables import AWARE, JSON_DOC, KEY, metadata

__all__ = ["metadata", "subscriptions"]

# One row per subscription: its document (see ``subscriptions.py``) holds everything,
# the columns only what SQL needs to find and order rows.
subscriptions = sa.Table(
    "ngsi_subscriptions",
    metadata,
    sa.Column("tenant", KEY, primary_key=True),
    sa.Column("id", KEY, primary_key=True),
    sa.Column("doc", JSON_DOC, nullable=False),
    sa.Column("created_at", AWARE, nullable=False),
    sa.Column("modified_at", AWARE, nullable=False),
)
