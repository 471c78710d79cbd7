"""EntityParser: the batch parser gives what parse_entity/parse_fragment give, body by body."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from opencitybrain.context.errors import BadRequestData
from opencitybrain.context.jsonld import NGSI_LD, ContextResolver
from opencitybrain.context.model import NGSI_LD_NULL
from opencitybrain.context.parsing import EntityParser, parse_entity, parse_fragment
from tests.unit.context._sdm import PARKING, TYPES, normalized

RESOLVER = ContextResolver()
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def spot(i: int, **attrs: Any) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:ParkingSpot:{i}",
        "type": "ParkingSpot",
        "status": {"type": "Property", "value": "free", "observedAt": "2024-05-01T07:59:00Z"},
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [115.9, 28.7]},
        },
        **attrs,
    }


def test_same_entities_as_parse_entity() -> None:
    bodies = [spot(i) for i in range(5)] + [normalized(name) for name in TYPES]
    parser = EntityParser(RESOLVER, PARKING, now=T0)
    assert [parser.entity(b) for b in bodies] == [
        parse_entity(b, RESOLVER, PARKING, now=T0) for b in bodies
    ]


def test_a_bad_name_fails_every_body_that_has_it() -> None:
    parser = EntityParser(RESOLVER, PARKING, now=T0)
    good = parser.entity(spot(1))
    for i in (2, 3):  # a name refused once is not remembered as checked
        with pytest.raises(BadRequestData) as info:
            parser.entity(spot(i, **{"bad name": {"type": "Property", "value": 1}}))
        assert info.value.field == "bad name"
    with pytest.raises(BadRequestData) as info:
        parser.entity(spot(4, status={"type": "Property", "value": 1, "bad(sub)": 2}))
    assert info.value.field == "status.bad(sub)"
    with pytest.raises(BadRequestData) as info:
        parser.entity(spot(5, location={"type": "Property", "value": 1}))  # a GeoProperty only
    assert info.value.field == "location"
    assert parser.entity(spot(1)) == good


def test_a_body_with_its_own_context_is_parsed_with_it() -> None:
    parser = EntityParser(RESOLVER, None, now=T0)
    with_ctx = parser.entity({**spot(1), "@context": PARKING})
    without = parser.entity(spot(1))
    assert with_ctx.types != without.types  # the core context maps ParkingSpot elsewhere
    assert with_ctx == parse_entity({**spot(1), "@context": PARKING}, RESOLVER, now=T0)
    assert NGSI_LD + "location" in with_ctx.attrs


def test_fragments_allow_null_as_parse_fragment_does() -> None:
    parser = EntityParser(RESOLVER, PARKING, now=T0, allow_null=True)
    body = {"status": NGSI_LD_NULL, "name": {"type": "Property", "value": "一号"}}
    assert parser.fragment(body) == parse_fragment(body, RESOLVER, PARKING, now=T0)
    assert parser.fragment(body).attrs[next(iter(parser.fragment(body).attrs))][0].is_null
