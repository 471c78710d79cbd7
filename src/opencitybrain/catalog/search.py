"""Catalogue search: the query, its filters and facets, and the result (pure types)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from opencitybrain.catalog.model import Resource
from opencitybrain.catalog.text import QueryTerm, query_terms
from opencitybrain.kernel.errors import FieldError, InvalidInput

MAX_ROWS = 1000
MAX_OFFSET = 100_000
MAX_QUERY_CHARS = 200
MAX_FILTER_VALUES = 50


class Facet(StrEnum):
    """A field search results can be counted by."""

    DEPARTMENT = "department_id"
    DOMAIN = "domain"
    SHARING_TYPE = "sharing_type"
    OPEN_TYPE = "open_type"
    LEVEL = "level"
    TAGS = "tags"


class Sort(StrEnum):
    """Orders of search results (ties are broken by resource code)."""

    RELEVANCE = "relevance"  # by score; by last update when there is no text
    UPDATED_DESC = "updated_desc"
    UPDATED_ASC = "updated_asc"
    NAME_ASC = "name_asc"
    NAME_DESC = "name_desc"
    CODE_ASC = "code_asc"


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A catalogue search: text (Chinese or English), filters, facets, sort and page.

    Values of one filter are alternatives (OR); different filters must all hold (AND).
    """

    text: str = ""
    departments: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    sharing_types: tuple[str, ...] = ()
    open_types: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()  # every tag must be present
    include_withdrawn: bool = False
    sort: Sort = Sort.RELEVANCE
    limit: int = 20
    offset: int = 0
    facets: tuple[Facet, ...] = ()
    facet_limit: int = 50

    def terms(self) -> list[QueryTerm]:
        """Return the terms every match must hold."""
        return query_terms(self.text)


def check_query(q: SearchQuery) -> SearchQuery:
    """Return the query if it is within bounds, else raise with every bad field."""
    errors: list[FieldError] = []
    # The length bounds the number of terms too (at most one per character), and so the
    # index probes a search costs.
    if len(q.text) > MAX_QUERY_CHARS:
        errors.append(FieldError("q", f"at most {MAX_QUERY_CHARS} characters"))
    if not 0 <= q.limit <= MAX_ROWS:
        errors.append(FieldError("rows", f"0–{MAX_ROWS}"))
    if not 0 <= q.offset <= MAX_OFFSET:
        errors.append(FieldError("start", f"0–{MAX_OFFSET}"))
    if not 1 <= q.facet_limit <= 1000:
        errors.append(FieldError("facet.limit", "1–1000"))
    for name in ("departments", "domains", "sharing_types", "open_types", "levels", "tags"):
        values: tuple[str, ...] = getattr(q, name)
        if len(values) > MAX_FILTER_VALUES:
            errors.append(FieldError(name, f"at most {MAX_FILTER_VALUES} values"))
    if errors:
        raise InvalidInput(
            "catalog.bad_search", "检索条件不符合要求", "the search is out of bounds", tuple(errors)
        )
    return q


@dataclass(frozen=True, slots=True)
class Hit:
    """One matching resource and its score (0 when the search had no text)."""

    resource: Resource
    score: float


@dataclass(frozen=True, slots=True)
class SearchResult:
    """A page of matches, the number of all matches, and facet counts over all matches."""

    total: int
    hits: list[Hit]
    facets: dict[Facet, list[tuple[str, int]]] = field(default_factory=dict)
