"""Catalogue search in SQL: term postings, BM25-style ranking, filters and facets.

Every query term is looked up on the primary key of ``catalog_terms`` (an exact term or,
for Latin words, a prefix range). A resource matches when it holds every term; its score
is the sum over terms of (indexed weight × idf). The same statements run on SQLite and
PostgreSQL, so both engines rank alike.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from opencitybrain.catalog.codec import resource_from_doc
from opencitybrain.catalog.model import Status
from opencitybrain.catalog.search import Facet, Hit, SearchQuery, SearchResult, Sort
from opencitybrain.catalog.tables import resources, tags, terms
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
    """Answer a search on one connection (one consistent snapshot where the engine has one)."""
    found = q.terms()
    source: sa.FromClause = resources
    score: sa.ColumnElement[Any] | None = None
    if found:
        matched = _matches(conn, found)
        source = resources.join(matched, matched.c.resource_id == resources.c.id)
        score = matched.c.score
    where = _filters(q)
    total = int(
        conn.execute(sa.select(sa.func.count()).select_from(source).where(*where)).scalar_one()
    )
    hits: list[Hit] = []
    if q.limit > 0 and total > q.offset:
        cols: list[Any] = [resources.c.doc, score if score is not None else sa.literal(0.0)]
        page = (
            sa.select(*cols)
            .select_from(source)
            .where(*where)
            .order_by(*_order(q, score))
            .limit(q.limit)
            .offset(q.offset)
        )
        hits = [Hit(resource_from_doc(doc), round(float(s), 4)) for doc, s in conn.execute(page)]
    facets = {f: _facet(conn, source, where, f, q.facet_limit) for f in q.facets}
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
