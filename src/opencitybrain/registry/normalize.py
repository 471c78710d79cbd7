"""Read a department's table into canonical columns, whatever its field names and styles.

Sex codes (1/2, 男/女, M/F), dates (YYYYMMDD as text or number, with any separators),
names padded with (full-width) spaces, lower-case check chars: all become one form, so
records of different departments compare value for value.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from opencitybrain.registry.idcodes import ric_valid, uscc_valid
from opencitybrain.registry.model import SourceSpec

# GA 36: province, authority letter, then 5 chars (ordinary) or 6 (new energy: D/F first
# for small vehicles, last for large ones); no I or O in the serial.
PLATE = (
    r"^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z]"
    r"([A-HJ-NP-Z0-9]{5}|[DF][A-HJ-NP-Z0-9][0-9]{4}|[0-9]{5}[DF])$"
)
DATE_SEPARATORS = ("-", "/", ".", "年", "月", "日", " ")
SEX_CODES: dict[str, int] = {"1": 1, "2": 2, "男": 1, "女": 2, "M": 1, "F": 2, "m": 1, "f": 2}
SPACES = (" ", "\u3000", "\t", "\u00a0")  # space, full-width space, tab, no-break space


def _column(table: pa.Table, spec: SourceSpec, role: str, kind: pa.DataType) -> pa.Array:
    """Return the column playing ``role``, or nulls when the department has none."""
    name = spec.fields.get(role)
    if name is None or name not in table.column_names:
        return pa.nulls(table.num_rows, kind)
    column = table[name].combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    return column


def _without(values: pa.Array, parts: tuple[str, ...]) -> pa.Array:
    """Return the strings with every occurrence of ``parts`` removed.

    A part no value contains costs one search, not a rewrite of the column.
    """
    for part in parts:
        if pc.any(pc.match_substring(values, part)).as_py():
            values = pc.replace_substring(values, part, "")
    return values


def text(values: pa.Array) -> pa.Array:
    """Return strings with every space removed; empty strings become null."""
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        values = pc.cast(values, pa.string())
    # Literal replaces are much faster than a regex over a million values.
    cleaned = _without(values, SPACES)
    return pc.if_else(pc.equal(cleaned, ""), pa.scalar(None, pa.string()), cleaned)


def day(values: pa.Array) -> pa.Array:
    """Return dates as YYYYMMDD integers from numbers or text with any separators."""
    if pa.types.is_integer(values.type):
        numbers = pc.cast(values, pa.int64())
    else:
        digits = _without(pc.cast(values, pa.string()), DATE_SEPARATORS)
        eight = pc.equal(pc.utf8_length(digits), 8)
        numbers = pc.cast(pc.if_else(eight, digits, pa.scalar(None, pa.string())), pa.int64())
    month = pc.divide(pc.subtract(numbers, pc.multiply(pc.divide(numbers, 10000), 10000)), 100)
    ok = pc.and_(pc.greater_equal(month, 1), pc.less_equal(month, 12))
    return pc.cast(pc.if_else(ok, numbers, pa.scalar(None, pa.int64())), pa.int32())


def sex(values: pa.Array) -> pa.Array:
    """Return sex as 1 (male) or 2 (female), null when unknown."""
    keys = pa.array(list(SEX_CODES))
    codes = pa.array(list(SEX_CODES.values()), pa.int8())
    at = pc.index_in(text(values), value_set=keys)
    return codes.take(at)


def _keys(table: pa.Table, spec: SourceSpec) -> pa.Array:
    """Return the records' keys as text (their row numbers when the table has no key)."""
    if spec.key in table.column_names:
        return pc.cast(table[spec.key].combine_chunks(), pa.string())
    return pc.cast(pa.array(np.arange(table.num_rows)), pa.string())


def canonical_people(spec: SourceSpec, table: pa.Table, source: int) -> pa.Table:
    """Return one department's person records in canonical columns.

    ``source`` numbers the department among those resolved together; ``row`` is the
    record's position in its table, so every result points back to its input row.
    """
    n = table.num_rows
    ids = text(_column(table, spec, "id_number", pa.string()))
    ids = pc.utf8_upper(ids)
    return pa.table(
        {
            "source": pa.array(np.full(n, source, dtype=np.int16)),
            "row": pa.array(np.arange(n, dtype=np.int64)),
            "record_key": _keys(table, spec),
            "id_number": ids,
            "id_valid": pa.array(ric_valid(ids)),
            "name": text(_column(table, spec, "name", pa.string())),
            "sex": sex(_column(table, spec, "sex", pa.string())),
            "birth_date": day(_column(table, spec, "birth_date", pa.string())),
            "address": text(_column(table, spec, "address", pa.string())),
            "updated": day(_column(table, spec, "updated", pa.string())),
        }
    )


def canonical_companies(spec: SourceSpec, table: pa.Table, source: int) -> pa.Table:
    """Return one department's company records in canonical columns.

    The credit code plays the ID's part (``id_number``); sex and birth date are empty, so
    matching falls back on the code, the name and the address.
    """
    n = table.num_rows
    codes = pc.utf8_upper(text(_column(table, spec, "code", pa.string())))
    return pa.table(
        {
            "source": pa.array(np.full(n, source, dtype=np.int16)),
            "row": pa.array(np.arange(n, dtype=np.int64)),
            "record_key": _keys(table, spec),
            "id_number": codes,
            "id_valid": pa.array(uscc_valid(codes)),
            "name": text(_column(table, spec, "name", pa.string())),
            "sex": pa.nulls(n, pa.int8()),
            "birth_date": pa.nulls(n, pa.int32()),
            "address": text(_column(table, spec, "address", pa.string())),
            "updated": day(_column(table, spec, "updated", pa.string())),
            "rep_id_number": pc.utf8_upper(
                text(_column(table, spec, "rep_id_number", pa.string()))
            ),
        }
    )


def canonical_vehicles(spec: SourceSpec, table: pa.Table, source: int) -> pa.Table:
    """Return one department's vehicle records: the plate as key, owner code, name, address."""
    n = table.num_rows
    plates = pc.utf8_upper(_without(text(_column(table, spec, "plate", pa.string())), ("·",)))
    valid = pc.fill_null(pc.match_substring_regex(plates, PLATE), False)
    return pa.table(
        {
            "source": pa.array(np.full(n, source, dtype=np.int16)),
            "row": pa.array(np.arange(n, dtype=np.int64)),
            "record_key": _keys(table, spec),
            "id_number": plates,
            "id_valid": valid,
            "name": text(_column(table, spec, "name", pa.string())),
            "sex": pa.nulls(n, pa.int8()),
            "birth_date": pa.nulls(n, pa.int32()),
            "address": text(_column(table, spec, "address", pa.string())),
            "updated": day(_column(table, spec, "updated", pa.string())),
            "owner_code": pc.utf8_upper(text(_column(table, spec, "owner_code", pa.string()))),
        }
    )
