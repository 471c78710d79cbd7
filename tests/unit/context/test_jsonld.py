"""The local JSON-LD resolver: packaged contexts, registration, expansion and compaction."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyld import jsonld

from opencitybrain.context.errors import BadRequestData, LdContextNotAvailable
from opencitybrain.context.jsonld import (
    CORE_CONTEXT_URL,
    DEFAULT_VOCAB,
    NGSI_LD,
    ContextResolver,
)
from tests.unit.context._sdm import PARKING, TRANSPORTATION, TYPES, normalized

RESOLVER = ContextResolver()
SDM = "https://smartdatamodels.org/"


def test_core_context_answers_for_every_version_url() -> None:
    for version in ("", "-v1.3", "-v1.4", "-v1.5", "-v1.6", "-v1.7", "-v1.8"):
        url = f"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context{version}.jsonld"
        assert RESOLVER.is_core(url)
        assert RESOLVER.document(url) is RESOLVER.document(CORE_CONTEXT_URL)


def test_core_context_has_the_v1_8_terms() -> None:
    core = RESOLVER.core
    assert core.expand("LanguageProperty") == NGSI_LD + "LanguageProperty"
    assert core.expand("VocabProperty") == NGSI_LD + "VocabProperty"
    assert core.expand("ListRelationship") == NGSI_LD + "ListRelationship"
    assert core.expand("languageMap") == NGSI_LD + "hasLanguageMap"
    assert core.expand("json") == NGSI_LD + "hasJSON"
    assert core.expand("pick") == NGSI_LD + "pick"
    assert core.expand("expiresAt") == NGSI_LD + "expiresAt"
    vocab = core.definition("vocab")
    assert vocab is not None
    assert vocab.type == "@vocab"
    language = core.definition("languageMap")
    assert language is not None
    assert language.container == "@language"


def test_unknown_terms_go_to_the_default_vocab() -> None:
    assert RESOLVER.expand("temperature") == DEFAULT_VOCAB + "temperature"
    assert RESOLVER.compact(DEFAULT_VOCAB + "temperature") == "temperature"


def test_absolute_iris_and_unknown_curies_stay_as_they_are() -> None:
    for iri in ("https://schema.org/name", "schema:bar", "urn:ngsi-ld:Thing:1"):
        assert RESOLVER.expand(iri) == iri
        assert RESOLVER.compact(iri) == iri


def test_known_prefixes_expand_and_compact() -> None:
    assert RESOLVER.expand("ngsi-ld:foo") == NGSI_LD + "foo"
    assert RESOLVER.compact(NGSI_LD + "foo") == "ngsi-ld:foo"
    assert RESOLVER.compact("https://purl.org/geojson/vocab#Point") == "Point"


def test_smart_data_models_contexts_resolve_locally() -> None:
    ctx = RESOLVER.compile([CORE_CONTEXT_URL, PARKING])
    assert ctx.expand("ParkingSpot") == SDM + "dataModel.Parking/ParkingSpot"
    assert ctx.expand("name") == SDM + "name"
    assert ctx.compact(SDM + "dataModel.Parking/ParkingSpot") == "ParkingSpot"
    raw = "https://raw.githubusercontent.com/smart-data-models/dataModel.Parking/master/context.jsonld"
    assert RESOLVER.compile(raw).expand("ParkingSpot") == ctx.expand("ParkingSpot")


def test_core_terms_win_over_user_terms() -> None:
    ctx = RESOLVER.compile({"location": "https://example.org/where", "kind": "https://ex.org/k"})
    assert ctx.expand("location") == NGSI_LD + "location"
    assert ctx.expand("kind") == "https://ex.org/k"


def test_unknown_remote_context_is_never_fetched() -> None:
    with pytest.raises(LdContextNotAvailable) as caught:
        RESOLVER.compile("https://example.org/never-registered.jsonld")
    assert caught.value.status == 503
    assert caught.value.type_uri.endswith("/LdContextNotAvailable")


def test_a_context_that_is_not_a_url_is_bad_request_data() -> None:
    with pytest.raises(BadRequestData):
        RESOLVER.compile("not a url")
    with pytest.raises(BadRequestData):
        RESOLVER.compile([42])  # type: ignore[list-item]


def test_registered_contexts_resolve_and_can_be_removed() -> None:
    resolver = ContextResolver()
    url = "https://example.org/ctx/traffic.jsonld"
    resolver.register(url, {"@context": {"Road": "https://example.org/Road"}})
    assert resolver.expand("Road", url) == "https://example.org/Road"
    assert url in resolver.urls()
    resolver.register(url, {"@context": {"Road": "https://example.org/v2/Road"}})
    assert resolver.expand("Road", url) == "https://example.org/v2/Road"
    assert resolver.unregister(url)
    with pytest.raises(LdContextNotAvailable):
        resolver.compile(url)


def test_registration_is_validated_and_packaged_urls_are_protected() -> None:
    resolver = ContextResolver()
    with pytest.raises(BadRequestData):
        resolver.register("https://example.org/a.jsonld", {"no": "context"})
    with pytest.raises(LdContextNotAvailable):
        resolver.register("https://example.org/b.jsonld", {"@context": "https://nowhere.org/x"})
    assert resolver.document("https://example.org/b.jsonld") is None
    with pytest.raises(BadRequestData):
        resolver.register(CORE_CONTEXT_URL, {"@context": {}})


def test_nested_arrays_imports_and_same_context_prefixes() -> None:
    resolver = ContextResolver()
    resolver.register("https://example.org/base.jsonld", {"@context": {"ex": "https://ex.org/"}})
    nested = [
        ["https://example.org/base.jsonld", {"Bus": "ex:Bus"}],
        {"@import": "https://example.org/base.jsonld", "Tram": "ex:Tram"},
        {"vo": "https://vo.org/", "Stop": {"@id": "vo:Stop", "@type": "@id"}},
    ]
    ctx = resolver.compile(nested)
    assert ctx.expand("Bus") == "https://ex.org/Bus"
    assert ctx.expand("Tram") == "https://ex.org/Tram"
    assert ctx.expand("Stop") == "https://vo.org/Stop"
    assert ctx.compact("https://ex.org/Taxi") == "ex:Taxi"


def test_cycles_are_refused() -> None:
    resolver = ContextResolver()
    with pytest.raises(BadRequestData):
        resolver.compile({"a": "b:x", "b": "a:y"})


def test_compiled_contexts_are_cached_per_value() -> None:
    assert RESOLVER.compile(PARKING) is RESOLVER.compile(PARKING)
    assert RESOLVER.compile([PARKING, TRANSPORTATION]) is RESOLVER.compile(
        [PARKING, TRANSPORTATION]
    )
    inline = {"x": "https://ex.org/x"}
    assert RESOLVER.compile(inline) is RESOLVER.compile(dict(inline))


def _pyld_loader(url: str, options: Any = None) -> dict[str, Any]:
    return {"contextUrl": None, "documentUrl": url, "document": RESOLVER.document(url)}


@pytest.mark.parametrize("name", TYPES)
def test_expansion_agrees_with_pyld_on_smart_data_models(name: str) -> None:
    payload = normalized(name)
    user = [c for c in payload["@context"] if not RESOLVER.is_core(c)]
    # NGSI-LD applies the core context last; give pyld the same order.
    expanded = jsonld.expand(
        {**payload, "@context": [*user, CORE_CONTEXT_URL]}, {"documentLoader": _pyld_loader}
    )[0]
    ctx = RESOLVER.compile(payload["@context"])
    ours = {ctx.expand(k) for k in payload if k not in ("id", "type", "@context")}
    assert ours == {k for k in expanded if not k.startswith("@")}
    assert [ctx.expand(payload["type"])] == expanded["@type"]
    for key, attr in payload.items():
        if isinstance(attr, dict):
            theirs = expanded[ctx.expand(key)][0]
            for sub in attr:
                if sub not in ("type", "value", "object", "observedAt"):
                    assert ctx.expand(sub) in theirs


names = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FFF, exclude_characters=":"),
    min_size=1,
    max_size=20,
)


@given(names)
def test_compaction_inverts_expansion(term: str) -> None:
    ctx = RESOLVER.compile([PARKING, TRANSPORTATION])
    if term.startswith("@"):
        return
    assert ctx.expand(ctx.compact(ctx.expand(term))) == ctx.expand(term)


@given(st.sampled_from(["https://ex.org/", "urn:x:", DEFAULT_VOCAB, NGSI_LD, SDM]), names)
def test_expansion_inverts_compaction(base: str, tail: str) -> None:
    ctx = RESOLVER.compile([PARKING, TRANSPORTATION])
    iri = base + tail
    assert ctx.expand(ctx.compact(iri)) == iri


def test_cached_expansion_is_fast() -> None:
    ctx = RESOLVER.compile([PARKING, TRANSPORTATION])
    terms = ["status", "name", "location", "availableSpotNumber", "speed", "unknownThing"]
    for term in terms:
        ctx.expand(term)
    expand, rounds = ctx.expand, 50_000
    start = time.perf_counter()
    for _ in range(rounds):
        for term in terms:
            expand(term)
    rate = rounds * len(terms) / (time.perf_counter() - start)
    assert rate > 1_000_000, f"{rate:,.0f} expansions/s"
