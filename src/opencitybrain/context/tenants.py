"""Which tenants exist (clause 4.14): the default one always, others once created in.

A tenant comes into being with the first entity or subscription created in it; every
other operation on a tenant that does not exist answers NonexistentTenant (404), as the
spec and its reference brokers do, rather than an empty result that hides a typo.
Known tenants are kept in memory; an unknown one is looked up in the store each time,
since another worker may have created it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from opencitybrain.context.errors import NonexistentTenant


class TenantStore(Protocol):
    """Record and look up tenants."""

    def add_tenant(self, tenant: str, at: datetime) -> None:
        """Record that a tenant exists (idempotent)."""
        ...

    def tenant_exists(self, tenant: str) -> bool:
        """Tell whether a tenant exists."""
        ...


class Tenants:
    """Answer whether a tenant exists, and create tenants as things are created in them."""

    def __init__(self, store: TenantStore) -> None:
        self._store = store
        self._known: set[str] = {""}

    def exists(self, tenant: str) -> bool:
        """Tell whether ``tenant`` exists."""
        if tenant in self._known:
            return True
        if self._store.tenant_exists(tenant):
            self._known.add(tenant)
            return True
        return False

    def check(self, tenant: str) -> None:
        """Raise NonexistentTenant unless ``tenant`` exists."""
        if not self.exists(tenant):
            raise NonexistentTenant(
                f"租户不存在：{tenant}", f"no tenant {tenant}", field="NGSILD-Tenant"
            )

    def ensure(self, tenant: str, at: datetime) -> None:
        """Create ``tenant`` if it does not exist yet."""
        if tenant not in self._known:
            self._store.add_tenant(tenant, at)
            self._known.add(tenant)
