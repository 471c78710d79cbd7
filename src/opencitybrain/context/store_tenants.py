"""The tenants that exist, in SQL (the default tenant always does and is not stored)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from opencitybrain.context.store_sql import SqlBase
from opencitybrain.context.tables import tenants

_N = tenants.c


class SqlTenants(SqlBase):
    """Record and look up tenants."""

    def add_tenant(self, tenant: str, at: datetime) -> None:
        """Record that a tenant exists (idempotent)."""
        insert = pg_insert if self._pg else sqlite_insert
        stmt = insert(tenants).values(tenant=tenant, created_at=at).on_conflict_do_nothing()
        with self._engine.begin() as conn:
            conn.execute(stmt)

    def tenant_exists(self, tenant: str) -> bool:
        """Tell whether a tenant exists."""
        stmt = sa.select(sa.literal(1)).where(_N.tenant == tenant)
        with self._engine.connect() as conn:
            return conn.execute(stmt).first() is not None
