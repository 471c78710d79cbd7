"""Entity reads by id: one document, one with its version, many, or which ids exist."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from opencitybrain.context.store_sql import (
    IN_CHUNK,
    Doc,
    SqlBase,
    chunks,
    decode,
    decode_all,
    keys_param,
)
from opencitybrain.context.tables import entities

_E = entities.c


class SqlEntityReads(SqlBase):
    """Read entities by id from SQL."""

    def get(self, tenant: str, entity_id: str) -> Doc | None:
        """Return an entity's document, or None."""
        found = self.get_versioned(tenant, entity_id)
        return found[0] if found else None

    def get_versioned(self, tenant: str, entity_id: str) -> tuple[Doc, int] | None:
        """Return an entity's document and version (for ``put``), or None."""
        stmt = self._cached(
            "get",
            lambda: sa.select(self._json_text(_E.doc), _E.version).where(
                _E.tenant == sa.bindparam("k_tenant"), _E.id == sa.bindparam("k_id")
            ),
        )
        with self._engine.connect() as conn:
            row = conn.execute(stmt, {"k_tenant": tenant, "k_id": entity_id}).first()
        return (decode(row[0]), int(row[1])) if row else None

    def get_many(self, tenant: str, ids: Iterable[str]) -> dict[str, Doc]:
        """Return the documents of those of ``ids`` that exist, by id."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        stmt = self._cached(
            "get-many",
            lambda: sa.select(_E.id, self._json_text(_E.doc)).where(
                self._tenant_is_param(_E.tenant), self._in_keys_param(_E.id)
            ),
        )
        with self._engine.connect() as conn:
            rows = conn.execute(stmt, {"k_tenant": tenant, "k_ids": keys_param(wanted)}).all()
        return dict(zip([r[0] for r in rows], decode_all([r[1] for r in rows]), strict=True))

    def existing_ids(self, tenant: str, ids: Iterable[str]) -> set[str]:
        """Return those of ``ids`` that name an entity."""
        found: set[str] = set()
        with self._engine.connect() as conn:
            for part in chunks(list(dict.fromkeys(ids)), IN_CHUNK):
                stmt = sa.select(_E.id).where(
                    self._is_tenant(_E.tenant, tenant), self._in_keys(_E.id, part)
                )
                found.update(conn.execute(stmt).scalars())
        return found
