"""Read a load's source into text columns: the pieces shared by every format, XLSX, and
a block of JSON lines (streaming itself is :mod:`catalog.load_stream`).

Every source becomes Arrow tables of ``string`` columns named as in the source, with
the row number of each row (1 = the first data row) and the rows that could not be read
at all (a CSV line with the wrong number of columns, a line that is not a JSON object),
which go to quarantine like any other bad row. Checking the values is the next step
(:mod:`catalog.load_checks`), column by column.

CSV and JSON lines are decoded by pyarrow (C++), not row by row in Python. A file is
UTF-8 (with or without a byte-order mark) or else GB18030, the superset of GBK that
Chinese spreadsheets export.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.json as pa_json

from opencitybrain.catalog.load_model import MAX_ROWS, Quarantined
from opencitybrain.kernel.errors import FieldError, InvalidInput

Ints = npt.NDArray[np.int64]


@dataclass
class Decoded:
    """A source read into text columns."""

    table: pa.Table  # string columns, source names
    rows: Ints  # the row number of each table row
    rejected: list[Quarantined] = field(default_factory=list)
    encoding: str = ""


def unreadable(what: str, zh: str, en: str) -> InvalidInput:
    """Return the error for a source that cannot be read at all."""
    return InvalidInput("catalog.load_unreadable", zh, en, (FieldError(what, en),))


def unique(names: Sequence[str]) -> None:
    """Raise if a column name repeats."""
    seen = {n for n in names if list(names).count(n) > 1}
    if seen:
        raise unreadable(
            "file", f"列名重复：{', '.join(sorted(seen))}", f"repeated columns: {sorted(seen)}"
        )


# --- XLSX -----------------------------------------------------------------------------


def text(value: object) -> str | None:
    """Return a cell or column value as text the checks parse back (dates as ISO)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


def columns_of(names: list[str], rows: Iterable[Sequence[object]]) -> pa.Table:
    """Return string columns from rows of values (rows shorter than the header padded)."""
    cols: list[list[str | None]] = [[] for _ in names]
    width = len(names)
    for row in rows:
        for j in range(width):
            cols[j].append(text(row[j]) if j < len(row) else None)
    return pa.table({n: pa.array(c, pa.string()) for n, c in zip(names, cols, strict=True)})


def read_xlsx(data: bytes, sheet: str | None) -> Decoded:
    """Read the first (or the named) sheet: a header row, then rows."""
    import openpyxl  # type: ignore[import-untyped]  # slow to import; XLSX loads only

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a bad file
        raise unreadable("file", "XLSX 文件无法解析", f"unreadable XLSX: {exc!s:.200}") from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise unreadable("sheet", f"没有工作表 {sheet}", f"no sheet {sheet!r}")
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        it = ws.iter_rows(values_only=True)
        header: list[str] = []
        for values in it:
            if any(v not in (None, "") for v in values):
                header = [str(v).strip() if v is not None else "" for v in values]
                break
        while header and not header[-1]:
            header.pop()
        if not header:
            raise unreadable("file", "工作表首行须为列名", "the first row must name the columns")
        unique(header)
        kept: list[Sequence[object]] = []
        numbers: list[int] = []
        rejected: list[Quarantined] = []
        for n, values in enumerate(it, start=1):
            if not any(v not in (None, "") for v in values):
                continue
            if any(v not in (None, "") for v in values[len(header) :]):
                raw = {f"_{j + 1}": text(v) for j, v in enumerate(values)}
                rejected.append(Quarantined(n, "", "单元格多于列名 / more cells than columns", raw))
                continue
            kept.append(values)
            numbers.append(n)
            if len(kept) + len(rejected) > MAX_ROWS:
                raise unreadable("file", f"行数超过上限 {MAX_ROWS}", f"more than {MAX_ROWS} rows")
    finally:
        book.close()
    return Decoded(columns_of(header, kept), np.array(numbers, dtype=np.int64), rejected)


# --- JSON lines -----------------------------------------------------------------------


def jsonl_block(lines: list[bytes], first: int, encoding: str) -> Decoded:
    """Read JSON lines (UTF-8; ``first`` the number of the first) into text columns.

    pyarrow's reader when every line is an object of consistent types; otherwise line by
    line, a bad line quarantined, not fatal.
    """
    if lines and all(line.strip() for line in lines):
        try:
            table = pa_json.read_json(io.BytesIO(b"\n".join(lines)))
        except pa.ArrowInvalid:
            table = None
        if table is not None and table.num_rows == len(lines):
            cols = {name: _as_text(table.column(name)) for name in table.column_names}
            rows = np.arange(first, first + table.num_rows, dtype=np.int64)
            return Decoded(pa.table(cols) if cols else table, rows, [], encoding)
    return _jsonl_slowly(lines, first, encoding)


def _as_text(column: Any) -> Any:
    """Return a JSON column as text: scalars cast in C++, objects and lists as JSON."""
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return column
    if pa.types.is_null(kind):
        return pa.nulls(len(column), pa.string())
    if pa.types.is_struct(kind) or pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return pa.array([text(v) for v in column.to_pylist()], pa.string())
    if pa.types.is_boolean(kind):
        return pa.array([text(v) for v in column.to_pylist()], pa.string())
    if pa.types.is_floating(kind):
        return pa.array([text(v) for v in column.to_pylist()], pa.string())
    if pa.types.is_timestamp(kind):  # pyarrow reads ISO strings as timestamps
        return pa.array([text(v) for v in column.to_pylist()], pa.string())
    return column.cast(pa.string())


def _jsonl_slowly(lines: list[bytes], first: int, encoding: str) -> Decoded:
    """Read JSON lines one by one: what pyarrow refuses (a bad line, mixed types)."""
    names: dict[str, None] = {}
    objects: list[dict[str, object]] = []
    numbers: list[int] = []
    rejected: list[Quarantined] = []
    for n, line in enumerate(lines, start=first):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raw: dict[str, str | None] = {"_line": line.decode("utf-8", "replace")[:2000]}
            rejected.append(Quarantined(n, "", "不是 JSON 对象 / not a JSON object", raw))
            continue
        names.update(dict.fromkeys(value))
        objects.append(value)
        numbers.append(n)
    order = list(names)
    table = columns_of(order, ([o.get(k) for k in order] for o in objects))
    return Decoded(table, np.array(numbers, dtype=np.int64), rejected, encoding)
