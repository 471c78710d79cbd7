"""JSON-LD context processing on its own, with a stub loader."""

from __future__ import annotations

from typing import Any

import pytest

from opencitybrain.context.errors import BadRequestData
from opencitybrain.context.jsonld_terms import ContextProcessor, expand_iri

DOCS: dict[str, Any] = {
    "https://ex.org/a": {"ex": "https://ex.org/", "Bus": "ex:Bus"},
    "https://ex.org/loop": "https://ex.org/loop",
}


def process(value: Any) -> ContextProcessor:
    processor = ContextProcessor(DOCS.__getitem__)
    processor.process(value)
    return processor


def test_terms_prefixes_and_vocab() -> None:
    p = process(["https://ex.org/a", {"@vocab": "ex:v/", "Tram": {"@id": "ex:Tram"}}])
    assert p.terms["Bus"].iri == "https://ex.org/Bus"
    assert p.terms["ex"].prefix
    assert not p.terms["Tram"].prefix
    assert p.vocab == "https://ex.org/v/"
    assert expand_iri("Taxi", p.terms, p.vocab) == "https://ex.org/v/Taxi"
    assert expand_iri("ex:Taxi", p.terms, p.vocab) == "https://ex.org/Taxi"
    assert expand_iri("_:b0", p.terms, p.vocab) == "_:b0"


def test_self_mapped_and_null_terms() -> None:
    p = process({"@vocab": "https://v.org/", "count": "count", "gone": None})
    assert p.terms["count"].iri == "https://v.org/count"
    assert "gone" not in p.terms
    assert process([{"x": "https://x.org/x"}, None]).terms == {}


def test_explicit_prefix_flag_and_containers() -> None:
    p = process(
        {
            "s": {"@id": "https://s.org/", "@prefix": True},
            "l": {"@id": "s:l", "@container": ["@list"]},
        }
    )
    assert p.terms["s"].prefix
    assert p.terms["l"].container == "@list"


def test_bad_contexts() -> None:
    for value in (3, {"a": 3}, {"a": {"@id": 3}}, {"@vocab": 3}, {"x": {"@type": "@id"}}):
        with pytest.raises(BadRequestData):
            process(value)
    with pytest.raises(BadRequestData):
        process("https://ex.org/loop")
