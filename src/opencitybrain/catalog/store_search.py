"""Catalogue search in SQL: term postings, BM25-style ranking, filters and facets.

Every query term is looked up on the primary key of ``catalog_terms`` (an exact term or,
for Latin words, a prefix range). A resource matches when it holds every term; its score
is the sum over terms of (indexed weight × idf). The same statements run on SQLite and
PostgreSQL, so both engines rank alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from opencitybrain.catalog.codec import resource_from_doc
from opencitybrain.catalog.model import Status
from opencitybrain.catalog.search import Facet, Hit, SearchQuery, SearchResult, Sort
from opencitybrain.catalog.tables import CURRENT, resources, tags, terms, versions
from opencitybrain.catalog.text import QueryTerm, idf, prefix_end

_FACET_COLUMN: dict[Facet, sa.ColumnElement[Any]] = {
    Facet.DEPARTMENT: resources.c.department_id,
    Facet.DOMAIN: resources.c.domain,
    Facet.SHARING_TYPE: resources.c.sharing_type,
    Facet.OPEN_TYPE: resources.c.open_type,
    Facet.LEVEL: resources.c.level,
}


def _term_condition(t: QueryTerm) -> sa.ColumnElement[bool]:
    if t.prefix:
        return sa.and_(terms.c.term >= t.text, terms.c.term < prefix_end(t.text))
    return terms.c.term == t.text


def _filters(q: SearchQuery) -> list[sa.ColumnElement[bool]]:
    out: list[sa.ColumnElement[bool]] = []
    if not q.include_withdrawn:
        out.append(resources.c.status == Status.ACTIVE.value)
    for values, column in (
        (q.departments, resources.c.department_id),
        (q.domains, resources.c.domain),
        (q.sharing_types, resources.c.sharing_type),
        (q.open_types, resources.c.open_type),
        (q.levels, resources.c.level),
    ):
        if values:
            out.append(column.in_(values))
    for tag in q.tags:
        out.append(resources.c.id.in_(sa.select(tags.c.resource_id).where(tags.c.tag == tag)))
    return out


def _matches(conn: sa.Connection, found: list[QueryTerm]) -> sa.Subquery:
    """Return (resource_id, score) of the resources holding every term."""
    df_parts = [
        sa.select(
            sa.literal(i).label("k"), sa.func.count(sa.distinct(terms.c.resource_id)).label("n")
        ).where(_term_condition(t))
        for i, t in enumerate(found)
    ]
    df = {int(k): int(n) for k, n in conn.execute(sa.union_all(*df_parts)).all()}
    total = int(conn.execute(sa.select(sa.func.count()).select_from(resources)).scalar_one())
    per_term = [
        sa.select(
            terms.c.resource_id,
            (sa.func.max(terms.c.weight) * sa.literal(idf(total, df.get(i, 0)))).label("s"),
        )
        .where(_term_condition(t))
        .group_by(terms.c.resource_id)
        for i, t in enumerate(found)
    ]
    each = sa.union_all(*per_term).subquery("each_term")
    return (
        sa.select(each.c.resource_id, sa.func.sum(each.c.s).label("score"))
        .group_by(each.c.resource_id)
        .having(sa.func.count() == len(found))
        .subquery("matched")
    )


def _order(q: SearchQuery, score: sa.ColumnElement[Any] | None) -> list[sa.ColumnElement[Any]]:
    by: dict[Sort, list[sa.ColumnElement[Any]]] = {
        Sort.UPDATED_DESC: [resources.c.updated_at.desc()],
        Sort.UPDATED_ASC: [resources.c.updated_at.asc()],
        Sort.NAME_ASC: [resources.c.name_zh.asc()],
        Sort.NAME_DESC: [resources.c.name_zh.desc()],
        Sort.CODE_ASC: [],
        Sort.RELEVANCE: [score.desc()] if score is not None else [resources.c.updated_at.desc()],
    }
    return [*by[q.sort], resources.c.code.asc()]


def run_search(conn: sa.Connection, q: SearchQuery) -> SearchResult:
    """Answer a search on one connection."""
    found = q.terms()
    if not found:
        return _unranked(conn, q)
    # With text, the matching set is computed once: its small columns come back in one
    # statement, and the count, facets, order and page are made from them here. Asking
    # SQL for each would repeat the term lookups five times.
    matched = _matches(conn, found)
    # Only the columns this search orders and counts by: every match passes through here.
    sort_col = _SORT_COLUMN.get(q.sort)
    row_facets = [f for f in q.facets if f is not Facet.TAGS]
    cols: list[Any] = [resources.c.id, matched.c.score, resources.c.code]
    cols += [sort_col] if sort_col is not None else [sa.literal(0)]
    cols += [_FACET_COLUMN[f] for f in row_facets]
    rows = conn.execute(
        sa.select(*cols)
        .select_from(resources.join(matched, matched.c.resource_id == resources.c.id))
        .where(*_filters(q))
    ).all()
    facets: dict[Facet, list[tuple[str, int]]] = {}
    for facet in q.facets:
        if facet is Facet.TAGS:
            source = resources.join(matched, matched.c.resource_id == resources.c.id)
            facets[facet] = _facet(conn, source, _filters(q), facet, q.facet_limit)
        else:
            i = 4 + row_facets.index(facet)
            counts = Counter(str(r[i]) for r in rows)
            facets[facet] = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: q.facet_limit]
    page = sorted(rows, key=_ROW_ORDER[q.sort])[q.offset : q.offset + q.limit]
    docs = _docs(conn, [str(r[0]) for r in page])
    hits = [Hit(resource_from_doc(docs[str(r[0])]), round(float(r[1]), 4)) for r in page]
    return SearchResult(len(rows), hits, facets)


_SORT_COLUMN: dict[Sort, sa.ColumnElement[Any]] = {
    Sort.UPDATED_DESC: resources.c.updated_at,
    Sort.UPDATED_ASC: resources.c.updated_at,
    Sort.NAME_ASC: resources.c.name_zh,
    Sort.NAME_DESC: resources.c.name_zh,
}
# Orders over (id, score, code, sort column, …) rows; the code breaks ties.
_ROW_ORDER: dict[Sort, Callable[[Any], Any]] = {
    Sort.RELEVANCE: lambda r: (-r[1], r[2]),
    Sort.UPDATED_DESC: lambda r: (-r[3].timestamp(), r[2]),
    Sort.UPDATED_ASC: lambda r: (r[3], r[2]),
    Sort.NAME_ASC: lambda r: (r[3], r[2]),
    Sort.NAME_DESC: lambda r: (_Desc(r[3]), r[2]),
    Sort.CODE_ASC: lambda r: r[2],
}


class _Desc:
    """Invert the order of a string inside a sort key."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __lt__(self, other: _Desc) -> bool:
        return self.value > other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)


