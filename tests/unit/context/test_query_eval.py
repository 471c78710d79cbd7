"""Tests for compiling ``q`` into entity predicates: spec semantics and a reference model."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencitybrain.context.query_eval import compile_query
from opencitybrain.context.query_parser import parse_query
from tests.unit.context._entities import (
    T0,
    VOCAB,
    Attribute,
    AttrKind,
    Entity,
    entity,
    expand,
    geo,
    prop,
    rel,
)


def matches(q: str, e: Entity) -> bool:
    return compile_query(parse_query(q), expand)(e)


CAR = entity(
    "urn:ngsi-ld:Vehicle:A1",
    speed=prop(80, observed_at=T0, unit_code="KMH"),
    brand=prop("Mercedes"),
    parked=prop(False),
    tags=prop(["blue", "red", "green"]),
    spec=prop({"engine": {"power": 150, "fuel": "diesel"}, "seats": 5}),
    isParked=rel(
        "urn:ngsi-ld:OffStreetParking:Downtown1",
        sub={
            expand("providedBy"): [rel("urn:ngsi-ld:Person:Bob")],
        },
    ),
    name=Attribute(AttrKind.LANGUAGE_PROPERTY, {"zh": "赣江一号", "en": "Ganjiang One"}),
    category=Attribute(AttrKind.VOCAB_PROPERTY, VOCAB + "commercial"),
    serviced=prop("2024-04-30T10:00:00Z"),
    opens=prop(time(7, 30)),
    location=geo({"type": "Point", "coordinates": [115.9, 28.68]}),
)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("speed==80", True),
        ("speed==80.0", True),
        ("speed!=80", False),
        ("speed>79.5;speed<=80", True),
        ("speed==1..80", True),
        ("speed!=1..79", True),
        ("speed==81..90", False),
        ("speed==70,80,90", True),
        ("speed!=70,80,90", False),
        ('speed=="80"', False),  # a string never equals a number
        ('speed!="80"', True),  # ...so it is unequal
        ('speed>"7"', False),  # and strings do not order against numbers
        ('brand=="Mercedes"', True),
        ('brand>"Audi"', True),
        ('brand=="Audi","Mercedes"', True),
        ('brand=="A".."N"', True),
        ('brand~="^Mer"', True),
        ('brand~="^mer"', False),
        ('brand~="(?i)^mer"', True),
        ('brand!~="^Mer"', False),
        ("speed~=8", False),  # a pattern only matches strings
        ("parked==false", True),
        ("parked==0", False),  # false is not the number 0
        ("parked!=true", True),
        ('tags=="red"', True),  # an array includes the value
        ('tags=="black","blue"', True),
        ('tags!="red"', False),
        ('tags!="black"', True),
        ('tags~="^gr"', True),
        ("spec[seats]==5", True),
        ("spec[engine][power]>=150", True),
        ('spec[engine.fuel]=="diesel"', True),
        ("spec[engine][torque]", False),
        ("spec[engine][torque]!=1", False),  # a missing key never matches
        ("isParked==urn:ngsi-ld:OffStreetParking:Downtown1", True),
        ('isParked=="urn:ngsi-ld:OffStreetParking:Downtown1"', True),
        ("isParked!=urn:ngsi-ld:OffStreetParking:Other", True),
        ('isParked>"urn:a"', False),  # only == and != apply to a Relationship
        ('isParked~="Downtown"', False),
        ("isParked.providedBy==urn:ngsi-ld:Person:Bob", True),
        ("isParked.providedBy", True),
        ("isParked.missing", False),
        ('name=="Ganjiang One"', True),
        ('name=="赣江一号"', True),
        ('name[en]=="Ganjiang One"', True),
        ('name[zh]=="Ganjiang One"', False),
        ("name[fr]", False),
        ('category=="commercial"', True),  # compact or expanded form of the IRI
        (f'category=="{VOCAB}commercial"', True),
        ('category=="private"', False),
        ("serviced>2024-04-30T09:00:00Z", True),  # dateTime strings compare as instants
        ("serviced>2024-04-30T17:30:00+08:00", True),
        ("serviced<2024-04-30T18:30:00+08:00", True),
        ("serviced==2024-04-30", True),  # a date query compares the UTC day
        ('serviced>"2024-04-30T09"', True),  # quoted: a plain string comparison
        ("opens<08:00:00", True),
        ("opens>08:00:00+08:00", True),
        ("speed.observedAt>=2024-05-01T00:00:00Z", True),
        ("speed.observedAt==2024-05-01T16:00:00+08:00", True),
        ('speed.observedAt=="2024-05-01T08:00:00Z"', True),
        ("speed.observedAt<2024-05-01", False),
        ('speed.unitCode=="KMH"', True),
        ("speed.datasetId", False),
        ("brand.observedAt", False),
        ("createdAt==2024-05-01T08:00:00Z", True),
        ("modifiedAt>2024-06-01T00:00:00Z", False),
        ("location", True),
        ('location[type]=="Point"', True),
        ("missing", False),
        ("!missing", True),
        ("!speed", False),
        ("missing!=1", False),  # != needs the attribute to exist
        ("speed==80;brand", True),
        ("speed==1|brand", True),
        ("(speed==1|speed==80);!missing", True),
        ("speed==1;brand|parked==false", True),
    ],
)
def test_spec_semantics(q: str, expected: bool) -> None:
    assert matches(q, CAR) is expected


def test_any_instance_of_a_multi_dataset_attribute_matches() -> None:
    e = entity(speed=[prop(10), prop(90, dataset_id="urn:ngsi-ld:Dataset:radar")])
    assert matches("speed>50", e)
    assert matches("speed<50", e)
    assert matches('speed.datasetId=="urn:ngsi-ld:Dataset:radar"', e)
    assert not matches("speed==50..60", e)


def test_list_relationships_compare_their_objects() -> None:
    e = entity(owners=Attribute(AttrKind.LIST_RELATIONSHIP, ["urn:ngsi-ld:P:1", "urn:ngsi-ld:P:2"]))
    assert matches("owners==urn:ngsi-ld:P:2", e)
    assert matches("owners!=urn:ngsi-ld:P:3", e)
    assert not matches("owners!=urn:ngsi-ld:P:1", e)
    assert not matches('owners>"urn"', e)


def test_typed_literals_unwrap() -> None:
    e = entity(due=prop({"@type": "DateTime", "@value": "2024-05-01T00:00:00Z"}))
    assert matches("due<2024-05-02T00:00:00Z", e)
    assert matches("due==2024-05-01", e)


def test_naive_stored_datetimes_are_utc() -> None:
    e = entity(seen=prop(datetime(2024, 5, 1, 8, 0)))
    assert matches("seen==2024-05-01T16:00:00+08:00", e)


def test_sub_attribute_members() -> None:
    e = entity(speed=prop(5, sub={expand("accuracy"): [prop(0.5, observed_at=T0)]}))
    assert matches("speed.accuracy<1", e)
    assert matches("speed.accuracy.observedAt==2024-05-01T08:00:00Z", e)
    assert not matches("speed.accuracy.observedAt>2024-05-01T08:00:00Z", e)


def test_names_are_expanded_with_the_callers_context() -> None:
    e = Entity("urn:x", ("T",), {"https://other.org/speed": [prop(3)]})
    predicate = compile_query(parse_query("speed==3"), lambda t: "https://other.org/" + t)
    assert predicate(e)
    assert not matches("speed==3", e)


# ---- property tests ----------------------------------------------------------------------

values = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([0.5, -1.5, 2.0]),
    st.sampled_from(["a", "b", "ab", ""]),
    st.booleans(),
)
targets = st.one_of(values, st.lists(values, max_size=3))
instances = st.lists(targets.map(prop), min_size=1, max_size=2)
entities = st.builds(
    lambda a, b: entity(**{k: v for k, v in (("a", a), ("b", b)) if v is not None}),
    st.none() | instances,
    st.none() | instances,
)


def _render(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return f'"{v}"' if isinstance(v, str) else repr(v)


@st.composite
def terms(draw: st.DrawFn) -> tuple[str, tuple[Any, ...]]:
    """Draw query text for one term and a plain description the reference reads."""
    name = draw(st.sampled_from("ab"))
    shape = draw(st.sampled_from(["exists", "not", "cmp", "list", "range"]))
    if shape in ("exists", "not"):
        return ("!" if shape == "not" else "") + name, (shape, name)
    if shape == "list":
        op, items = (
            draw(st.sampled_from(["==", "!="])),
            draw(st.lists(values, min_size=2, max_size=3)),
        )
        return name + op + ",".join(map(_render, items)), ("list", name, op, items)
    if shape == "range":
        kind = draw(st.sampled_from([st.integers(-3, 3), st.sampled_from(["a", "ab", "b"])]))
        low, high, op = draw(kind), draw(kind), draw(st.sampled_from(["==", "!="]))
        return f"{name}{op}{_render(low)}..{_render(high)}", ("range", name, op, low, high)
    op = draw(st.sampled_from(["==", "!=", ">", ">=", "<", "<="]))
    value = draw(values.filter(lambda v: op in ("==", "!=") or not isinstance(v, bool)))
    return name + op + _render(value), ("cmp", name, op, value)


def _same_type(x: Any, y: Any) -> bool:
    numeric = (int, float)
    if isinstance(x, bool) or isinstance(y, bool):
        return isinstance(x, bool) and isinstance(y, bool)
    return (isinstance(x, numeric) and isinstance(y, numeric)) or type(x) is type(y)


ORDER = {
    "==": lambda x, y: x == y,
    ">": lambda x, y: x > y,
    ">=": lambda x, y: x >= y,
    "<": lambda x, y: x < y,
    "<=": lambda x, y: x <= y,
}


def reference(desc: tuple[Any, ...], e: Entity) -> bool:
    """Evaluate one term the slow, obvious way."""
    shape, name = desc[0], desc[1]
    found = e.attrs.get(expand(name), [])
    if shape == "exists":
        return bool(found)
    if shape == "not":
        return not found
    op = desc[2]

    def hit(t: Any) -> bool:
        if shape == "list":
            return any(_same_type(t, q) and t == q for q in desc[3])
        if shape == "range":
            low, high = desc[3], desc[4]
            return _same_type(t, low) and low <= t <= high
        q = desc[3]
        return _same_type(t, q) and ORDER["==" if op == "!=" else op](t, q)

    def one(value: Any) -> bool:
        items = value if isinstance(value, list) else [value]
        positive = any(hit(t) for t in items)
        return not positive if op == "!=" else positive

    return any(one(a.value) for a in found)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(entities, min_size=1, max_size=8),
    st.lists(terms(), min_size=1, max_size=3),
    st.booleans(),
)
def test_evaluator_agrees_with_a_reference(
    population: list[Entity], parts: list[tuple[str, tuple[Any, ...]]], conjunction: bool
) -> None:
    text = (";" if conjunction else "|").join(q for q, _ in parts)
    predicate = compile_query(parse_query(text), expand)
    combine = all if conjunction else any
    for e in population:
        assert predicate(e) == combine(reference(d, e) for _, d in parts), text


@settings(max_examples=200, deadline=None)
@given(st.lists(entities, min_size=1, max_size=8), values, values)
def test_or_is_the_union_and_a_value_list_is_the_same_union(
    population: list[Entity], x: Any, y: Any
) -> None:
    first = compile_query(parse_query(f"a=={_render(x)}"), expand)
    second = compile_query(parse_query(f"a=={_render(y)}"), expand)
    union = compile_query(parse_query(f"a=={_render(x)}|a=={_render(y)}"), expand)
    listed = compile_query(parse_query(f"a=={_render(x)},{_render(y)}"), expand)
    for e in population:
        assert union(e) == (first(e) or second(e)) == listed(e)


@settings(max_examples=200, deadline=None)
@given(entities, values)
def test_unequal_on_one_instance_is_existence_and_not_equal(e: Entity, x: Any) -> None:
    single = Entity(e.id, e.types, {k: v[:1] for k, v in e.attrs.items()})
    unequal = compile_query(parse_query(f"a!={_render(x)}"), expand)
    equal = compile_query(parse_query(f"a=={_render(x)}"), expand)
    exists = compile_query(parse_query("a"), expand)
    assert unequal(single) == (exists(single) and not equal(single))


@settings(max_examples=100, deadline=None)
@given(st.datetimes(timezones=st.just(UTC)), st.integers(-600, 600))
def test_instants_compare_across_offsets(moment: datetime, minutes: int) -> None:
    e = entity(seen=prop(moment.isoformat()))
    shifted = moment.astimezone(timezone(timedelta(minutes=minutes)))
    assert matches(f"seen=={shifted.isoformat()}", e)
    assert matches(f"seen=={moment.date().isoformat()}", e)
