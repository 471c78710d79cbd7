"""The shipped class table and the rules a class must keep."""

from __future__ import annotations

import json
from typing import Any

import pytest

from opencitybrain.kernel.errors import InvalidInput
from opencitybrain.operations.classes import (
    ClassKind,
    Urgency,
    class_from_dict,
    demo_classes,
    load_classes,
)
from opencitybrain.sim.demo_org import DEPARTMENTS
from opencitybrain.worktime import TimeUnit

KNOWN = {d[0] for d in DEPARTMENTS}


def test_the_demo_table_covers_every_major_class_of_the_standard() -> None:
    classes = demo_classes()
    assert len(classes) >= 40
    components = {c.major_zh for c in classes if c.kind is ClassKind.COMPONENT}
    events = {c.major_zh for c in classes if c.kind is ClassKind.EVENT}
    assert components == {"公用设施", "道路交通", "市容环境", "园林绿化", "房屋土地", "其他设施"}
    assert events == {"市容环境", "宣传广告", "施工管理", "街面秩序", "突发事件"}
    assert {c.time_limit.unit for c in classes} == set(TimeUnit)


def test_the_demo_table_names_real_demo_departments() -> None:
    for c in demo_classes():
        assert c.department_id in KNOWN, c.code
        for region, dept in c.region_departments.items():
            assert dept == f"district-{region}", c.code


def test_the_standard_examples_have_their_limits() -> None:
    by_code = {c.code: c for c in demo_classes()}
    assert by_code["E0102"].time_limit.value == 1  # exposed rubbish: 1 working day
    assert by_code["E0102"].time_limit.unit is TimeUnit.WORKING_DAYS
    assert by_code["E0101"].time_limit.value == 15  # unauthorised structures: 15 WD
    assert by_code["C0102"].time_limit.unit is TimeUnit.WORKING_HOURS  # manhole covers: 2 h
    assert by_code["C0102"].urgency is Urgency.URGENT
    assert by_code["C0102"].stage_minutes == 10
    assert by_code["E0102"].stage_minutes == 30


def test_region_overrides_pick_the_most_specific_region() -> None:
    row = demo_classes()[0].to_dict()
    row["region_departments"] = {"360102": "district-360102", "360102001": "street-office"}
    c = class_from_dict(row)
    assert c.department_for(("360102001001001", "360102001001", "360102001", "360102")) == (
        "street-office"
    )
    assert c.department_for(("360102002",)) == "district-360102"
    assert c.department_for(("360121",)) == c.department_id


def test_a_class_round_trips_through_json() -> None:
    for c in demo_classes():
        assert class_from_dict(c.to_dict()) == c


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": "X01"}, "code"),
        ({"code": "E0101", "kind": "component"}, "code"),
        ({"time_limit": {"value": 0, "unit": "working_days"}}, "time_limit.value"),
        ({"time_limit": {"value": 2, "unit": "fortnights"}}, "time_limit"),
        ({"department_id": "Urban Management"}, "department_id"),
        ({"region_departments": {"36": "x"}}, "region_departments"),
        ({"name_zh": ""}, "name_zh"),
    ],
)
def test_bad_rows_are_refused_with_the_field(change: dict[str, Any], field: str) -> None:
    row = {**demo_classes()[0].to_dict(), **change}
    with pytest.raises(InvalidInput) as err:
        class_from_dict(row)
    assert err.value.errors[0].field == field


def test_a_table_with_duplicate_codes_is_refused() -> None:
    with pytest.raises(InvalidInput):
        load_classes('[{"code": "C0101"}, {"code": "C0101"}]')
    row = demo_classes()[0].to_dict()
    with pytest.raises(InvalidInput):
        load_classes(json.dumps([row, row]))
    with pytest.raises(InvalidInput):
        load_classes("not json")
