"""Read a file source chunk by chunk: CSV and JSON lines streamed, XLSX whole then sliced.

A load never holds a whole CSV or JSON lines file: pyarrow's streaming CSV reader (or a
block reader for JSON lines) hands over ``CHUNK_ROWS`` rows at a time, each chunk with the
file's own row numbers and the rows that could not be read at all. The encoding (UTF-8,
else GB18030) is settled by one pass over the bytes before reading; GB18030 is transcoded
on the fly. A source is given as bytes or as a file on disk (the CLI's file, an upload
spooled to a temporary file); ``read(n)`` is told how many bytes were consumed so far.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from opencitybrain.catalog.load_model import MAX_ROWS, LoadFormat, Quarantined
from opencitybrain.catalog.load_sources import (
    Decoded,
    Ints,
    jsonl_block,
    read_xlsx,
    unique,
    unreadable,
)

Input = bytes | Path
Told = Callable[[int], None]
CHUNK_ROWS = 100_000
_BOM = b"\xef\xbb\xbf"
_BLOCK = 1 << 20


def _ignore(n: int) -> None:
    """Ignore progress."""


def _too_many() -> Exception:
    return unreadable("file", f"行数超过上限 {MAX_ROWS}", f"more than {MAX_ROWS} rows")


def input_size(data: Input) -> int:
    """Return the size of a source in bytes."""
    return len(data) if isinstance(data, bytes) else data.stat().st_size


def _open(data: Input) -> Any:
    return pa.BufferReader(data) if isinstance(data, bytes) else pa.OSFile(str(data))


def decode_chunks(
    data: Input,
    fmt: LoadFormat,
    sheet: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    read: Told = _ignore,
) -> Iterator[Decoded]:
    """Yield a file's rows in chunks of ``chunk_rows`` (at least one chunk, maybe empty)."""
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be positive")
    if fmt is LoadFormat.CSV:
        yield from _csv_chunks(data, chunk_rows, read)
    elif fmt is LoadFormat.JSONL:
        yield from _jsonl_chunks(data, chunk_rows, read)
    elif fmt is LoadFormat.XLSX:
        raw = data if isinstance(data, bytes) else data.read_bytes()
        whole = read_xlsx(raw, sheet)
        read(len(raw))
        yield from slices(whole, chunk_rows)
    else:
        raise unreadable("format", "文件格式不支持", f"{fmt.value} is not a file format")


def slices(whole: Decoded, chunk_rows: int) -> Iterator[Decoded]:
    """Yield a source read whole as chunks (its unreadable rows with the first chunk)."""
    n = whole.table.num_rows
    for start in range(0, max(n, 1), chunk_rows):
        yield Decoded(
            whole.table.slice(start, chunk_rows),
            whole.rows[start : start + chunk_rows],
            whole.rejected if start == 0 else [],
            whole.encoding,
        )


