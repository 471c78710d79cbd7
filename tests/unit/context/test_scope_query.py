"""The scope query language (clause 4.19): terms, wildcards, AND/OR, parentheses, errors."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencitybrain.context.errors import BadRequestData
from opencitybrain.context.scope_query import compile_scope_query

DONGHU = ("/Nanchang/Donghu/Bayi",)
TWO = ("/Nanchang/Xihu", "/Transport/Buses")


@pytest.mark.parametrize(
    ("query", "scopes", "expected"),
    [
        ("/Nanchang/Donghu/Bayi", DONGHU, True),
        ("/Nanchang/Donghu", DONGHU, False),  # a term names a whole scope
        ("/Nanchang/#", DONGHU, True),
        ("/Nanchang/Donghu/Bayi/#", DONGHU, True),  # the scope itself is under it
        ("/Nanchang/Donghu/Bayi/Street/#", DONGHU, False),
        ("/Nanchang/+/Bayi", DONGHU, True),
        ("/+/Donghu", DONGHU, False),
        ("/+/+/+", DONGHU, True),
        ("/#", DONGHU, True),
        ("/#", (), False),  # no scope at all
        ("/Nanchang/Xihu;/Transport/#", TWO, True),
        ("/Nanchang/Xihu;/Health/#", TWO, False),
        ("/Health/#,/Transport/Buses", TWO, True),
        ("/Health/#,/Nanchang/Donghu/#", TWO, False),
        ("(/Health/#,/Nanchang/+);/Transport/Buses", TWO, True),
        ("/Health/#,/Nanchang/+;/Police", TWO, False),  # AND binds tighter than OR
        ("/Nanchang/东湖区", ("/Nanchang/东湖区",), True),
    ],
)
def test_scope_terms_and_logic(query: str, scopes: tuple[str, ...], expected: bool) -> None:
    assert compile_scope_query(query)(scopes) is expected


@pytest.mark.parametrize(
    "query",
    ["", "Nanchang", "/", "/#/Donghu", "/Nan#chang", "(/a", "/a)", "/a;;/b", "/a,", ";/a", "/a /b"],
)
def test_malformed_queries_are_refused_naming_scopeq(query: str) -> None:
    with pytest.raises(BadRequestData) as info:
        compile_scope_query(query)
    assert info.value.field == "scopeQ"


LEVEL = st.text(alphabet="abcXYZ019_-", min_size=1, max_size=6)
SCOPE = st.lists(LEVEL, min_size=1, max_size=4).map(lambda levels: "/" + "/".join(levels))


@given(SCOPE, st.lists(SCOPE, max_size=4))
def test_a_scope_term_matches_exactly_the_equal_scopes(term: str, scopes: list[str]) -> None:
    assert compile_scope_query(term)(scopes) is (term in scopes)


@given(SCOPE, st.lists(SCOPE, max_size=4))
def test_a_hash_term_matches_the_scope_and_all_below(term: str, scopes: list[str]) -> None:
    below = any(s == term or s.startswith(term + "/") for s in scopes)
    assert compile_scope_query(term + "/#")(scopes) is below


@given(st.lists(LEVEL, min_size=1, max_size=4), st.lists(SCOPE, max_size=4))
def test_plus_matches_any_one_level(levels: list[str], scopes: list[str]) -> None:
    term = "/" + "/".join("+" for _ in levels)
    one_each = re.compile("^" + "/[^/]+" * len(levels) + "$")
    assert compile_scope_query(term)(scopes) is any(one_each.match(s) for s in scopes)