def _docs(conn: sa.Connection, ids: list[str]) -> dict[str, Any]:
    if not ids:
        return {}
    stmt = (
        sa.select(resources.c.id, versions.c.doc)
        .select_from(CURRENT)
        .where(resources.c.id.in_(ids))
    )
    return {str(i): doc for i, doc in conn.execute(stmt)}


def _unranked(conn: sa.Connection, q: SearchQuery) -> SearchResult:
    """Answer a search without text: filters, facets and order all in SQL."""
    where = _filters(q)
    total = int(
        conn.execute(sa.select(sa.func.count()).select_from(resources).where(*where)).scalar_one()
    )
    hits: list[Hit] = []
    if q.limit > 0 and total > q.offset:
        page = (
            sa.select(versions.c.doc)
            .select_from(CURRENT)
            .where(*where)
            .order_by(*_order(q, None))
            .limit(q.limit)
            .offset(q.offset)
        )
        hits = [Hit(resource_from_doc(doc), 0.0) for doc in conn.execute(page).scalars()]
    facets = {f: _facet(conn, resources, where, f, q.facet_limit) for f in q.facets}
    return SearchResult(total, hits, facets)


def _facet(
    conn: sa.Connection,
    source: sa.FromClause,
    where: list[sa.ColumnElement[bool]],
    facet: Facet,
    limit: int,
) -> list[tuple[str, int]]:
    if facet is Facet.TAGS:
        source = source.join(tags, tags.c.resource_id == resources.c.id)
        column: sa.ColumnElement[Any] = tags.c.tag
    else:
        column = _FACET_COLUMN[facet]
    n = sa.func.count().label("n")
    stmt = (
        sa.select(column, n)
        .select_from(source)
        .where(*where)
        .group_by(column)
        .order_by(n.desc(), column.asc())
        .limit(limit)
    )
    return [(str(value), int(count)) for value, count in conn.execute(stmt)]
