"""The Query object of ``POST /entityOperations/query`` (spec 5.2.23, 6.23) and its answer.

A Query names entity selectors (``type``, with optional ``id`` or ``idPattern``), ``attrs``,
``q`` and ``geoQ``; an entity matches when it matches any selector and all the rest.
Selectors that differ only in type become one query over the union of the types; other
mixes run one query per selector and merge the pages in id order, so paging stays stable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from opencitybrain.context.errors import BadRequestData, OperationNotSupported
from opencitybrain.context.geoquery_input import GeoQuery, parse_geoq
from opencitybrain.context.jsonld import CompiledContext
from opencitybrain.context.model import Entity
from opencitybrain.context.query import MAX_LIMIT, EntityQuery, QueryResult, check_paging
from opencitybrain.context.scope_query import compile_scope_query

# Answers one entity query for a tenant: the broker's (in-memory index) or the store's.
Ask = Callable[[str, EntityQuery], QueryResult]

_TYPE_OR = re.compile(r"[,|]")
_IGNORED = frozenset(
    {"type", "entities", "attrs", "q", "geoQ", "lang", "scopeQ", "temporalQ", "csf"}
)


@dataclass(frozen=True, slots=True)
class Selector:
    """One EntitySelector: types (any of), ids (any of) and an id pattern."""

    types: tuple[str, ...]
    ids: tuple[str, ...] = ()
    id_pattern: str | None = None


@dataclass(frozen=True)
class BatchQuery:
    """A parsed Query object, names still compact under ``context``."""

    context: CompiledContext
    selectors: tuple[Selector, ...]
    attrs: tuple[str, ...] = ()
    q: str | None = None
    geo: GeoQuery | None = None
    lang: str | None = None
    scope_q: str | None = None


def _bad(member: str, zh: str, en: str) -> BadRequestData:
    return BadRequestData(f"{member}：{zh}", f"{member}: {en}", field=member)


def _strings(value: Any, member: str) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
        raise _bad(member, "必须是字符串数组", "must be an array of strings")
    return tuple(i.strip() for i in items)


def _selector(raw: Any) -> Selector:
    if not isinstance(raw, Mapping):
        raise _bad("entities", "每个选择器必须是对象", "each selector must be an object")
    kind = raw.get("type")
    if not isinstance(kind, str) or not kind.strip():
        raise _bad("entities.type", "选择器必须给出实体类型", "a selector needs a type")
    if any(c in kind for c in ";()"):
        raise OperationNotSupported(
            "暂不支持含 ; 或括号的类型表达式", "type expressions with ; or parentheses"
        )
    types = tuple(t.strip() for t in _TYPE_OR.split(kind) if t.strip())
    ids = _strings(raw["id"], "entities.id") if "id" in raw else ()
    pattern = raw.get("idPattern")
    if pattern is not None and not isinstance(pattern, str):
        raise _bad("entities.idPattern", "必须是字符串", "must be a string")
    return Selector(types, ids, pattern)


def parse_query_body(body: Any, context: CompiledContext) -> BatchQuery:
    """Return the Query object of a request body, refusing what breaks the spec's rules."""
    if not isinstance(body, Mapping):
        raise BadRequestData("请求体必须是 Query 对象", "the body must be a Query object")
    if body.get("type") != "Query":
        raise _bad("type", '必须为 "Query"', 'must be "Query"')
    unknown = sorted(k for k in body if k not in _IGNORED and k != "@context")
    if unknown:
        raise BadRequestData(f"未知的成员：{unknown}", f"unknown members {unknown}")
    raw_entities = body.get("entities", [])
    if not isinstance(raw_entities, list):
        raise _bad("entities", "必须是数组", "must be an array")
    q = body.get("q")
    if q is not None and not isinstance(q, str):
        raise _bad("q", "必须是字符串", "must be a string")
    lang = body.get("lang")
    if lang is not None and not isinstance(lang, str):
        raise _bad("lang", "必须是字符串", "must be a string")
    scope_q = body.get("scopeQ")
    if scope_q is not None:
        if not isinstance(scope_q, str):
            raise _bad("scopeQ", "必须是字符串", "must be a string")
        compile_scope_query(scope_q)  # BadRequestData now, not when the query runs
    return BatchQuery(
        context=context,
        selectors=tuple(_selector(s) for s in raw_entities),
        attrs=_strings(body["attrs"], "attrs") if "attrs" in body else (),
        q=q or None,
        geo=parse_geoq(body["geoQ"]) if body.get("geoQ") is not None else None,
        lang=lang,
        scope_q=scope_q,
    )


def _queries(query: BatchQuery) -> list[EntityQuery]:
    base = EntityQuery(
        context=query.context, attrs=query.attrs, q=query.q, geo=query.geo, scope_q=query.scope_q
    )
    selectors = query.selectors
    if not selectors:
        return [base]
    if all(not s.ids and s.id_pattern is None for s in selectors):
        types = tuple(dict.fromkeys(t for s in selectors for t in s.types))
        return [replace(base, types=types)]
    return [replace(base, types=s.types, ids=s.ids, id_pattern=s.id_pattern) for s in selectors]


def _first(ask: Ask, tenant: str, query: EntityQuery, need: int | None) -> list[Entity]:
    """Return the first ``need`` matches of one query in id order (all when None)."""
    found: list[Entity] = []
    while need is None or len(found) < need:
        size = MAX_LIMIT if need is None else min(MAX_LIMIT, need - len(found))
        page = ask(tenant, replace(query, limit=size, offset=len(found)))
        found += page.entities
        if len(page.entities) < size:
            break
    return found


def run_union(
    ask: Ask, tenant: str, query: BatchQuery, limit: int, offset: int, count: bool
) -> QueryResult:
    """Return one page of the entities matching any selector, in id order."""
    check_paging(limit, offset)
    queries = _queries(query)
    if len(queries) == 1:
        return ask(tenant, replace(queries[0], limit=limit, offset=offset, count=count))
    # The union's first offset+limit ids are among each selector's first offset+limit.
    need = None if count else offset + limit
    union: dict[str, Entity] = {}
    for one in queries:
        for entity in _first(ask, tenant, one, need):
            union.setdefault(entity.id, entity)
    ordered = [union[i] for i in sorted(union)]
    return QueryResult(ordered[offset : offset + limit], len(ordered) if count else None)
