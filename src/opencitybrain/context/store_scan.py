"""Entity listings: keyset-paginated scans, counts, and the /types and /attributes facts.

Scans run in id order (code-point order on both engines, see ``tables``), so a page ends
at an id and the next page starts after it, however the table changes meanwhile. An
``idPattern`` is a regular expression, matched in Python against ids only; documents
are fetched for matching ids alone, and a literal ``^prefix`` narrows the SQL range.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from itertools import islice
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


def _unique(sorted_ids: Iterable[str]) -> Iterator[str]:
    last = None
    for entity_id in sorted_ids:
        if entity_id != last:
            yield entity_id
            last = entity_id


class SqlEntityScans(SqlBase):
    """List, count and summarise entities in SQL."""

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
        with self._engine.connect() as conn:
            if ids is None and id_pattern is None:
                if types is None or len(set(types)) == 1:
                    return self._page(conn, tenant, types[0] if types else None, after_id, limit)
                found = self._merged(conn, tenant, types, after_id, None, None, limit)
            else:
                found = self._matching(conn, tenant, types, ids, id_pattern, after_id)
            return self._docs_of(conn, tenant, list(islice(found, limit)))

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
        with self._engine.connect() as conn:
            if ids is not None or id_pattern is not None:
                return sum(1 for _ in self._matching(conn, tenant, types, ids, id_pattern, None))
            if types is None:
                stmt = sa.select(sa.func.count()).where(_E.tenant == tenant)
            else:
                stmt = sa.select(sa.func.count(sa.distinct(_T.entity_id))).where(
                    _T.tenant == tenant, _T.type.in_(types)
                )
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

    def _page(
        self, conn: sa.Connection, tenant: str, type_iri: str | None, after: str | None, limit: int
    ) -> list[Doc]:
        """Return one page of documents, of one type or of any, in one query."""
        stmt = sa.select(self._json_text(_E.doc))
        if type_iri is None:
            key = _E.id
            stmt = stmt.where(_E.tenant == tenant)
        else:
            # Read ids in order from the type index; each row then costs one probe.
            key = _T.entity_id
            on = sa.and_(_E.tenant == _T.tenant, _E.id == _T.entity_id)
            stmt = stmt.select_from(entity_types.join(entities, on))
            stmt = stmt.where(_T.tenant == tenant, _T.type == type_iri)
        if after is not None:
            stmt = stmt.where(key > after)
        return decode_all(conn.execute(stmt.order_by(key).limit(limit)).scalars().all())

    def _docs_of(self, conn: sa.Connection, tenant: str, ids: Sequence[str]) -> list[Doc]:
        """Return the documents of ``ids``, in the order given."""
        texts: dict[str, Any] = {}
        for part in chunks(ids, IN_CHUNK):
            stmt = sa.select(_E.id, self._json_text(_E.doc)).where(
                self._is_tenant(_E.tenant, tenant), self._in_keys(_E.id, part)
            )
            texts.update((row[0], row[1]) for row in conn.execute(stmt))
        return decode_all([texts[i] for i in ids if i in texts])

    def _stream(
        self,
        conn: sa.Connection,
        tenant: str,
        type_iri: str | None,
        after: str | None,
        bounds: tuple[str | None, str | None],
        batch: int,
    ) -> Iterator[str]:
        """Yield ids in order, of one type or of any, reading ``batch`` at a time."""
        if type_iri is None:
            key, conds = _E.id, [_E.tenant == tenant]
        else:
            key, conds = _T.entity_id, [_T.tenant == tenant, _T.type == type_iri]
        low, high = bounds
        if low is not None:
            conds.append(key >= low)
        if high is not None:
            conds.append(key < high)
        cursor = after
        while True:
            stmt = sa.select(key).where(*conds)
            if cursor is not None:
                stmt = stmt.where(key > cursor)
            got = conn.execute(stmt.order_by(key).limit(batch)).scalars().all()
            yield from got
            if len(got) < batch:
                return
            cursor = got[-1]

    def _merged(
        self,
        conn: sa.Connection,
        tenant: str,
        types: Sequence[str] | None,
        after: str | None,
        low: str | None,
        high: str | None,
        batch: int,
    ) -> Iterator[str]:
        """Yield the ids having any of ``types`` (any id if None) in order, once each."""
        if types is None:
            return self._stream(conn, tenant, None, after, (low, high), batch)
        # One ordered index range per type, merged: a page costs the same at any size.
        streams = [
            self._stream(conn, tenant, t, after, (low, high), batch) for t in dict.fromkeys(types)
        ]
        return streams[0] if len(streams) == 1 else _unique(heapq.merge(*streams))

    def _matching(
        self,
        conn: sa.Connection,
        tenant: str,
        types: Sequence[str] | None,
        ids: Sequence[str] | None,
        id_pattern: str | None,
        after: str | None,
    ) -> Iterator[str]:
        """Yield the ids matching every filter in order, reading ids only."""
        regex = compile_id_pattern(id_pattern) if id_pattern is not None else None
        found: Iterator[str]
        if ids is not None:
            found = iter(self._existing_sorted(conn, tenant, types, ids, after))
        elif id_pattern is not None:
            found = self._merged(conn, tenant, types, after, *prefix_range(id_pattern), _ID_BATCH)
        else:
            found = self._merged(conn, tenant, types, after, None, None, _ID_BATCH)
        return found if regex is None else (i for i in found if regex.search(i))

    def _existing_sorted(
        self,
        conn: sa.Connection,
        tenant: str,
        types: Sequence[str] | None,
        ids: Sequence[str],
        after: str | None,
    ) -> list[str]:
        candidates = sorted({i for i in ids if after is None or i > after})
        found: list[str] = []
        for part in chunks(candidates, IN_CHUNK):
            if types is None:
                stmt = sa.select(_E.id).where(
                    self._is_tenant(_E.tenant, tenant), self._in_keys(_E.id, part)
                )
            else:
                stmt = (
                    sa.select(_T.entity_id)
                    .distinct()
                    .where(
                        self._is_tenant(_T.tenant, tenant),
                        _T.type.in_(types),
                        self._in_keys(_T.entity_id, part),
                    )
                )
            found += conn.execute(stmt).scalars()
        return sorted(found)
