"""Parse and check a text column as a field's data type, a whole column at a time.

Each parser takes trimmed text (null where the source cell was empty) and returns the
typed column (null where the value is bad) and which rows are bad. Everything runs in
Arrow or NumPy kernels except GeoJSON, which is parsed value by value (geometry columns
are few and short). The identity-code rules are the registry's (``registry.idcodes``,
``registry.normalize.PLATE``), so a code the loader lands is one the registry accepts.

Conventions: a date is ``YYYY-MM-DD`` (also ``/``, ``.``, ``年月日`` or 8 digits); a
date-time is ISO 8601 with ``T`` or a space, seconds and fraction optional, and a time
without an offset is China time (UTC+8) — the platform's wall clock.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from opencitybrain.catalog.model import DataType
from opencitybrain.registry.idcodes import fixed_width, ric_valid, uscc_valid
from opencitybrain.registry.normalize import PLATE

Bools = npt.NDArray[np.bool_]
Parser = Callable[[Any], tuple[Any, Bools]]
MAX_TEXT = 10_000
TRUE = ["true", "t", "yes", "y", "1", "是", "真"]
FALSE = ["false", "f", "no", "n", "0", "否", "假"]
_GEOMETRIES = {
    "Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2,
    "Polygon": 2, "MultiPolygon": 3,
}  # fmt: skip

REASONS: dict[DataType, str] = {
    DataType.STRING: f"文本超过 {MAX_TEXT} 字 / text longer than {MAX_TEXT}",
    DataType.INTEGER: "不是整数 / not an integer",
    DataType.DECIMAL: "不是数值 / not a number",
    DataType.BOOLEAN: "不是布尔值（是/否、true/false、1/0）/ not a boolean",
    DataType.DATE: "不是有效日期 / not a valid date",
    DataType.DATETIME: "不是有效时间 / not a valid date-time",
    DataType.CITIZEN_ID: "公民身份号码校验失败（GB 11643）/ not a valid citizen ID (GB 11643)",
    DataType.USCC: "统一社会信用代码校验失败（GB 32100）/ not a valid credit code (GB 32100)",
    DataType.PLATE: "号牌号码格式错误（GA 36）/ not a valid plate number (GA 36)",
    DataType.MOBILE: "手机号码格式错误 / not a mobile number",
    DataType.GEOMETRY: "不是有效的 GeoJSON 几何（WGS-84）/ not a GeoJSON geometry (WGS-84)",
}


def _np(mask: Any) -> Bools:
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _bad_where(values: Any, ok: Any) -> Bools:
    """Return rows with a value that is not ok (null values are never bad here)."""
    return _np(pc.and_(pc.is_valid(values), pc.invert(pc.fill_null(ok, False))))


def _keep(values: Any, ok: Any) -> Any:
    return pc.if_else(pc.fill_null(ok, False), values, pa.scalar(None, values.type))


def parse_string(values: Any) -> tuple[Any, Bools]:
    """Keep text up to ``MAX_TEXT`` characters."""
    ok = pc.less_equal(pc.utf8_length(values), MAX_TEXT)
    return _keep(values, ok), _bad_where(values, ok)


def parse_integer(values: Any) -> tuple[Any, Bools]:
    """Parse whole numbers (at most 18 digits, so they fit 64 bits)."""
    ok = pc.match_substring_regex(values, r"^[+-]?[0-9]{1,18}$")
    unsigned = pc.replace_substring_regex(_keep(values, ok), r"^\+", "")
    return pc.cast(unsigned, pa.int64()), _bad_where(values, ok)


def parse_decimal(values: Any) -> tuple[Any, Bools]:
    """Parse decimal numbers (stored as 64-bit floats)."""
    ok = pc.match_substring_regex(
        values, r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?$"
    )
    unsigned = pc.replace_substring_regex(_keep(values, ok), r"^\+", "")
    return pc.cast(unsigned, pa.float64()), _bad_where(values, ok)


def parse_boolean(values: Any) -> tuple[Any, Bools]:
    """Parse 是/否, true/false, yes/no, 1/0 (any case)."""
    lower = pc.utf8_lower(values)
    ok = pc.is_in(lower, pa.array(TRUE + FALSE))
    return _keep(pc.is_in(lower, pa.array(TRUE)), ok), _bad_where(values, ok)


_DATE = (
    r"(?P<y>[0-9]{4})(?:[-/.年](?P<m>[0-9]{1,2})[-/.月](?P<d>[0-9]{1,2})日?"
    r"|(?P<m2>[0-9]{2})(?P<d2>[0-9]{2}))"
)
_MIDNIGHT = r"(?:[T ]00:00(?::00(?:\.0+)?)?)?"
_DATETIME = (
    r"^(?P<y>[0-9]{4})[-/](?P<m>[0-9]{1,2})[-/](?P<d>[0-9]{1,2})"
    r"(?:[T ](?P<h>[0-9]{1,2}):(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2})(?:[.,](?P<f>[0-9]{1,9}))?)?)?"
    r"\s*(?P<tz>[Zz]|[+-][0-9]{2}:?[0-9]{2})?$"
)
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
Ints = npt.NDArray[np.int64]


def _ints(parts: Any, name: str, default: int = 0) -> Ints:
    """Return a group of an ``extract_regex`` result as integers ("" and null: default)."""
    text = pc.fill_null(parts.field(name), "")
    text = pc.if_else(pc.equal(text, ""), str(default), text)
    return np.asarray(pc.cast(text, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def _days(y: Ints, m: Ints, d: Ints) -> tuple[Ints, Bools]:
    """Return days since 1970-01-01 for year/month/day, and which triples are real dates."""
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    last = _MONTH_DAYS[np.clip(m, 0, 12)] + ((m == 2) & leap)
    ok = (y >= 1) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= last)
    months = np.where(ok, (y - 1970) * 12 + m - 1, 0).astype("datetime64[M]")
    days = months.astype("datetime64[D]").astype(np.int64) + np.where(ok, d - 1, 0)
    return days, np.asarray(ok, dtype=bool)


def _fixed(values: Any, width: int, seps: dict[int, bytes]) -> tuple[Any, Bools]:
    """Return the digit values of ``width``-byte values with separators at ``seps``.

    The fast path for the spelling nearly every file uses (``2024-01-02``,
    ``2024-01-02 08:30:00``): a byte matrix, no regex. Rows that do not fit take the
    regex path.
    """
    m, fits = fixed_width(values, width)
    digits = m - np.uint8(48)  # bytes below "0" wrap round to large values
    for pos, allowed in seps.items():
        fits &= np.isin(m[:, pos], np.frombuffer(allowed, dtype=np.uint8))
    cols = [j for j in range(width) if j not in seps]
    fits &= (digits[:, cols] <= 9).all(axis=1)
    return digits, np.asarray(fits, dtype=bool)


def _number(digits: Any, a: int, b: int) -> Ints:
    out = np.zeros(len(digits), dtype=np.int64)
    for j in range(a, b):
        out = out * 10 + digits[:, j].astype(np.int64)
    return out


def _slow(values: Any, rows: Ints, pattern: str) -> Any:
    """Return ``extract_regex`` over the given rows only."""
    return pc.extract_regex(values.take(pa.array(rows)), pattern)


def parse_date(values: Any) -> tuple[Any, Bools]:
    """Parse dates: arithmetic on the parts, so an impossible day is refused, not rolled."""
    digits, fast = _fixed(values, 10, {4: b"-/", 7: b"-/"})
    y, m, d = _number(digits, 0, 4), _number(digits, 5, 7), _number(digits, 8, 10)
    matched = fast.copy()
    rest = np.flatnonzero(~fast & _np(pc.is_valid(values)))
    if len(rest):
        parts = _slow(values, rest, f"^{_DATE}{_MIDNIGHT}$")
        matched[rest] = _np(pc.is_valid(parts))
        y[rest] = _ints(parts, "y")
        m[rest] = np.where(_ints(parts, "m") > 0, _ints(parts, "m"), _ints(parts, "m2"))
        d[rest] = np.where(_ints(parts, "d") > 0, _ints(parts, "d"), _ints(parts, "d2"))
    days, real = _days(y, m, d)
    ok = matched & real
    typed = pa.array(days.astype(np.int32), pa.date32(), mask=~ok)
    return typed, _bad_where(values, pa.array(ok))


def parse_datetime(values: Any) -> tuple[Any, Bools]:
    """Parse ISO 8601 date-times; no offset means China time (UTC+8)."""
    seps = {4: b"-/", 7: b"-/", 10: b"T ", 13: b":", 16: b":"}
    digits, fast = _fixed(values, 19, seps)
    y, m, d = _number(digits, 0, 4), _number(digits, 5, 7), _number(digits, 8, 10)
    h, mi, sec = _number(digits, 11, 13), _number(digits, 14, 16), _number(digits, 17, 19)
    micros = np.zeros(len(values), dtype=np.int64)
    offset = np.full(len(values), 8 * 60, dtype=np.int64)  # minutes east of UTC
    matched = fast.copy()
    rest = np.flatnonzero(~fast & _np(pc.is_valid(values)))
    if len(rest):
        p = _slow(values, rest, _DATETIME)
        matched[rest] = _np(pc.is_valid(p))
        for target, name in ((y, "y"), (m, "m"), (d, "d"), (h, "h"), (mi, "mi"), (sec, "s")):
            target[rest] = _ints(p, name)
        frac = pc.utf8_rpad(pc.fill_null(p.field("f"), ""), width=6, padding="0")
        frac = pc.cast(pc.utf8_slice_codeunits(frac, 0, 6), pa.int64())
        micros[rest] = np.asarray(frac.to_numpy(zero_copy_only=False), dtype=np.int64)
        tz = pc.replace_substring(pc.utf8_upper(pc.fill_null(p.field("tz"), "")), ":", "")
        tz = pc.if_else(pc.equal(tz, ""), "+0800", pc.if_else(pc.equal(tz, "Z"), "+0000", tz))
        hhmm = pc.cast(pc.utf8_slice_codeunits(tz, 1, 5), pa.int64()).to_numpy(zero_copy_only=False)
        hhmm = np.asarray(hhmm, dtype=np.int64)
        sign = np.where(_np(pc.starts_with(tz, "-")), -1, 1)
        offset[rest] = np.where(hhmm % 100 < 60, sign * ((hhmm // 100) * 60 + hhmm % 100), 10**6)
    days, real = _days(y, m, d)
    ok = matched & real & (h < 24) & (mi < 60) & (sec < 60) & (np.abs(offset) < 24 * 60)
    seconds = days * 86_400 + h * 3600 + mi * 60 + sec - offset * 60
    stamps = np.where(ok, seconds * 1_000_000 + micros, 0)
    typed = pa.array(stamps, pa.timestamp("us", tz="UTC"), mask=~ok)
    return typed, _bad_where(values, pa.array(ok))


def _codes(check: Callable[[Any], Bools]) -> Parser:
    def parse(values: Any) -> tuple[Any, Bools]:
        upper = pc.utf8_upper(values)
        ok = pa.array(check(upper))
        return _keep(upper, ok), _bad_where(values, ok)

    return parse


def _tidy_misses(values: Any, pattern: str, tidy: Callable[[Any], Any]) -> tuple[Any, Any]:
    """Return values matching ``pattern`` as they are, the rest tidied first, and which match.

    Most values are already tidy; only the others pay for the tidying regexes.
    """
    ok = pc.fill_null(pc.match_substring_regex(values, pattern), False)
    if _np(pc.and_(pc.is_valid(values), pc.invert(ok))).any():
        tidied = tidy(values)
        values = pc.if_else(ok, values, tidied)
        ok = pc.fill_null(pc.match_substring_regex(values, pattern), False)
    return values, ok


def parse_plate(values: Any) -> tuple[Any, Bools]:
    """Parse plate numbers (GA 36), dropping the middle dot and spaces people write."""

    def tidy(v: Any) -> Any:
        return pc.replace_substring_regex(pc.utf8_upper(v), r"[·•・\- ]", "")

    plate, ok = _tidy_misses(values, PLATE, tidy)
    return _keep(plate, ok), _bad_where(values, ok)


def parse_mobile(values: Any) -> tuple[Any, Bools]:
    """Parse mainland mobile numbers (11 digits, 1[3-9]…), an optional +86 dropped."""

    def tidy(v: Any) -> Any:
        digits = pc.replace_substring_regex(v, r"[\s\-()]", "")
        return pc.replace_substring_regex(digits, r"^(\+86|0086|86)(1[0-9]{10})$", r"\2")

    digits, ok = _tidy_misses(values, r"^1[3-9][0-9]{9}$", tidy)
    return _keep(digits, ok), _bad_where(values, ok)


def _positions(coords: Any, depth: int) -> bool:
    if depth == 0:
        return (
            isinstance(coords, list)
            and len(coords) in (2, 3)
            and all(isinstance(c, int | float) and not isinstance(c, bool) for c in coords)
            and all(math.isfinite(c) for c in coords)
            and -180 <= coords[0] <= 180
            and -90 <= coords[1] <= 90
        )
    return (
        isinstance(coords, list) and bool(coords) and all(_positions(c, depth - 1) for c in coords)
    )


def geometry_text(value: str) -> str | None:
    """Return a GeoJSON geometry as compact JSON, or None if it is not one."""
    try:
        geo = json.loads(value)
    except ValueError:
        return None
    if not isinstance(geo, dict):
        return None
    depth = _GEOMETRIES.get(str(geo.get("type")))
    if depth is None or not _positions(geo.get("coordinates"), depth):
        return None
    return json.dumps(
        {"type": geo["type"], "coordinates": geo["coordinates"]}, separators=(",", ":")
    )


def parse_geometry(values: Any) -> tuple[Any, Bools]:
    """Parse GeoJSON geometries (WGS-84 positions)."""
    out = [None if v is None else geometry_text(v) for v in values.to_pylist()]
    typed = pa.array(out, pa.string())
    bad = np.asarray(
        pc.and_(pc.is_valid(values), pc.is_null(typed)).to_numpy(zero_copy_only=False), dtype=bool
    )
    return typed, bad


PARSERS: dict[DataType, Parser] = {
    DataType.STRING: parse_string,
    DataType.INTEGER: parse_integer,
    DataType.DECIMAL: parse_decimal,
    DataType.BOOLEAN: parse_boolean,
    DataType.DATE: parse_date,
    DataType.DATETIME: parse_datetime,
    DataType.CITIZEN_ID: _codes(ric_valid),
    DataType.USCC: _codes(uscc_valid),
    DataType.PLATE: parse_plate,
    DataType.MOBILE: parse_mobile,
    DataType.GEOMETRY: parse_geometry,
}
