"""k-anonymity by generalisation ladders and a greedy search, vectorised over columns.

Each quasi-identifier (QI) gets a ladder of ever coarser levels, chosen by its data type:

- date / datetime: (datetime →) date → year-month → year → ``*``;
- integer / decimal: the exact value → ranges ``[lo, hi)`` of growing "nice" widths
  (1, 2, 5 × 10ⁿ, from about a 500th of the span until one range holds every value) → ``*``;
- code-like text (every value the same length, letters and digits only — region codes,
  classification codes): shorter prefixes, two characters at a time (``360102`` →
  ``3601**`` → ``36****``) → ``*``;
- other text and booleans (categorical): the exact value → ``*``.

Every level is held as integer codes per row plus the labels of the distinct codes, so
the search never touches a value in Python: a class is a combination of codes, sized
with ``np.unique``/``np.bincount``. The greedy search starts with every QI exact and,
while the rows in classes smaller than ``k`` are more than the suppression limit, raises
the QI that has the most distinct values at its current level. Rows of classes still
smaller than ``k`` are suppressed. Every released class then has at least ``k`` rows,
and released + suppressed = input, whatever the table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from opencitybrain.catalog.model import DataType

Codes = npt.NDArray[np.int64]
Level = tuple[Codes, list[str | None]]  # codes per row, label per code
_CODE_RE = "^[0-9A-Za-z]+$"
_SPAN_STEPS = 500


@dataclass(frozen=True, slots=True)
class Ladder:
    """A QI's levels, finest first; the last is ``*``. Levels are built on first use."""

    name: str
    level_names: tuple[str, ...]
    build: tuple[Callable[[], Level], ...]


@dataclass(frozen=True, slots=True)
class KAnonResult:
    """The generalised table and what the search chose and achieved."""

    table: pa.Table  # released rows: QI labels (text) and the attributes as given
    levels: dict[str, str]  # QI -> level name chosen
    level_index: dict[str, int]
    k_achieved: int  # smallest class among released rows (0: nothing released)
    suppressed: int
    released: int
    classes: int
    within_limit: bool  # suppressed <= max_suppression × input


def _factor(arr: pa.Array | pa.ChunkedArray) -> Level:
    """Return integer codes and labels of a text column (null is a value of its own)."""
    d = pc.dictionary_encode(arr, null_encoding="encode")
    if isinstance(d, pa.ChunkedArray):
        d = d.combine_chunks() if d.num_chunks != 1 else d.chunk(0)
        if isinstance(d, pa.ChunkedArray):  # pragma: no cover - combine_chunks of a dict column
            d = d.chunk(0)
    codes = d.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, [None if v is None else str(v) for v in d.dictionary.to_pylist()]


def _star(n: int) -> Callable[[], Level]:
    return lambda: (np.zeros(n, dtype=np.int64), ["*"])


def _text(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    return arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string())


def _prefix(arr: pa.ChunkedArray, keep: int, width: int) -> Callable[[], Level]:
    def build() -> Level:
        codes, labels = _factor(pc.utf8_slice_codeunits(arr, 0, keep))
        return codes, [None if v is None else v + "*" * (width - keep) for v in labels]

    return build


def _date_ladder(name: str, arr: pa.ChunkedArray, with_time: bool) -> Ladder:
    text = _text(arr)
    cuts = ((("exact", 0),) if with_time else ()) + (("date", 10), ("year-month", 7), ("year", 4))

    def cut(n: int) -> Callable[[], Level]:
        if n == 0:
            return lambda: _factor(text)
        return lambda: _factor(pc.utf8_slice_codeunits(text, 0, n))

    names = (*(c[0] for c in cuts), "*")
    return Ladder(name, names, (*(cut(n) for _, n in cuts), _star(len(arr))))


def nice_widths(span: float, integer: bool) -> list[float]:
    """Return range widths 1, 2, 5 × 10ⁿ from about span/500 up to the first ≥ the span."""
    if not math.isfinite(span) or span <= 0:
        return []
    start = span / _SPAN_STEPS
    if integer:
        start = max(start, 1.0)
    e = math.floor(math.log10(start))
    out: list[float] = []
    while not out or out[-1] <= span:
        for m in (1, 2, 5):
            w = m * 10.0**e
            if w >= start and (not out or out[-1] <= span):
                out.append(w)
        e += 1
    return out


def _fmt(x: float) -> str:
    return f"{x:.10g}"


