"""Tests for the NGSI-LD ``q`` parser: the grammar, its limits, and a round trip."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencitybrain.context.errors import BadRequestData
from opencitybrain.context.query_ast import (
    And,
    Compare,
    Exists,
    Node,
    Op,
    Or,
    Path,
    Pattern,
    Range,
    Scalar,
    Uri,
    render,
)
from opencitybrain.context.query_parser import MAX_DEPTH, MAX_LENGTH, parse_query

A = Path(("a",))


def test_comparisons_and_values() -> None:
    assert parse_query("a==1") == Compare(A, Op.EQ, 1)
    assert parse_query("a!=-2.5") == Compare(A, Op.NE, -2.5)
    assert parse_query("a>=1e3") == Compare(A, Op.GE, 1000.0)
    assert parse_query('a<"b"') == Compare(A, Op.LT, "b")
    assert parse_query("a==true") == Compare(A, Op.EQ, True)
    assert parse_query('a=="say \\"hi\\""') == Compare(A, Op.EQ, 'say "hi"')
    assert parse_query("a==urn:ngsi-ld:Car:1") == Compare(A, Op.EQ, Uri("urn:ngsi-ld:Car:1"))


def test_ranges_and_value_lists() -> None:
    assert parse_query("a==1..10") == Compare(A, Op.EQ, Range(1, 10))
    assert parse_query("a!=0.5..1") == Compare(A, Op.NE, Range(0.5, 1))
    assert parse_query('a=="x","y"') == Compare(A, Op.EQ, ("x", "y"))
    assert parse_query("a==1,2,3") == Compare(A, Op.EQ, (1, 2, 3))
    assert parse_query('a=="a".."m"') == Compare(A, Op.EQ, Range("a", "m"))


def test_dates_and_times_are_instants_in_utc() -> None:
    node = parse_query("a>2024-05-01T10:00:00+08:00")
    assert node == Compare(A, Op.GT, datetime(2024, 5, 1, 2, 0, tzinfo=UTC))
    assert parse_query("a<2024-05-01T10:00:00") == Compare(
        A, Op.LT, datetime(2024, 5, 1, 10, tzinfo=UTC)
    )
    assert parse_query("a==2024-05-01") == Compare(A, Op.EQ, date(2024, 5, 1))
    assert parse_query("a<=12:30:00Z") == Compare(A, Op.LE, time(12, 30))
    assert parse_query("a<=12:30:00+08:00") == Compare(A, Op.LE, time(4, 30))
    node = parse_query("a==2024-01-01T00:00:00Z..2024-02-01T00:00:00Z")
    assert isinstance(node, Compare)
    assert isinstance(node.value, Range)


def test_paths_sub_attributes_and_compound_keys() -> None:
    assert parse_query("a.b") == Exists(Path(("a", "b")))
    assert parse_query("a[b][c]==1") == Compare(Path(("a",), ("b", "c")), Op.EQ, 1)
    assert parse_query("a[b.c]==1") == parse_query("a[b][c]==1")
    assert parse_query("a.b[c]>0") == Compare(Path(("a", "b"), ("c",)), Op.GT, 0)
    assert parse_query("a.observedAt>=2024-01-01T00:00:00Z") == Compare(
        Path(("a", "observedAt")), Op.GE, datetime(2024, 1, 1, tzinfo=UTC)
    )


def test_existence_and_negation() -> None:
    assert parse_query("a") == Exists(A)
    assert parse_query("!a") == Exists(A, negated=True)
    assert parse_query("!a.b") == Exists(Path(("a", "b")), negated=True)


def test_patterns() -> None:
    assert parse_query('a~="^Ma.*"') == Pattern(A, "^Ma.*")
    assert parse_query("a!~=(x|y)z;b") == And(
        (Pattern(A, "(x|y)z", negated=True), Exists(Path(("b",))))
    )
    assert parse_query("a~=^x|b") == Or((Pattern(A, "^x"), Exists(Path(("b",)))))


def test_and_binds_tighter_than_or_and_parentheses_group() -> None:
    a, b, c = (Exists(Path((n,))) for n in "abc")
    assert parse_query("a|b;c") == Or((a, And((b, c))))
    assert parse_query("(a|b);c") == And((Or((a, b)), c))
    assert parse_query(" a ; ( b | c ) ") == And((a, Or((b, c))))
    assert parse_query("((a))") == a


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("", "empty"),
        ("a==", "expected a value"),
        ("a==foo", "double quotes"),
        ("a>true", "needs a number"),
        ("a>urn:x:y", "needs a number"),
        ("a>1,2", "value list"),
        ("a>1..2", "range"),
        ('a==1.."z"', "one type"),
        ("a==2024-13-01", "date"),
        ('a=="open', "unterminated"),
        ("(a==1", "')'"),
        ("a==1)", "unexpected"),
        ("a b", "unexpected"),
        ("a[b==1", "']'"),
        ("a;;b", "attribute name"),
        ("a==1.", "unexpected"),
    ],
)
def test_malformed_queries_name_position_and_reason(query: str, reason: str) -> None:
    with pytest.raises(BadRequestData) as caught:
        parse_query(query)
    assert caught.value.code == "ngsi.bad_query"
    assert "position" in caught.value.message_en
    assert reason in caught.value.message_en
    assert caught.value.errors[0].field == "q"


@pytest.mark.parametrize(
    "pattern",
    [
        "(a+)+$",
        "(a*)*b",
        "(a|ab)*c",
        "(x+x+)+y",
        "(.*a){20}",
        "(a)\\1",
        "(?P<x>a)(?P=x)",
        "a{1001}",
        "a*b*c*d*e*f*g*h*i*",
        "(unclosed",
        "x" * 600,
    ],
)
def test_dangerous_or_invalid_patterns_are_refused(pattern: str) -> None:
    quoted = pattern.replace("\\", "\\\\")
    with pytest.raises(BadRequestData, match="position 3"):
        parse_query(f'a~="{quoted}"')


@pytest.mark.parametrize(
    "pattern", ["^Ma.*", "(foo|bar)baz", "[0-9]+-[a-z]{2,5}", "(ab)+", "(?i)^x"]
)
def test_ordinary_patterns_pass(pattern: str) -> None:
    assert parse_query(f'a~="{pattern}"') == Pattern(A, pattern)


def test_length_and_depth_limits() -> None:
    with pytest.raises(BadRequestData, match="longer than"):
        parse_query("a==1;" * (MAX_LENGTH // 5) + "a==1")
    parse_query("(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH)
    with pytest.raises(BadRequestData, match="nest deeper"):
        parse_query("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1))


# ---- round trip: AST -> text -> AST ------------------------------------------------------

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,7}", fullmatch=True)
paths = st.builds(
    Path, st.lists(names, min_size=1, max_size=3).map(tuple), st.lists(names, max_size=2).map(tuple)
)
numbers = st.integers(-(10**12), 10**12) | st.floats(allow_nan=False, allow_infinity=False)
offsets = st.sampled_from([UTC, timezone(timedelta(hours=8))])
instants = st.datetimes(timezones=offsets).map(lambda d: d.astimezone(UTC))
times = st.times()
comparables: list[st.SearchStrategy[Scalar]] = [
    numbers,
    st.text(max_size=12),
    instants,
    st.dates(),
    times,
]
uris = st.from_regex(r"urn:ngsi-ld:[A-Za-z]{1,6}:[A-Za-z0-9_.-]{1,8}", fullmatch=True).map(Uri)
any_scalar = st.one_of(*comparables, st.booleans(), uris)


@st.composite
def ranges(draw: st.DrawFn) -> Range:
    kind = draw(st.sampled_from(comparables))
    return Range(draw(kind), draw(kind))


comparisons = st.one_of(
    st.builds(Compare, paths, st.sampled_from(list(Op)), st.one_of(*comparables)),
    st.builds(
        Compare,
        paths,
        st.sampled_from([Op.EQ, Op.NE]),
        st.one_of(any_scalar, ranges(), st.lists(any_scalar, min_size=2, max_size=4).map(tuple)),
    ),
    st.builds(Exists, paths, st.booleans()),
    st.builds(
        Pattern,
        paths,
        st.sampled_from(["^a", "b.*c", "(x|y)z", "[0-9]+", 'q"uo\\.te']),
        st.booleans(),
    ),
)


def _trees(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    groups = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.builds(And, groups) | st.builds(Or, groups)


queries = st.recursive(comparisons, _trees, max_leaves=10)


@settings(max_examples=400, deadline=None)
@given(queries)
def test_render_then_parse_gives_the_same_ast(node: Node) -> None:
    assert parse_query(render(node)) == node
