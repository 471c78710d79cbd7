"""Smart Data Models validation: the packaged schemas judge the models' own examples."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencitybrain.context.jsonld import ContextResolver
from opencitybrain.context.model import Entity
from opencitybrain.context.parsing import parse_entity
from opencitybrain.context.validation import (
    EntityValidator,
    SchemaViolation,
    key_values,
    packaged_schemas,
    resolve_types,
)
from opencitybrain.kernel.settings import Settings
from tests.unit.context._sdm import TYPES, normalized
from tests.unit.context._sdm import key_values as example_key_values

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
RESOLVER = ContextResolver()
ALL = EntityValidator(RESOLVER, TYPES)
STATUSES = ("closed", "free", "occupied", "unknown")


def entity(body: dict[str, Any]) -> Entity:
    """Parse a normalized or concise body with its own @context."""
    body = copy.deepcopy(body)
    context = body.pop("@context", None)
    return parse_entity(body, RESOLVER, context, now=NOW)


def fields(body: dict[str, Any], validator: EntityValidator = ALL) -> list[str]:
    return [e.field for e in validator.errors(entity(body))]


def test_every_issue_type_has_a_packaged_schema() -> None:
    names = {schema.name for schema in packaged_schemas().values()}
    assert names == set(TYPES)
    assert resolve_types(["ParkingSpot"]) == [
        "https://smartdatamodels.org/dataModel.Parking/ParkingSpot"
    ]


@pytest.mark.parametrize("name", [t for t in TYPES if t != "Vehicle"])
def test_normalized_examples_are_valid(name: str) -> None:
    assert fields(normalized(name)) == []


def test_the_vehicle_example_breaks_its_own_schema_where_it_does() -> None:
    # Upstream's example-normalized.jsonld writes "Connected" (the enum is lower case) and
    # an altitude as a number (the schema types it as a string): both are reported.
    errors = {e.field: e.reason for e in ALL.errors(entity(normalized("Vehicle")))}
    assert set(errors) == {"deviceBatteryStatus", "vehicleAltitude"}
    assert "connected" in errors["deviceBatteryStatus"]


@pytest.mark.parametrize("name", ["ParkingSpot", "OnStreetParking", "Vehicle", "Alert"])
def test_key_values_examples_are_valid(name: str) -> None:
    # (The OffStreetParking and TrafficFlowObserved key-values examples have non-URI ids,
    # which NGSI-LD refuses before any schema is consulted.)
    assert fields(example_key_values(name)) == []


def test_wrong_status_enum_names_the_field() -> None:
    body = normalized("ParkingSpot")
    body["status"]["value"] = "parked"
    errors = ALL.errors(entity(body))
    assert [e.field for e in errors] == ["status"]
    assert '"parked"' in errors[0].reason


def test_negative_spot_number_names_the_field() -> None:
    body = normalized("OnStreetParking")
    body["availableSpotNumber"]["value"] = -1
    assert fields(body) == ["availableSpotNumber"]


def test_missing_required_attribute_is_named() -> None:
    body = normalized("ParkingSpot")
    del body["refParkingSite"]
    assert fields(body) == ["refParkingSite"]


def test_nested_errors_name_their_path() -> None:
    body = normalized("ParkingSpot")
    body["category"]["value"] = ["onStreet", "onRoof"]
    assert fields(body) == ["category.1"]


def test_alert_refs_resolve_to_the_local_alert_and_weather_definitions() -> None:
    body = normalized("Alert")
    body["severity"]["value"] = "apocalyptic"  # Common-Alert, alert-schema.json
    assert fields(body) == ["severity"]
    body = normalized("Alert")
    body["subCategory"] = {"type": "Property", "value": "rain_flood"}  # weather-schema.json
    assert fields(body) == []


def test_typed_values_are_checked_as_their_value() -> None:
    doc = key_values(
        entity(normalized("TrafficFlowObserved")),
        RESOLVER.compile(normalized("TrafficFlowObserved")["@context"]),
        "TrafficFlowObserved",
    )
    assert doc["dateObserved"] == "2016-12-07T11:10:00"


def test_only_the_chosen_types_are_checked() -> None:
    spots_only = EntityValidator(RESOLVER, ["ParkingSpot"])
    body = normalized("OnStreetParking")
    body["availableSpotNumber"]["value"] = -1
    assert fields(body, spots_only) == []
    assert EntityValidator(RESOLVER, []).check(entity(body)).id == body["id"]


def test_an_unknown_type_name_fails_at_start() -> None:
    with pytest.raises(ValueError, match="WeatherObserved"):
        EntityValidator(RESOLVER, ["WeatherObserved"])


def test_check_raises_bad_request_data_with_every_field() -> None:
    body = normalized("ParkingSpot")
    body["status"]["value"] = "parked"
    del body["refParkingSite"]
    with pytest.raises(SchemaViolation) as caught:
        ALL.check(entity(body))
    problem = caught.value.problem()
    assert problem["type"] == "https://uri.etsi.org/ngsi-ld/errors/BadRequestData"
    assert problem["status"] == 400
    assert {e["field"] for e in problem["errors"]} == {"status", "refParkingSite"}
    assert "ParkingSpot" in problem["detail"]


def test_a_multi_typed_entity_is_checked_under_each_checked_type() -> None:
    body = normalized("ParkingSpot")
    body["type"] = ["ParkingSpot", "OnStreetParking"]
    body["availableSpotNumber"] = {"type": "Property", "value": -3}
    # OnStreetParking's schema also judges the spot's category ("onStreet" is a ParkingSpot
    # category, not an OnStreetParking one) and its negative availableSpotNumber.
    assert sorted(fields(body)) == ["availableSpotNumber", "category.0"]
    body["availableSpotNumber"]["value"] = 3
    assert fields(body, EntityValidator(RESOLVER, ["ParkingSpot"])) == []


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.sampled_from(STATUSES), st.text(max_size=12)))
def test_status_is_valid_exactly_when_in_the_enum(status: str) -> None:
    body = normalized("ParkingSpot")
    body["status"]["value"] = status
    assert (fields(body) == []) == (status in STATUSES)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=-10_000, max_value=10_000))
def test_spot_numbers_are_valid_exactly_when_not_negative(n: int) -> None:
    body = normalized("OnStreetParking")
    body["availableSpotNumber"]["value"] = n
    assert (fields(body) == []) == (n >= 0)


def test_settings_read_the_types_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYBRAIN_CONTEXT_VALIDATE_TYPES", "ParkingSpot, Vehicle")
    assert Settings().context_validate_types == ["ParkingSpot", "Vehicle"]
    monkeypatch.setenv("CITYBRAIN_CONTEXT_VALIDATE_TYPES", '["Alert"]')
    assert Settings().context_validate_types == ["Alert"]
    monkeypatch.delenv("CITYBRAIN_CONTEXT_VALIDATE_TYPES")
    assert Settings().context_validate_types == []
