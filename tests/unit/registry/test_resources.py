"""The golden records as the bureau's resource rows: typed per field, retired keys kept."""

from __future__ import annotations

from datetime import date

import pyarrow as pa

from opencitybrain.catalog.rules import validate_spec
from opencitybrain.registry.resources import RESOURCE_FIELDS, as_rows, resource_spec

GOLDEN = pa.table({
    "golden_id": ["360102199001010011", "360102198511110022"],
    "records": pa.array([3, 1], pa.int64()), "sources": pa.array([2, 1], pa.int64()),
    "name": ["张伟", "李丽"], "name_source": ["a", "b"], "sex": pa.array([1, 2], pa.int8()),
    "birth_date": pa.array([19900101, 0], pa.int32()), "address": ["南昌市东湖区八一路1号", None],
    "conflicts": pa.array([0, 2], pa.int64()), "updated_build": pa.array([1, 2], pa.int64()),
})  # fmt: skip


def test_rows_are_typed_per_field_and_retired_keys_keep_no_attributes() -> None:
    rows = as_rows("people", GOLDEN, pa.array(["360102197001010033"]))
    assert rows.column_names == [f.name for f in RESOURCE_FIELDS["people"]]
    assert rows.schema.field("birth_date").type == pa.date32()
    out = rows.to_pylist()
    assert out[0]["birth_date"] == date(1990, 1, 1)
    assert out[0]["sex"] == 1
    assert out[1]["birth_date"] is None  # not a date: empty, never a guess
    assert [r["current"] for r in out] == [True, True, False]
    assert out[2]["golden_id"] == "360102197001010033"
    assert all(out[2][k] is None for k in ("name", "address", "sex", "birth_date"))


def test_every_kind_is_a_valid_conditional_resource_of_the_bureau() -> None:
    for kind in ("people", "companies", "vehicles"):
        spec = validate_spec(resource_spec(kind, "bureau", "360100"))
        assert spec.department_id == "bureau"
        assert spec.sharing_type.value == "conditional"
        assert [f.name for f in spec.fields if f.is_identifier] == ["golden_id"]
