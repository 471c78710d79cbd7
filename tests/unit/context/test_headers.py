import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencitybrain.context.headers import (
    content_kind,
    link_context,
    negotiate,
    parse_accept,
    tenant_of,
)
from opencitybrain.kernel.errors import InvalidInput

CTX = "https://example.org/ctx.jsonld"
REL = 'rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'


def test_link_header_gives_the_context() -> None:
    assert link_context(f"<{CTX}>; {REL}") == CTX
    assert link_context(f'<https://x/other>; rel="next", <{CTX}>; {REL}') == CTX
    assert link_context('<https://x/other>; rel="next"') is None
    assert link_context(None) is None


def test_two_contexts_in_link_are_refused() -> None:
    with pytest.raises(InvalidInput):
        link_context(f"<{CTX}>; {REL}, <https://b/c>; {REL}")


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "json"),
        ("*/*", "json"),
        ("application/json", "json"),
        ("application/ld+json", "ld+json"),
        ("application/geo+json", "geo+json"),
        ("text/html, application/ld+json;q=0.9", "ld+json"),
        ("application/json;q=0.1, application/ld+json", "ld+json"),
        ("application/*", "json"),
        ("text/html", None),
        ("application/json;q=0", None),
    ],
)
def test_negotiation(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept) == expected


def test_geojson_refused_where_not_offered() -> None:
    assert negotiate("application/geo+json", geo_allowed=False) is None


@given(st.text(max_size=200))
def test_accept_parser_never_crashes(raw: str) -> None:
    for media in parse_accept(raw):
        assert 0.0 <= media.q <= 1.0


def test_content_types() -> None:
    assert content_kind("application/json; charset=utf-8") == "json"
    assert content_kind("application/ld+json") == "ld+json"
    assert content_kind("application/merge-patch+json") == "merge-patch"
    assert content_kind("text/plain") is None
    assert content_kind(None) is None


def test_tenants() -> None:
    assert tenant_of(None) == ""
    assert tenant_of("nanchang-transport") == "nanchang-transport"
    for bad in ["a b", "x" * 65, "../etc", "租户"]:
        with pytest.raises(InvalidInput):
            tenant_of(bad)
