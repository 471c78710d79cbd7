"""Query entities: type, id, idPattern, attrs, q and geo-query, with paging and counts.

The store narrows by type and id (indexed); the q and geo predicates then run over the
candidates in batches. Results are in id order, so paging with offset is stable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from opencitybrain.context.errors import BadRequestData, TooManyResults
from opencitybrain.context.geoquery import filter_entities
from opencitybrain.context.geoquery_input import GeoQuery
from opencitybrain.context.index import EntityIndex
from opencitybrain.context.jsonld import CompiledContext
from opencitybrain.context.model import Entity, from_doc
from opencitybrain.context.query_eval import compile_query
from opencitybrain.context.query_parser import parse_query
from opencitybrain.context.scope_query import scope_filter
from opencitybrain.context.store import EntityStore

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
_SCAN_PAGE = 1000
_MAX_ID_PATTERN = 1000


@dataclass(frozen=True)
class EntityQuery:
    """What to look for, in compact terms under ``context``."""

    context: CompiledContext
    types: Sequence[str] = ()
    ids: Sequence[str] = ()
    id_pattern: str | None = None
    attrs: Sequence[str] = ()
    q: str | None = None
    geo: GeoQuery | None = None
    scope_q: str | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    count: bool = False


@dataclass(frozen=True)
class QueryResult:
    """One page of matching entities and, when asked, how many match in all."""

    entities: list[Entity]
    total: int | None


def check_paging(limit: int, offset: int) -> None:
    """Refuse limits and offsets outside what the broker serves."""
    if limit < 0 or offset < 0:
        raise BadRequestData(
            "limit 与 offset 不能为负", "limit and offset must be >= 0", field="limit"
        )
    if limit > MAX_LIMIT:
        raise TooManyResults(
            f"每页最多 {MAX_LIMIT} 个实体，请分页",
            f"at most {MAX_LIMIT} entities per page; page through them",
            field="limit",
        )


def _check_id_pattern(pattern: str | None) -> None:
    if pattern is None:
        return
    if len(pattern) > _MAX_ID_PATTERN:
        raise BadRequestData("idPattern 过长", "idPattern is too long", field="idPattern")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise BadRequestData(
            f"idPattern 不是正则表达式：{exc}",
            f"idPattern is not a regex: {exc}",
            field="idPattern",
        ) from exc


def _predicate(query: EntityQuery) -> Callable[[Entity], bool] | None:
    """Return the test of ``q`` and ``scopeQ`` together (None when neither is asked)."""
    q = compile_query(parse_query(query.q), query.context.expand) if query.q else None
    scoped = scope_filter(query.scope_q)
    if q is None or scoped is None:
        return q or scoped
    return lambda e: scoped(e) and q(e)


def run_query(store: EntityStore, tenant: str, query: EntityQuery) -> QueryResult:
    """Return the page of entities the query asks for."""
    check_paging(query.limit, query.offset)
    ctx = query.context
    types = [ctx.expand(t) for t in query.types] or None
    ids = list(query.ids) or None
    _check_id_pattern(query.id_pattern)
    predicate = _predicate(query)
    wanted_attrs = [ctx.expand(a) for a in query.attrs]
    filtered = predicate is not None or query.geo is not None or bool(wanted_attrs)

    if not filtered:
        # Nothing but the store's indexed filters: let it page and count.
        docs = store.scan(
            tenant,
            types=types,
            ids=ids,
            id_pattern=query.id_pattern,
            limit=query.offset + query.limit,
        )
        page = [from_doc(d) for d in docs[query.offset :]]
        total = (
            store.count(tenant, types=types, ids=ids, id_pattern=query.id_pattern)
            if query.count
            else None
        )
        return QueryResult(page, total)

    matched: list[Entity] = []
    seen = 0
    after: str | None = None
    need = query.offset + query.limit
    while True:
        docs = store.scan(
            tenant,
            types=types,
            ids=ids,
            id_pattern=query.id_pattern,
            after_id=after,
            limit=_SCAN_PAGE,
        )
        if not docs:
            break
        after = docs[-1]["id"]
        batch = [from_doc(d) for d in docs]
        keep = np.ones(len(batch), dtype=bool)
        if wanted_attrs:
            keep &= np.array([any(a in e.attrs for a in wanted_attrs) for e in batch])
        if query.geo is not None:
            keep &= filter_entities(batch, query.geo, ctx.expand)
        if predicate is not None:
            keep &= np.array([bool(k) and predicate(e) for k, e in zip(keep, batch, strict=True)])
        hits = [e for e, k in zip(batch, keep, strict=True) if k]
        seen += len(hits)
        matched.extend(hits[: max(0, need - len(matched))])
        if len(docs) < _SCAN_PAGE or (len(matched) >= need and not query.count):
            break
    return QueryResult(matched[query.offset : need], seen if query.count else None)


def run_indexed_query(index: EntityIndex, tenant: str, query: EntityQuery) -> QueryResult:
    """Answer a query from the in-memory index (type, id, geo and q all in memory)."""
    check_paging(query.limit, query.offset)
    ctx = query.context
    types = [ctx.expand(t) for t in query.types] or None
    _check_id_pattern(query.id_pattern)
    inside = (
        index.geo_matches(tenant, query.geo, ctx.expand(query.geo.geoproperty))
        if query.geo is not None
        else None
    )
    entities = index.candidates(
        tenant,
        types=types,
        ids=list(query.ids) or None,
        id_pattern=query.id_pattern,
        within=inside,
    )
    wanted_attrs = [ctx.expand(a) for a in query.attrs]
    if wanted_attrs:
        entities = [e for e in entities if any(a in e.attrs for a in wanted_attrs)]
    predicate = _predicate(query)
    if predicate is not None:
        if query.count:
            entities = [e for e in entities if predicate(e)]
        else:
            # Without a count, stop as soon as the page is full.
            need = query.offset + query.limit
            kept: list[Entity] = []
            for e in entities:
                if predicate(e):
                    kept.append(e)
                    if len(kept) >= need:
                        break
            entities = kept
    page = entities[query.offset : query.offset + query.limit]
    return QueryResult(page, len(entities) if query.count else None)
