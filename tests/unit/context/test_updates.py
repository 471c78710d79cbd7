"""Entity update rules: append, update, partial update, replace, merge and delete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from opencitybrain.context.errors import ResourceNotFound
from opencitybrain.context.jsonld import DEFAULT_VOCAB, ContextResolver
from opencitybrain.context.model import Entity
from opencitybrain.context.parsing import parse_attributes, parse_entity, parse_fragment
from opencitybrain.context.updates import (
    append_attrs,
    delete_attr,
    merge_entity,
    patch_attr,
    replace_attr,
    replace_entity,
    update_attrs,
)
from tests.unit.context._sdm import PARKING, normalized

RESOLVER = ContextResolver()
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)
V = DEFAULT_VOCAB
STATUS = "https://uri.etsi.org/ngsi-ld/status"
NAME = "https://smartdatamodels.org/name"


def spot() -> Entity:
    return parse_entity(normalized("ParkingSpot"), RESOLVER, now=T0)


def attrs(body: dict[str, Any]) -> Any:
    return parse_attributes(body, RESOLVER, PARKING)


def test_append_adds_and_overwrites_keeping_created_at() -> None:
    entity, changes = append_attrs(spot(), attrs({"status": "occupied", "speed": 3}), T1)
    status = entity.attrs[STATUS][0]
    assert (status.value, status.created_at, status.modified_at) == ("occupied", T0, T1)
    assert status.sub == {}  # an overwrite replaces the whole instance
    assert entity.attrs[V + "speed"][0].created_at == T1
    assert entity.modified_at == T1
    assert set(changes.updated) == {STATUS, V + "speed"}
    before = next(c for c in changes.attrs if c.name == STATUS).before
    assert before is not None
    assert before.value == "free"


def test_append_no_overwrite_reports_existing_attributes() -> None:
    original = spot()
    entity, changes = append_attrs(
        original, attrs({"status": "x", "speed": 1}), T1, overwrite=False
    )
    assert entity.attrs[STATUS][0].value == "free"
    assert [n.name for n in changes.not_updated] == [STATUS]
    assert "noOverwrite" in changes.not_updated[0].reason
    assert changes.updated == (V + "speed",)


def test_update_touches_existing_attributes_only() -> None:
    entity, changes = update_attrs(spot(), attrs({"name": "A-14", "speed": 1}), T1)
    assert entity.attrs[NAME][0].value == "A-14"
    assert V + "speed" not in entity.attrs
    assert [n.name for n in changes.not_updated] == [V + "speed"]


def test_update_with_ngsi_ld_null_deletes() -> None:
    entity, changes = update_attrs(spot(), attrs({"name": "urn:ngsi-ld:null"}), T1)
    assert NAME not in entity.attrs
    assert changes.attrs[0].after is None


def test_nothing_changed_keeps_the_entity() -> None:
    original = spot()
    entity, changes = update_attrs(original, attrs({"speed": 1}), T1)
    assert entity is original
    assert not changes.changed


def test_partial_attribute_update_merges_members() -> None:
    body = {"status": {"value": "occupied", "parkingPermit": "urn:ngsi-ld:null", "by": "cam"}}
    new = attrs(body)[STATUS]
    entity, _ = patch_attr(spot(), STATUS, new, T1)
    status = entity.attrs[STATUS][0]
    assert status.value == "occupied"
    assert status.observed_at == datetime(2018, 9, 21, 12, 0, tzinfo=UTC)
    assert set(status.sub) == {V + "by"}
    assert status.created_at == T0
    with pytest.raises(ResourceNotFound):
        patch_attr(spot(), V + "speed", new, T1)


def test_replace_attribute_needs_it_to_exist() -> None:
    new = attrs({"name": {"value": "B-1"}})[NAME]
    entity, _ = replace_attr(spot(), NAME, new, T1)
    assert entity.attrs[NAME][0].value == "B-1"
    with pytest.raises(ResourceNotFound):
        replace_attr(spot(), V + "nothing", new, T1)


def test_delete_one_instance_or_all() -> None:
    body = {
        "speed": [
            {"type": "Property", "value": 1},
            {"type": "Property", "value": 2, "datasetId": "urn:ds:2"},
        ]
    }
    entity, _ = append_attrs(spot(), attrs(body), T1)
    one, changes = delete_attr(entity, V + "speed", T1, dataset_id="urn:ds:2")
    assert [a.value for a in one.attrs[V + "speed"]] == [1]
    assert changes.attrs[0].before is not None
    none, changes = delete_attr(entity, V + "speed", T1, delete_all=True)
    assert V + "speed" not in none.attrs
    assert len(changes.attrs) == 2
    with pytest.raises(ResourceNotFound):
        delete_attr(entity, V + "speed", T1, dataset_id="urn:ds:9")
    with pytest.raises(ResourceNotFound):
        delete_attr(entity, V + "nothing", T1)


def test_replace_entity_keeps_id_and_created_at() -> None:
    original = spot()
    new = parse_entity(
        {"id": original.id, "type": ["ParkingSpot", "Thing"], "name": "C-3", "@context": PARKING},
        RESOLVER,
    )
    entity, changes = replace_entity(original, new, T1)
    assert (entity.id, entity.created_at, entity.modified_at) == (original.id, T0, T1)
    assert set(entity.attrs) == {NAME}
    assert entity.types == new.types
    assert changes.types_changed
    deleted = {c.name for c in changes.attrs if c.after is None}
    assert STATUS in deleted
    assert NAME not in deleted


def test_merge_adds_merges_and_deletes() -> None:
    fragment = parse_fragment(
        {
            "type": "Thing",
            "scope": "/Nanchang",
            "name": None,
            "status": {"value": "occupied", "parkingPermit": {"value": "no"}},
            "speed": 4,
        },
        RESOLVER,
        PARKING,
    )
    entity, changes = merge_entity(spot(), fragment, T1)
    assert NAME not in entity.attrs
    status = entity.attrs[STATUS][0]
    assert status.value == "occupied"
    assert status.sub[V + "parkingPermit"][0].value == "no"
    assert status.sub[V + "parkingPermit"][0].created_at == T0
    assert entity.attrs[V + "speed"][0].value == 4
    assert entity.types[1] == V + "Thing"
    assert entity.scope == ("/Nanchang",)
    assert changes.scope_changed
    assert changes.types_changed
    cleared, _ = merge_entity(entity, parse_fragment({"scope": None}, RESOLVER), T1)
    assert cleared.scope == ()
