"""Entity listings: keyset-paginated scans, counts, and the /types and /attributes facts.

Scans run in id order (code-point order on both engines, see ``tables``), so a page ends
at an id and the next page starts after it, however the table changes meanwhile. An
``idPattern`` is a regular expression, matched in Python against ids only; documents
are fetched for matching ids alone, and a literal ``^prefix`` narrows the SQL range.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from opencitybrain.context.store_sql import IN_CHUNK, Doc, SqlBase, chunks, decode_all
from opencitybrain.context.tables import entities, entity_types
from opencitybrain.kernel.errors import InvalidInput

_E = entities.c
_T = entity_types.c
# Ids read per round trip while matching an idPattern.
_ID_BATCH = 5000
_REGEX_META = frozenset(".^$*+?{}[]\\|()")

_ATTRS_SQL = {
    "sqlite": """
        SELECT DISTINCT j.key, t.type
        FROM ngsi_entities AS e, json_each(e.doc, '$.attrs') AS j
        JOIN ngsi_entity_types AS t ON t.tenant = e.tenant AND t.entity_id = e.id
        WHERE e.tenant = :tenant""",
    "postgresql": """
        SELECT DISTINCT k.key, t.type
        FROM ngsi_entities AS e
        CROSS JOIN LATERAL jsonb_object_keys(e.doc -> 'attrs') AS k(key)
        JOIN ngsi_entity_types AS t ON t.tenant = e.tenant AND t.entity_id = e.id
        WHERE e.tenant = :tenant""",
}


@lru_cache(maxsize=256)
def compile_id_pattern(pattern: str) -> re.Pattern[str]:
    """Compile an idPattern once; raise InvalidInput if it is not a regular expression."""
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise InvalidInput(
            "ngsi.bad_id_pattern",
            f"idPattern 不是有效的正则表达式: {exc}",
            f"idPattern is not a valid regular expression: {exc}",
        ) from exc


def prefix_range(pattern: str) -> tuple[str | None, str | None]:
    """Return [low, high) bounds every id matching ``pattern`` lies in, where it has any.

    Only a pattern that starts with ``^`` and a literal run, with no alternation, has
    bounds; the last literal is dropped when a quantifier follows it.
    """
    if not pattern.startswith("^") or "|" in pattern:
        return None, None
    literal: list[str] = []
    for char in pattern[1:]:
        if char in _REGEX_META:
            if char in "*?{" and literal:
                literal.pop()
            break
        literal.append(char)
    prefix = "".join(literal)
    if not prefix:
        return None, None
    last = ord(prefix[-1])
    if last >= 0xD7FF:  # the next code point may be a surrogate or not exist; no bound
        return prefix, None
    return prefix, prefix[:-1] + chr(last + 1)


class SqlEntityScans(SqlBase):
    """List, count and summarise entities in SQL."""

    def _where(
        self, tenant: str, types: Sequence[str] | None, low: str | None, high: str | None
    ) -> list[sa.ColumnElement[bool]]:
        conds: list[sa.ColumnElement[bool]] = [_E.tenant == tenant]
        if types is not None:
            conds.append(
                _E.id.in_(sa.select(_T.entity_id).where(_T.tenant == tenant, _T.type.in_(types)))
            )
        if low is not None:
            conds.append(_E.id >= low)
        if high is not None:
            conds.append(_E.id < high)
        return conds

    def scan(
        self,
        tenant: str,
        *,
        types: Sequence[str] | None = None,
        ids: Sequence[str] | None = None,
        id_pattern: str | None = None,
        after_id: str | None = None,
        limit: int = 100,
    ) -> list[Doc]:
        """Return up to ``limit`` documents in id order, after ``after_id`` if given.

        ``types`` matches an entity with any of them; ``ids`` and ``id_pattern`` (a
        regular expression searched in the id) narrow further.
        """
        if limit <= 0 or (types is not None and not types):
            return []
        if ids is None and id_pattern is None:
            return self._docs_after(tenant, types, after_id, limit)
        wanted = self._ids(
            tenant, types=types, ids=ids, id_pattern=id_pattern, after=after_id, need=limit
        )
        return self._docs_of(tenant, wanted[:limit])

    def count(
        self,
        tenant: str,
        *,
        types: Sequence[str] | None = None,
        ids: Sequence[str] | None = None,
        id_pattern: str | None = None,
    ) -> int:
        """Return how many entities ``scan`` would list with no limit."""
        if types is not None and not types:
            return 0
        if ids is not None or id_pattern is not None:
            return len(self._ids(tenant, types=types, ids=ids, id_pattern=id_pattern))
        if types is None:
            stmt = sa.select(sa.func.count()).where(_E.tenant == tenant)
        else:
            stmt = sa.select(sa.func.count(sa.distinct(_T.entity_id))).where(
                _T.tenant == tenant, _T.type.in_(types)
            )
        with self._engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def types(self, tenant: str) -> dict[str, int]:
        """Return each entity type IRI with how many entities have it."""
        stmt = (
            sa.select(_T.type, sa.func.count())
            .where(_T.tenant == tenant)
            .group_by(_T.type)
            .order_by(_T.type)
        )
        with self._engine.connect() as conn:
            return {row[0]: int(row[1]) for row in conn.execute(stmt)}

    def attribute_names(self, tenant: str) -> dict[str, set[str]]:
        """Return each attribute IRI with the types of the entities that have it."""
        out: dict[str, set[str]] = {}
        with self._engine.connect() as conn:
            rows = conn.execute(sa.text(_ATTRS_SQL[self._engine.dialect.name]), {"tenant": tenant})
            for attr, type_iri in rows:
                out.setdefault(attr, set()).add(type_iri)
        return out

    def _docs_after(
        self, tenant: str, types: Sequence[str] | None, after: str | None, limit: int
    ) -> list[Doc]:
        conds = self._where(tenant, types, None, None)
        if after is not None:
            conds.append(_E.id > after)
        stmt = sa.select(self._json_text(_E.doc)).where(*conds).order_by(_E.id).limit(limit)
        with self._engine.connect() as conn:
            return decode_all(conn.execute(stmt).scalars().all())

    def _docs_of(self, tenant: str, ids: Sequence[str]) -> list[Doc]:
        """Return the documents of ``ids`` (known to exist), in the order given."""
        texts: dict[str, Any] = {}
        with self._engine.connect() as conn:
            for part in chunks(ids, IN_CHUNK):
                stmt = sa.select(_E.id, self._json_text(_E.doc)).where(
                    _E.tenant == tenant, _E.id.in_(part)
                )
                texts.update((row[0], row[1]) for row in conn.execute(stmt))
        return decode_all([texts[i] for i in ids if i in texts])

    def _ids(
        self,
        tenant: str,
        *,
        types: Sequence[str] | None,
        ids: Sequence[str] | None,
        id_pattern: str | None,
        after: str | None = None,
        need: int | None = None,
    ) -> list[str]:
        """Return matching ids after ``after`` in order (at least ``need`` if there are)."""
        regex = compile_id_pattern(id_pattern) if id_pattern is not None else None
        low, high = prefix_range(id_pattern) if id_pattern is not None else (None, None)
        found: list[str] = []
        with self._engine.connect() as conn:
            if ids is not None:
                candidates = sorted({i for i in ids if after is None or i > after})
                for part in chunks(candidates, IN_CHUNK):
                    stmt = sa.select(_E.id).where(*self._where(tenant, types, low, high))
                    found += conn.execute(stmt.where(_E.id.in_(part))).scalars()
                found.sort()
                if regex is not None:
                    found = [i for i in found if regex.search(i)]
            else:
                cursor = after
                while True:
                    stmt = sa.select(_E.id).where(*self._where(tenant, types, low, high))
                    if cursor is not None:
                        stmt = stmt.where(_E.id > cursor)
                    batch = conn.execute(stmt.order_by(_E.id).limit(_ID_BATCH)).scalars().all()
                    found += batch if regex is None else [i for i in batch if regex.search(i)]
                    if len(batch) < _ID_BATCH or (need is not None and len(found) >= need):
                        break
                    cursor = batch[-1]
        return found
