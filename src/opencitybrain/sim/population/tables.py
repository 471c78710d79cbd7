"""Turn a department's canonical frame into its own table plus the ground truth beside it."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from opencitybrain.sim.population import style
from opencitybrain.sim.population.dirt import make_dirty
from opencitybrain.sim.population.schemas import TableSchema

# Canonical columns that never reach a department table (truth and generator helpers).
ENTITY_COLUMNS = ("person_id", "company_id", "vehicle_id")
INTERNAL = frozenset({*ENTITY_COLUMNS, "previous_address"})


def compact(values: pa.Array) -> pa.Array:
    """Return a dictionary array holding only the dictionary values its rows use."""
    if not pa.types.is_dictionary(values.type):
        return values
    valid = pc.is_valid(values.indices)
    indices = pc.fill_null(values.indices, 0).to_numpy()
    used, inverse = np.unique(indices, return_inverse=True)
    new = pa.array(inverse.astype(np.int32), mask=~np.asarray(valid))
    return pa.DictionaryArray.from_arrays(new, values.dictionary.take(pa.array(used)))


def render(schema: TableSchema, frame: pa.Table, keys: pa.Array) -> pa.Table:
    """Return the department's table: its key, its fields in its styles, then its extras."""
    columns: dict[str, pa.Array] = {schema.key: keys}
    for role, column in schema.fields.items():
        values = frame[role].combine_chunks()
        how = schema.styles.get(role)
        if role == "sex":
            values = style.sex(values, how or "1/2")
        elif role in ("birth_date", "updated"):
            values = style.day(values, how or "YYYYMMDD")
        elif role in ("name", "rep_name") and how:
            values = style.name(values, how)
        elif role in ("id_number", "code", "owner_code", "rep_id_number") and how:
            values = style.code(values, how)
        columns[column] = compact(values)
    roles = set(schema.fields)
    for name in frame.column_names:
        if name not in roles and name not in INTERNAL:
            columns[name] = frame[name].combine_chunks()
    return pa.table(columns)


def finish(
    rng: np.random.Generator,
    schema: TableSchema,
    frame: pa.Table,
    *,
    key_prefix: str,
    rates: Mapping[str, float],
    code: str = "id_number",
) -> tuple[pa.Table, pa.Table]:
    """Return the department's dirty table and its ground truth (key → entity, dirt)."""
    # Rows come in shuffled; duplicates are appended last, as later registrations are.
    dirty, dirt = make_dirty(rng, frame, rates, code=code)
    width = max(8, len(str(dirty.num_rows)))
    keys = pc.binary_join_element_wise(
        key_prefix,
        pc.utf8_lpad(
            pc.cast(pa.array(np.arange(1, dirty.num_rows + 1)), pa.string()),
            width=width,
            padding="0",
        ),
        "",
    )
    entity = next(c for c in ENTITY_COLUMNS if c in dirty.column_names)
    truth = pa.table(
        {
            "source": pa.DictionaryArray.from_arrays(
                pa.array(np.zeros(dirty.num_rows, dtype=np.int32)), pa.array([schema.source])
            ),
            "record_key": keys,
            "entity_id": dirty[entity].combine_chunks(),
            "dirt": dirt,
        }
    )
    return render(schema, dirty, keys), truth
