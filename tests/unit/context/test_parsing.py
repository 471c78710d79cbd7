"""Parsing NGSI-LD bodies: Smart Data Models examples, concise forms and every refusal."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from opencitybrain.context.errors import BadRequestData, LdContextNotAvailable
from opencitybrain.context.jsonld import DEFAULT_VOCAB, NGSI_LD, ContextResolver
from opencitybrain.context.model import NGSI_LD_NULL, AttrKind
from opencitybrain.context.parsing import (
    parse_attribute,
    parse_attributes,
    parse_entity,
    parse_fragment,
)
from tests.unit.context._sdm import PARKING, TYPES, normalized

RESOLVER = ContextResolver()
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
SDM = "https://smartdatamodels.org/"
V = DEFAULT_VOCAB


def entity(**attrs: Any) -> dict[str, Any]:
    return {"id": "urn:ngsi-ld:Thing:1", "type": "Thing", **attrs}


@pytest.mark.parametrize("name", TYPES)
def test_smart_data_models_examples_parse(name: str) -> None:
    parsed = parse_entity(normalized(name), RESOLVER, now=T0)
    assert parsed.types[0].startswith(SDM)
    assert parsed.types[0].endswith("/" + name)
    location = parsed.attrs[NGSI_LD + "location"][0]
    assert location.kind is AttrKind.GEO_PROPERTY
    assert (parsed.created_at, location.created_at, location.modified_at) == (T0, T0, T0)


def test_parking_spot_members_and_sub_attributes() -> None:
    spot = parse_entity(normalized("ParkingSpot"), RESOLVER)
    status = spot.attrs[NGSI_LD + "status"][0]
    assert (status.kind, status.value) == (AttrKind.PROPERTY, "free")
    assert status.observed_at == datetime(2018, 9, 21, 12, 0, tzinfo=UTC)
    assert status.sub[V + "parkingPermit"][0].value == "yes"
    ref = spot.attrs[SDM + "dataModel.Parking/refParkingSite"][0]
    assert (ref.kind, ref.value) == (
        AttrKind.RELATIONSHIP,
        "urn:ngsi-ld:ParkingSite:santander:daoiz_velarde_1_5",
    )


def test_link_context_is_used_when_the_body_has_none() -> None:
    body = {k: v for k, v in normalized("ParkingSpot").items() if k != "@context"}
    spot = parse_entity(body, RESOLVER, PARKING)
    assert SDM + "name" in spot.attrs


def test_concise_forms_infer_the_attribute_kind() -> None:
    parsed = parse_entity(
        entity(
            speed=50,
            tags=["a", "b"],
            address={"streetAddress": "八一大道"},
            temperature={"value": 21.5, "unitCode": "CEL", "accuracy": 0.2},
            location={"type": "Point", "coordinates": [115.85, 28.68]},
            area={"value": {"type": "Point", "coordinates": [115.85, 28.68]}},
            owner={"object": "urn:ngsi-ld:Person:1"},
            name={"languageMap": {"zh": "八一广场", "en": "Bayi Square"}},
            category={"vocab": "ParkingSpot"},
            raw={"json": {"id": "x", "value": 1}},
            ranks={"valueList": [3, 1, 2]},
            route={"objectList": ["urn:ngsi-ld:Stop:1", {"object": "urn:ngsi-ld:Stop:2"}]},
            expiresAt="2030-01-01T00:00:00Z",
            createdAt="ignored",
        ),
        RESOLVER,
        PARKING,
    )
    kinds = {k.removeprefix(V): [a.kind for a in v] for k, v in parsed.attrs.items()}
    assert kinds[NGSI_LD + "location"] == [AttrKind.GEO_PROPERTY]
    assert kinds["area"] == [AttrKind.GEO_PROPERTY]
    assert kinds[SDM + "owner"] == [AttrKind.RELATIONSHIP]
    assert kinds[SDM + "name"] == [AttrKind.LANGUAGE_PROPERTY]
    assert kinds["raw"] == [AttrKind.JSON_PROPERTY]
    assert kinds["ranks"] == [AttrKind.LIST_PROPERTY]
    assert kinds[SDM + "dataModel.Parking/category"] == [AttrKind.VOCAB_PROPERTY]
    category = parsed.attrs[SDM + "dataModel.Parking/category"][0]
    assert category.value == SDM + "dataModel.Parking/ParkingSpot"
    assert parsed.attrs[V + "route"][0].value == ["urn:ngsi-ld:Stop:1", "urn:ngsi-ld:Stop:2"]
    assert parsed.attrs[V + "tags"][0].value == ["a", "b"]
    assert parsed.attrs[SDM + "address"][0].value == {"streetAddress": "八一大道"}
    temperature = parsed.attrs[V + "temperature"][0]
    assert temperature.unit_code == "CEL"
    assert temperature.sub[V + "accuracy"][0].value == 0.2
    assert NGSI_LD + "expiresAt" not in parsed.attrs
    assert V + "createdAt" not in parsed.attrs


def test_multi_instance_attributes_keep_their_dataset_ids() -> None:
    parsed = parse_entity(
        entity(
            speed=[
                {"type": "Property", "value": 50},
                {"type": "Property", "value": 52, "datasetId": "urn:ngsi-ld:Dataset:gps"},
            ]
        ),
        RESOLVER,
    )
    assert [(a.value, a.dataset_id) for a in parsed.attrs[V + "speed"]] == [
        (50, None),
        (52, "urn:ngsi-ld:Dataset:gps"),
    ]


def test_multiple_types_and_scopes() -> None:
    parsed = parse_entity(
        {"id": "urn:x:1", "type": ["A", "B", "A"], "scope": ["/Nanchang", "/Nanchang/Donghu"]},
        RESOLVER,
    )
    assert parsed.types == (V + "A", V + "B")
    assert parsed.scope == ("/Nanchang", "/Nanchang/Donghu")


BAD: list[tuple[dict[str, Any], str]] = [
    ({"type": "Thing"}, "id"),
    ({"id": "not a uri", "type": "Thing"}, "id"),
    ({"id": "urn:x:1"}, "type"),
    ({"id": "urn:x:1", "type": []}, "type"),
    ({"id": "urn:x:1", "type": 7}, "type"),
    (entity(scope="Nanchang"), "scope"),
    (entity(**{"bad name": 1}), "bad name"),
    (entity(**{"a(b)": 1}), "a(b)"),
    (entity(value=1), "value"),
    (entity(datasetId="urn:x"), "datasetId"),
    (entity(speed=None), "speed"),
    (entity(speed={"type": "Property"}), "speed"),
    (entity(speed={"type": "Thing", "value": 1}), "speed.type"),
    (entity(speed={"type": "Property", "value": 1, "object": "urn:x:1"}), "speed.object"),
    (entity(speed={"type": "Property", "value": 1, "observedAt": "yesterday"}), "speed.observedAt"),
    (
        entity(speed={"type": "Property", "value": 1, "observedAt": "2024-05-01"}),
        "speed.observedAt",
    ),
    (entity(speed={"type": "Property", "value": 1, "datasetId": "ds 1"}), "speed.datasetId"),
    (entity(speed={"type": "Property", "value": 1, "@context": {}}), "speed.@context"),
    (entity(ref={"type": "Relationship"}), "ref"),
    (entity(ref={"type": "Relationship", "object": "not a uri"}), "ref.object"),
    (entity(ref={"type": "Relationship", "object": []}), "ref.object"),
    (entity(ref={"type": "Relationship", "object": "urn:x:2", "unitCode": "M"}), "ref.unitCode"),
    (entity(location={"type": "Property", "value": "here"}), "location"),
    (entity(location={"type": "GeoProperty", "value": {"type": "Point"}}), "location.value"),
    (
        entity(
            location={"type": "GeoProperty", "value": {"type": "Point", "coordinates": [0, 99]}}
        ),
        "location.value",
    ),
    (entity(name={"type": "LanguageProperty", "languageMap": {"en gb": "x"}}), "name.languageMap"),
    (entity(name={"type": "LanguageProperty", "languageMap": {"en": 1}}), "name.languageMap"),
    (entity(ranks={"type": "ListProperty", "valueList": 3}), "ranks.valueList"),
    (entity(kind={"type": "VocabProperty", "vocab": 3}), "kind.vocab"),
    (entity(route={"type": "ListRelationship", "objectList": ["x y"]}), "route.objectList"),
    (
        entity(
            speed=[
                {"type": "Property", "value": 1, "datasetId": "urn:ds:1"},
                {"type": "Property", "value": 2, "datasetId": "urn:ds:1"},
            ]
        ),
        "speed",
    ),
    (
        entity(status={"type": "Property", "value": 1, "sub": {"type": "Property"}}),
        "status.sub",
    ),
]


@pytest.mark.parametrize(("payload", "field"), BAD, ids=[f for _, f in BAD])
def test_bad_payloads_name_the_member(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(BadRequestData) as caught:
        parse_entity(payload, RESOLVER)
    assert caught.value.field == field
    assert field in caught.value.message_en


def test_a_body_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(BadRequestData):
        parse_entity([1, 2], RESOLVER)


def test_an_unknown_body_context_is_not_available() -> None:
    with pytest.raises(LdContextNotAvailable):
        parse_entity(entity(**{"@context": "https://example.org/unknown.jsonld"}), RESOLVER)


def test_fragments_carry_ngsi_ld_null_as_deletions() -> None:
    fragment = parse_fragment(
        {
            "speed": "urn:ngsi-ld:null",
            "owner": {"type": "Relationship", "object": NGSI_LD_NULL},
            "name": {"languageMap": {"@none": NGSI_LD_NULL}},
            "temperature": None,
            "scope": NGSI_LD_NULL,
        },
        RESOLVER,
    )
    assert fragment.id is None
    assert fragment.types == ()
    assert fragment.scope == ()
    assert all(instances[0].is_null for instances in fragment.attrs.values())
    assert len(fragment.attrs) == 4


def test_attribute_bodies() -> None:
    attrs = parse_attributes({"speed": {"value": 3}, "@context": PARKING}, RESOLVER, now=T0)
    assert attrs[V + "speed"][0].modified_at == T0
    iri, instances = parse_attribute("name", {"value": "A-14"}, RESOLVER, PARKING)
    assert iri == SDM + "name"
    assert instances[0].value == "A-14"
    with pytest.raises(BadRequestData):
        parse_attribute("bad name", {"value": 1}, RESOLVER)