def _range(values: npt.NDArray[np.float64], width: float) -> Callable[[], Level]:
    def build() -> Level:
        nan = np.isnan(values)
        bins = np.floor(np.where(nan, 0.0, values) / width).astype(np.int64)
        bins[nan] = np.iinfo(np.int64).max  # null: a class of its own
        uniq, inv = np.unique(bins, return_inverse=True)
        labels: list[str | None] = [
            None if b == np.iinfo(np.int64).max else f"[{_fmt(b * width)}, {_fmt((b + 1) * width)})"
            for b in uniq.tolist()
        ]
        return inv.astype(np.int64).reshape(-1), labels

    return build


def _number_ladder(name: str, arr: pa.ChunkedArray, integer: bool) -> Ladder:
    values = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
    finite = values[~np.isnan(values)]
    span = float(finite.max() - finite.min()) if finite.size else 0.0
    widths = nice_widths(span, integer)
    names = ("exact", *(f"width {_fmt(w)}" for w in widths), "*")
    steps = (lambda: _factor(_text(arr)), *(_range(values, w) for w in widths), _star(len(arr)))
    return Ladder(name, names, steps)


def _code_like(text: pa.ChunkedArray) -> int:
    """Return the common length of code-like text (letters/digits, one length), else 0."""
    valid = text.drop_null()
    if len(valid) == 0 or not pc.all(pc.match_substring_regex(valid, _CODE_RE)).as_py():
        return 0
    mm = pc.min_max(pc.utf8_length(valid)).as_py()
    return int(mm["min"]) if mm["min"] == mm["max"] and mm["min"] >= 3 else 0


def ladder(name: str, arr: pa.ChunkedArray, data_type: DataType) -> Ladder:
    """Return the generalisation ladder of a QI column of the given data type."""
    if data_type in (DataType.DATE, DataType.DATETIME):
        return _date_ladder(name, arr, data_type is DataType.DATETIME)
    if data_type in (DataType.INTEGER, DataType.DECIMAL) and not pa.types.is_string(arr.type):
        return _number_ladder(name, arr, data_type is DataType.INTEGER)
    text = _text(arr)
    width = _code_like(text)
    if width:
        keeps = list(range(width - 2, 0, -2))
        names = ("exact", *(f"prefix {n}" for n in keeps), "*")
        steps = (lambda: _factor(text), *(_prefix(text, n, width) for n in keeps), _star(len(arr)))
        return Ladder(name, names, steps)
    return Ladder(name, ("exact", "*"), (lambda: _factor(text), _star(len(arr))))


def _classes(codes: Sequence[Codes], n: int) -> Codes:
    """Return a class number per row for the combination of the QIs' codes."""
    key = np.zeros(n, dtype=np.int64)
    for c in codes:
        card = int(c.max()) + 1 if c.size else 1
        key = key * card + c
        _, key = np.unique(key, return_inverse=True)  # keep the key below n: no overflow
        key = key.astype(np.int64).reshape(-1)
    return key


def anonymise(
    table: pa.Table,
    qi: dict[str, DataType],
    k: int,
    max_suppression: float,
    attributes: Sequence[str] = (),
) -> KAnonResult:
    """Generalise ``qi`` columns of ``table`` until its classes reach ``k`` (see module doc)."""
    n = table.num_rows
    ladders = {q: ladder(q, table.column(q), t) for q, t in qi.items()}
    cache: dict[tuple[str, int], Level] = {}

    def level(q: str, i: int) -> Level:
        if (q, i) not in cache:
            cache[(q, i)] = ladders[q].build[i]()
        return cache[(q, i)]

    at = dict.fromkeys(qi, 0)
    limit = math.floor(max_suppression * n)
    while True:
        cls = _classes([level(q, at[q])[0] for q in qi], n)
        sizes = np.bincount(cls, minlength=1) if n else np.zeros(1, dtype=np.int64)
        row_size = sizes[cls] if n else np.zeros(0, dtype=np.int64)
        small = row_size < k
        suppressed = int(small.sum())
        raisable = [q for q in qi if at[q] < len(ladders[q].build) - 1]
        if suppressed <= limit or not raisable:
            break
        widest = max(raisable, key=lambda q: len(level(q, at[q])[1]))
        at[widest] += 1
    keep = ~small
    idx = pa.array(np.flatnonzero(keep))
    cols: dict[str, pa.Array | pa.ChunkedArray] = {}
    for q in qi:
        codes, labels = level(q, at[q])
        cols[q] = pa.array(labels, type=pa.string()).take(pa.array(codes[keep]))
    for a in attributes:
        cols[a] = table.column(a).take(idx)
    released = n - suppressed
    return KAnonResult(
        table=pa.table(cols) if cols else pa.table({}),
        levels={q: ladders[q].level_names[at[q]] for q in qi},
        level_index=dict(at),
        k_achieved=int(row_size[keep].min()) if released else 0,
        suppressed=suppressed,
        released=released,
        classes=int(np.unique(cls[keep]).size) if released else 0,
        within_limit=suppressed <= limit,
    )
