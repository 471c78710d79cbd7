"""The expanded entity model: timestamps, NGSI-LD Null and the storage document."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError, astuple, dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencitybrain.context.model import (
    NGSI_LD_NULL,
    Attribute,
    AttrKind,
    Entity,
    format_datetime,
    from_doc,
    parse_datetime,
    quick_init,
    stamp,
    to_doc,
)

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def test_datetimes_are_utc_with_a_z() -> None:
    assert format_datetime(T0) == "2024-05-01T08:00:00Z"
    assert format_datetime(T0.replace(microsecond=120_000)) == "2024-05-01T08:00:00.120Z"
    assert format_datetime(T0.replace(microsecond=5)) == "2024-05-01T08:00:00.000005Z"
    plus8 = datetime(2024, 5, 1, 16, 0, tzinfo=timezone(timedelta(hours=8)))
    assert format_datetime(plus8) == "2024-05-01T08:00:00Z"
    assert parse_datetime("2021-03-11T15:51:02+05:30") == datetime(
        2021, 3, 11, 10, 21, 2, tzinfo=UTC
    )
    assert parse_datetime("2016-12-07T11:10:00") == datetime(2016, 12, 7, 11, 10, tzinfo=UTC)


def test_ngsi_ld_null_in_each_encoding() -> None:
    assert Attribute(AttrKind.PROPERTY, NGSI_LD_NULL).is_null
    assert Attribute(AttrKind.RELATIONSHIP, NGSI_LD_NULL).is_null
    assert Attribute(AttrKind.LIST_PROPERTY, [NGSI_LD_NULL]).is_null
    assert Attribute(AttrKind.LANGUAGE_PROPERTY, {"@none": NGSI_LD_NULL}).is_null
    assert not Attribute(AttrKind.PROPERTY, 0).is_null
    assert not Attribute(AttrKind.LANGUAGE_PROPERTY, {"en": "yes"}).is_null


def test_stamp_keeps_created_at_and_reaches_sub_attributes() -> None:
    sub = {"https://ex.org/accuracy": [Attribute(AttrKind.PROPERTY, 0.5)]}
    attr = Attribute(AttrKind.PROPERTY, 1, created_at=T0, sub=sub)
    later = T0 + timedelta(hours=1)
    stamped = stamp(attr, later)
    assert (stamped.created_at, stamped.modified_at) == (T0, later)
    inner = stamped.sub["https://ex.org/accuracy"][0]
    assert (inner.created_at, inner.modified_at) == (later, later)


def test_storage_document_shape() -> None:
    entity = Entity(
        "urn:ngsi-ld:ParkingSpot:1",
        ("https://smartdatamodels.org/dataModel.Parking/ParkingSpot",),
        {
            "https://uri.etsi.org/ngsi-ld/status": [
                Attribute(AttrKind.PROPERTY, "free", observed_at=T0, created_at=T0)
            ],
            "https://ex.org/ref": [
                Attribute(AttrKind.RELATIONSHIP, "urn:ngsi-ld:Site:1", object_type=("T",))
            ],
        },
        scope=("/Nanchang/Honggutan",),
        created_at=T0,
        modified_at=T0,
    )
    doc = to_doc(entity)
    assert doc == {
        "id": "urn:ngsi-ld:ParkingSpot:1",
        "type": ["https://smartdatamodels.org/dataModel.Parking/ParkingSpot"],
        "scope": ["/Nanchang/Honggutan"],
        "createdAt": "2024-05-01T08:00:00Z",
        "modifiedAt": "2024-05-01T08:00:00Z",
        "attrs": {
            "https://uri.etsi.org/ngsi-ld/status": [
                {
                    "type": "Property",
                    "value": "free",
                    "observedAt": "2024-05-01T08:00:00Z",
                    "createdAt": "2024-05-01T08:00:00Z",
                }
            ],
            "https://ex.org/ref": [
                {"type": "Relationship", "value": "urn:ngsi-ld:Site:1", "objectType": ["T"]}
            ],
        },
    }
    assert from_doc(msgspec.json.decode(msgspec.json.encode(doc))) == entity


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
moments = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
iris = st.sampled_from(["https://ex.org/a", "https://ex.org/b", "urn:x:c"])


def attributes(depth: int = 1) -> st.SearchStrategy[Attribute]:
    subs: Any = (
        st.dictionaries(iris, st.lists(attributes(depth - 1), min_size=1, max_size=2), max_size=2)
        if depth
        else st.just({})
    )
    return st.builds(
        Attribute,
        kind=st.sampled_from(list(AttrKind)),
        value=json_values,
        observed_at=st.none() | moments,
        unit_code=st.none() | st.sampled_from(["CEL", "KMH"]),
        dataset_id=st.none() | st.sampled_from(["urn:ds:1", "urn:ds:2"]),
        created_at=st.none() | moments,
        modified_at=st.none() | moments,
        sub=subs,
        object_type=st.tuples() | st.tuples(iris),
    )


entities = st.builds(
    Entity,
    id=st.just("urn:ngsi-ld:Thing:1"),
    types=st.tuples(iris) | st.tuples(iris, iris),
    attrs=st.dictionaries(iris, st.lists(attributes(), min_size=1, max_size=2), max_size=3),
    scope=st.tuples() | st.tuples(st.just("/A/B")),
    created_at=moments,
    modified_at=moments,
)


@given(entities)
def test_storage_document_round_trips_through_json(entity: Entity) -> None:
    assert from_doc(json.loads(json.dumps(to_doc(entity)))) == entity


@dataclass(frozen=True, slots=True)
class _Plain:
    a: int
    b: str = "x"
    c: list[int] = field(default_factory=list)


@quick_init
@dataclass(frozen=True, slots=True)
class _Quick:
    a: int
    b: str = "x"
    c: list[int] = field(default_factory=list)


def test_quick_init_builds_what_the_dataclass_would_and_refuses_what_it_cannot() -> None:
    for args, kw in [((1,), {}), ((1, "y"), {}), ((2,), {"c": [3]}), ((), {"a": 4, "b": "z"})]:
        assert astuple(_Quick(*args, **kw)) == astuple(_Plain(*args, **kw))
    assert _Quick(1).c is not _Quick(1).c  # a fresh default each time
    with pytest.raises(FrozenInstanceError):
        _Quick(1).a = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        _Quick()  # type: ignore[call-arg]  # a required field stays required

    @dataclass(frozen=True, slots=True)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            assert self.a > 0

    with pytest.raises(TypeError, match="__post_init__"):
        quick_init(Checked)
