"""Write canonical values in a department's own code style (sex codes, dates, names, IDs)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

SEX_STYLES: dict[str, tuple[str, str]] = {
    "1/2": ("1", "2"),  # GB/T 2261.1
    "男/女": ("男", "女"),
    "M/F": ("M", "F"),
}
# Date styles: the separator between year, month and day ("int" keeps YYYYMMDD as a number).
DATE_STYLES: dict[str, str | None] = {
    "YYYYMMDD": "",
    "YYYY-MM-DD": "-",
    "YYYY/MM/DD": "/",
    "YYYY.MM.DD": ".",
    "int": None,
}
IDEOGRAPHIC_SPACE = "\u3000"


def sex(values: pa.Array, style: str) -> pa.Array:
    """Return sex codes 1/2 written in ``style``."""
    male, female = SEX_STYLES[style]
    return pc.if_else(pc.equal(values, 1), male, pc.if_else(pc.equal(values, 2), female, None))


def day(values: pa.Array, style: str) -> pa.Array:
    """Return YYYYMMDD integers written in ``style``."""
    sep = DATE_STYLES[style]
    if sep is None:
        return values.cast(pa.int32())
    text = pc.cast(values, pa.string())
    if not sep:
        return text
    parts = [pc.utf8_slice_codeunits(text, a, b) for a, b in ((0, 4), (4, 6), (6, 8))]
    return pc.binary_join_element_wise(parts[0], parts[1], parts[2], sep)


def name(values: pa.Array, style: str) -> pa.Array:
    """Return names as is ("plain"), or two-character names padded with a full-width space."""
    if style == "plain":
        return values
    two = pc.equal(pc.utf8_length(values), 2)
    padded = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(values, 0, 1),
        pc.utf8_slice_codeunits(values, 1, 2),
        IDEOGRAPHIC_SPACE,
    )
    return pc.if_else(two, padded, values)


def code(values: pa.Array, style: str) -> pa.Array:
    """Return identity codes upper-case ("upper") or with a lower-case x ("lower")."""
    return pc.utf8_lower(values) if style == "lower" else values
