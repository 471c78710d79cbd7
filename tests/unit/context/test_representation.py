"""Rendering entities: normalized round trips, keyValues, options and GeoJSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencitybrain.context.jsonld import CORE_CONTEXT_URL, ContextResolver
from opencitybrain.context.model import format_datetime, parse_datetime
from opencitybrain.context.parsing import parse_entity
from opencitybrain.context.representation import (
    render_attribute,
    render_entity,
    render_feature,
    render_geojson,
)
from tests.unit.context._sdm import PARKING, TYPES, key_values, normalized

RESOLVER = ContextResolver()
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)

# Where the Smart Data Models keyValues examples disagree with their own normalized
# examples (shortened ids, other spellings); those members cannot be compared.
EXAMPLE_DRIFT = {
    "OffStreetParking": {"address"},
    "OnStreetParking": {"refParkingGroup"},
    "ParkingSpot": {"refParkingSite"},
    "Vehicle": {"refVehicleModel", "deviceBatteryStatus", "vehicleAltitude"},
    "TrafficFlowObserved": {"dateObserved"},
}


def _utc_observed(payload: Any) -> Any:
    """Return the payload with every observedAt rewritten in UTC, as the broker keeps it."""
    if isinstance(payload, dict):
        return {
            k: format_datetime(parse_datetime(v)) if k == "observedAt" else _utc_observed(v)
            for k, v in payload.items()
        }
    if isinstance(payload, list):
        return [_utc_observed(v) for v in payload]
    return payload


@pytest.mark.parametrize("name", TYPES)
def test_normalized_round_trip(name: str) -> None:
    payload = normalized(name)
    parsed = parse_entity(payload, RESOLVER, now=T0)
    rendered = render_entity(parsed, RESOLVER, payload["@context"], with_context=True)
    assert rendered == _utc_observed(payload)


@pytest.mark.parametrize("name", TYPES)
def test_key_values_match_the_examples(name: str) -> None:
    payload = normalized(name)
    parsed = parse_entity(payload, RESOLVER)
    simple = render_entity(parsed, RESOLVER, payload["@context"], key_values=True)
    example = key_values(name)
    common = (set(simple) & set(example)) - {"id"} - EXAMPLE_DRIFT.get(name, set())
    assert len(common) >= 8 or name in ("ParkingSpot", "Alert")
    for key in common:
        value = simple[key]
        if isinstance(value, dict) and "@value" in value:
            value = value["@value"]  # keyValues keeps the typed JSON-LD value object
        assert value == example[key], key
    assert simple["type"] == example["type"]


def test_system_attributes_on_request() -> None:
    payload = normalized("ParkingSpot")
    parsed = parse_entity(payload, RESOLVER, now=T0)
    rendered = render_entity(parsed, RESOLVER, PARKING, sys_attrs=True)
    assert rendered["createdAt"] == rendered["modifiedAt"] == "2024-05-01T08:00:00Z"
    assert rendered["status"]["createdAt"] == "2024-05-01T08:00:00Z"
    assert rendered["status"]["parkingPermit"]["modifiedAt"] == "2024-05-01T08:00:00Z"
    plain = render_entity(parsed, RESOLVER, PARKING)
    assert "createdAt" not in plain
    assert "createdAt" not in plain["status"]


def test_attrs_pick_and_omit() -> None:
    parsed = parse_entity(normalized("ParkingSpot"), RESOLVER)
    only = render_entity(parsed, RESOLVER, PARKING, attrs=["name", "status"])
    assert set(only) == {"id", "type", "name", "status"}
    picked = render_entity(parsed, RESOLVER, PARKING, pick=["id", "location"])
    assert set(picked) == {"id", "location"}
    omitted = render_entity(parsed, RESOLVER, PARKING, omit=["type", "status", "category"])
    assert set(omitted) == {"id", "location", "name", "refParkingSite"}


def test_compaction_uses_the_request_context() -> None:
    parsed = parse_entity(normalized("ParkingSpot"), RESOLVER)
    core_only = render_entity(parsed, RESOLVER, None, with_context=True)
    assert core_only["type"] == "https://smartdatamodels.org/dataModel.Parking/ParkingSpot"
    assert "https://smartdatamodels.org/name" in core_only
    assert core_only["@context"] == CORE_CONTEXT_URL


def _thing(**attrs: Any) -> dict[str, Any]:
    return {"id": "urn:ngsi-ld:Thing:1", "type": "Thing", **attrs}


def test_language_properties_follow_lang() -> None:
    names = {"type": "LanguageProperty", "languageMap": {"zh-CN": "八一广场", "en": "Bayi"}}
    parsed = parse_entity(_thing(name=names), RESOLVER)
    assert render_entity(parsed, RESOLVER)["name"] == names
    assert render_entity(parsed, RESOLVER, lang="*")["name"] == names
    assert render_entity(parsed, RESOLVER, lang="zh")["name"] == {
        "type": "Property",
        "value": "八一广场",
        "lang": "zh-CN",
    }
    assert render_entity(parsed, RESOLVER, lang="fr,en;q=0.5")["name"]["value"] == "Bayi"
    assert render_entity(parsed, RESOLVER, lang="de")["name"]["lang"] == "zh-CN"
    assert render_entity(parsed, RESOLVER, key_values=True)["name"] == {
        "languageMap": names["languageMap"]
    }
    assert render_entity(parsed, RESOLVER, key_values=True, lang="en")["name"] == "Bayi"


def test_key_values_of_every_kind() -> None:
    parsed = parse_entity(
        _thing(
            kind={"type": "VocabProperty", "vocab": "OffStreetParking"},
            raw={"type": "JsonProperty", "json": {"id": 1}},
            ranks={"type": "ListProperty", "valueList": [1, 2]},
            route={"type": "ListRelationship", "objectList": ["urn:a:1", "urn:a:2"]},
            owner={"type": "Relationship", "object": "urn:ngsi-ld:Person:1"},
            speed=[
                {"type": "Property", "value": 50},
                {"type": "Property", "value": 52, "datasetId": "urn:ds:gps"},
            ],
        ),
        RESOLVER,
        PARKING,
    )
    simple = render_entity(parsed, RESOLVER, PARKING, key_values=True)
    assert simple["kind"] == {"vocab": "OffStreetParking"}
    assert simple["raw"] == {"json": {"id": 1}}
    assert simple["ranks"] == [1, 2]
    assert simple["route"] == ["urn:a:1", "urn:a:2"]
    assert simple["owner"] == "urn:ngsi-ld:Person:1"
    assert simple["speed"] == {"dataset": {"@none": 50, "urn:ds:gps": 52}}
    full = render_entity(parsed, RESOLVER, PARKING)
    assert full["kind"] == {"type": "VocabProperty", "vocab": "OffStreetParking"}
    assert full["speed"][1] == {"type": "Property", "value": 52, "datasetId": "urn:ds:gps"}
    assert render_attribute(parsed.attrs[next(iter(parsed.attrs))], RESOLVER, PARKING) == {
        "type": "VocabProperty",
        "vocab": "OffStreetParking",
    }


def test_geojson_features_and_collections() -> None:
    spot = parse_entity(normalized("ParkingSpot"), RESOLVER)
    street = parse_entity(normalized("OnStreetParking"), RESOLVER)
    feature = render_feature(spot, RESOLVER, PARKING, with_context=True)
    assert feature["type"] == "Feature"
    assert feature["id"] == spot.id
    assert feature["geometry"] == normalized("ParkingSpot")["location"]["value"]
    assert feature["properties"]["type"] == "ParkingSpot"
    assert feature["properties"]["status"]["value"] == "free"
    assert feature["@context"] == PARKING
    collection = render_geojson([spot, street], RESOLVER, PARKING, key_values=True)
    assert collection["type"] == "FeatureCollection"
    assert [f["geometry"]["type"] for f in collection["features"]] == ["Point", "Polygon"]
    assert collection["features"][0]["properties"]["status"] == "free"
    missing = render_feature(spot, RESOLVER, PARKING, geoproperty="observationSpace")
    assert missing["geometry"] is None


# Names the spec reserves or keeps for GeoProperties cannot be random attribute names.
RESERVED = {"id", "type", "scope", "value", "object", "json", "vocab", "lang", "entity"}
RESERVED |= {"datasetId", "observedAt", "unitCode", "createdAt", "modifiedAt", "deletedAt"}
RESERVED |= {"instanceId", "expiresAt", "location", "observationSpace", "operationSpace"}
names = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ", min_size=1, max_size=12).filter(
    lambda n: n not in RESERVED
)
primitives = st.one_of(
    st.integers(), st.booleans(), st.text(max_size=10), st.floats(allow_nan=False)
)
values = st.one_of(primitives, st.lists(primitives, max_size=3))
observed = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2050, 1, 1), timezones=st.just(UTC)
).map(lambda d: format_datetime(d - timedelta(microseconds=d.microsecond)))
properties = st.fixed_dictionaries(
    {"type": st.just("Property"), "value": values}, optional={"observedAt": observed}
)
relationships = st.fixed_dictionaries(
    {
        "type": st.just("Relationship"),
        "object": st.from_regex(r"urn:ngsi-ld:[A-Z][a-z]{1,6}:\d{1,4}", fullmatch=True),
    }
)
payloads = st.dictionaries(names, properties | relationships, max_size=6)


@given(payloads, st.sampled_from([None, PARKING, [CORE_CONTEXT_URL, PARKING]]))
def test_normalized_expand_compact_round_trip(attrs: dict[str, Any], context: Any) -> None:
    payload = {"id": "urn:ngsi-ld:Thing:1", "type": "Thing", **attrs}
    parsed = parse_entity(payload, RESOLVER, context)
    assert render_entity(parsed, RESOLVER, context) == payload