def sniff_encoding(data: Input) -> tuple[str, int]:
    """Return the encoding (utf-8 or gb18030) and the byte-order mark's length, or raise."""
    with _open(data) as f:
        head = f.read(len(_BOM))
        if head == _BOM:
            return "utf-8", len(_BOM)
        f.seek(0)
        decoder: codecs.IncrementalDecoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while block := f.read(_BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
            return "utf-8", 0
        except UnicodeDecodeError:
            pass
        f.seek(0)
        decoder = codecs.getincrementaldecoder("gb18030")()
        try:
            while block := f.read(_BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise unreadable(
                "file", "文件编码无法识别（须为 UTF-8 或 GBK/GB18030）", "not UTF-8 nor GBK/GB18030"
            ) from None
    return "gb18030", 0


# --- CSV ------------------------------------------------------------------------------


def _csv_header(f: Any, encoding: str, start: int) -> list[str]:
    """Return the header's names as written (the first line), or raise."""
    head = f.read(1 << 20)
    f.seek(start)
    if not head.strip():
        raise unreadable("file", "文件为空", "the file is empty")
    first = head.split(b"\n", 1)[0].decode(encoding, "replace").rstrip("\r")
    names = next(csv.reader([first]), [])
    if not names or not any(n.strip() for n in names):
        raise unreadable("file", "文件首行须为列名", "the first line must name the columns")
    unique([n.strip() for n in names])
    return names


class _Numbers:
    """The file's row number of each good row, from the numbers of the bad rows so far.

    A good row's number is its ordinal among good rows plus the bad rows before it; bad
    rows are reported while their block is parsed, before any later good row is handed
    over, so every bad row before a good row is known when that row is numbered.
    """

    def __init__(self) -> None:
        self.good = 0  # good rows numbered so far
        self.passed = 0  # bad rows before the last numbered good row (forgotten)
        self.bad: list[int] = []  # the later bad rows' numbers, ascending

    def next(self, n: int) -> Ints:
        """Return the row numbers of the next ``n`` good rows."""
        k = np.arange(self.good + 1, self.good + n + 1, dtype=np.int64)
        self.good += n
        bad = np.array(self.bad, dtype=np.int64)
        shifted = bad - np.arange(self.passed, self.passed + len(bad), dtype=np.int64)
        rows = k + self.passed + np.searchsorted(shifted, k, side="right")
        if n:
            keep = bad > rows[-1]
            self.passed += int((~keep).sum())
            self.bad = bad[keep].tolist()
        return rows


def _csv_chunks(data: Input, chunk_rows: int, read: Told) -> Iterator[Decoded]:
    encoding, start = sniff_encoding(data)
    rejected: list[Quarantined] = []
    numbers = _Numbers()

    def keep(row: Any) -> str:
        number = int(row.number) - 1  # the header is line 1
        numbers.bad.append(number)
        rejected.append(
            Quarantined(
                number,
                "",
                f"列数为 {row.actual_columns}，应为 {row.expected_columns} / "
                f"{row.actual_columns} columns, {row.expected_columns} expected",
                {"_line": str(row.text)[:2000]},
            )
        )
        return "skip"

    with _open(data) as f:
        f.seek(start)
        names = _csv_header(f, encoding, start)
        try:
            reader = pa_csv.open_csv(
                f,
                read_options=pa_csv.ReadOptions(
                    use_threads=False,  # so the bad rows' numbers are known
                    block_size=_BLOCK,
                    encoding="utf8" if encoding == "utf-8" else encoding,  # utf8: no transcoding
                ),
                parse_options=pa_csv.ParseOptions(
                    invalid_row_handler=keep, newlines_in_values=True
                ),
                convert_options=pa_csv.ConvertOptions(
                    column_types={n: pa.string() for n in names},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
            stripped = [n.strip() for n in reader.schema.names]
            pending: list[Any] = []
            held = 0
            emitted = False
            total = 0
            for raw in reader:
                batch = pa.RecordBatch.from_arrays(raw.columns, names=stripped)
                pending.append(batch)
                held += batch.num_rows
                total += batch.num_rows
                if total + len(numbers.bad) + numbers.passed > MAX_ROWS:
                    raise _too_many()
                read(f.tell())
                while held >= chunk_rows:
                    table = pa.Table.from_batches(pending)
                    chunk, rest = table.slice(0, chunk_rows), table.slice(chunk_rows)
                    pending, held = rest.to_batches(), rest.num_rows
                    yield _csv_chunk(chunk, numbers, rejected, encoding, last=False)
                    emitted = True
            if held or not emitted or rejected:
                schema = pa.schema([(n, pa.string()) for n in stripped])
                table = pa.Table.from_batches(pending, schema=schema if not pending else None)
                yield _csv_chunk(table, numbers, rejected, encoding, last=True)
        except pa.ArrowInvalid as exc:
            raise unreadable(
                "file", "CSV 文件无法解析", f"unreadable CSV: {str(exc)[:200]}"
            ) from None


def _csv_chunk(
    table: pa.Table, numbers: _Numbers, rejected: list[Quarantined], encoding: str, last: bool
) -> Decoded:
    rows = numbers.next(table.num_rows)
    if last or not len(rows):
        mine = sorted(rejected, key=lambda q: q.row)
        rejected.clear()
    else:
        mine = sorted((q for q in rejected if q.row < rows[-1]), key=lambda q: q.row)
        rejected[:] = [q for q in rejected if q.row > rows[-1]]
    return Decoded(table.combine_chunks(), rows, mine, encoding)


# --- JSON lines -----------------------------------------------------------------------


def _jsonl_chunks(data: Input, chunk_rows: int, read: Told) -> Iterator[Decoded]:
    encoding, start = sniff_encoding(data)
    decoder = codecs.getincrementaldecoder(encoding)() if encoding != "utf-8" else None
    lines: list[bytes] = []
    first = 1  # the line number of lines[0]
    carry = b""
    emitted = False
    with _open(data) as f:
        f.seek(start)
        while True:
            block = f.read(_BLOCK)
            if decoder is not None:
                block = decoder.decode(block, final=not block).encode("utf-8")
            read(f.tell())
            if not block:
                break
            parts = (carry + block).split(b"\n")
            carry = parts.pop()
            lines.extend(parts)
            while len(lines) >= chunk_rows:
                if first + chunk_rows > MAX_ROWS + 1:
                    raise _too_many()
                yield jsonl_block(lines[:chunk_rows], first, encoding)
                emitted = True
                del lines[:chunk_rows]
                first += chunk_rows
    if carry:
        lines.append(carry)
    if lines or not emitted:
        if first + len(lines) > MAX_ROWS + 1:
            raise _too_many()
        yield jsonl_block(lines, first, encoding)


# --- whole sources (tests, small files) ------------------------------------------------


def read_whole(data: Input, fmt: LoadFormat, sheet: str | None = None) -> Decoded:
    """Read a whole file into one ``Decoded`` (its chunks put together)."""
    chunks = list(decode_chunks(data, fmt, sheet))
    table = pa.concat_tables([c.table for c in chunks], promote_options="default")
    rows = np.concatenate([c.rows for c in chunks]).astype(np.int64)
    rejected = [q for c in chunks for q in c.rejected]
    return Decoded(table, rows, rejected, chunks[0].encoding)


def read_csv(data: Input) -> Decoded:
    """Read CSV text (a header line, then rows) into string columns, whole."""
    return read_whole(data, LoadFormat.CSV)


def read_jsonl(data: Input) -> Decoded:
    """Read JSON lines into string columns, whole (a bad line quarantined)."""
    return read_whole(data, LoadFormat.JSONL)
