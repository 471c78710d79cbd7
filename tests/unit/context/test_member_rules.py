"""Format rules for NGSI-LD members."""

from __future__ import annotations

import pytest

from opencitybrain.context.errors import BadRequestData
from opencitybrain.context.member_rules import (
    check_language_map,
    has_forbidden_char,
    is_null_value,
    is_scope,
    is_uri,
    member_datetime,
    relationship_objects,
)
from opencitybrain.context.model import NGSI_LD_NULL, AttrKind


def test_uris_scopes_and_names() -> None:
    assert is_uri("urn:ngsi-ld:ParkingSpot:1")
    assert is_uri("https://example.org/spot/1")
    assert not is_uri("ParkingSpot:1 x")
    assert not is_uri("spot-1")
    assert not is_uri(7)
    assert is_scope("/Nanchang/Donghu")
    assert not is_scope("Nanchang")
    assert not is_scope("/Nanchang/#")
    assert has_forbidden_char("a=b")
    assert not has_forbidden_char("availableSpotNumber")


def test_member_values() -> None:
    assert member_datetime("2018-09-21T12:00:00Z", "observedAt").year == 2018
    with pytest.raises(BadRequestData):
        member_datetime(20180921, "observedAt")
    assert relationship_objects([{"object": "urn:a:1"}], "r", single_ok=False) == ["urn:a:1"]
    with pytest.raises(BadRequestData):
        relationship_objects({"object": "urn:a:1"}, "r", single_ok=True)
    check_language_map({"zh-Hans": "停车场", "@none": ["parking"]}, "name")
    with pytest.raises(BadRequestData):
        check_language_map({}, "name")


def test_ngsi_ld_null_values() -> None:
    assert is_null_value(AttrKind.PROPERTY, None)
    assert is_null_value(AttrKind.LIST_PROPERTY, [NGSI_LD_NULL])
    assert is_null_value(AttrKind.LANGUAGE_PROPERTY, {"@none": NGSI_LD_NULL})
    assert not is_null_value(AttrKind.PROPERTY, {"@none": NGSI_LD_NULL})
