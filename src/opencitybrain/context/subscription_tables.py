"""SQL tables of NGSI-LD subscriptions (kept in step with migrations 0003 and 0006).

It lives on the context broker's MetaData, so migrations and schema checks see it with
the entity tables; importing this module registers it there.
"""

from __future__ import annotations

import sqlalchemy as sa

from opencitybrain.context.tables import AWARE, JSON_DOC, KEY, metadata

__all__ = ["metadata", "subscription_periods", "subscriptions"]

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

# One row per periodic notification sent (subscription and the interval it is due at):
# the primary key lets exactly one worker claim each interval.
subscription_periods = sa.Table(
    "ngsi_subscription_periods",
    metadata,
    sa.Column("tenant", KEY, primary_key=True),
    sa.Column("sub_id", KEY, primary_key=True),
    sa.Column("due_at", AWARE, primary_key=True),
)
