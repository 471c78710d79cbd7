"""Check a decoded source against a resource's fields: map columns, type every value,
split good rows from bad ones, and drop repeated keys.

A row is quarantined for its first bad field (the reason names how many more failed);
a row whose key is empty, or repeats a key an earlier row of the same load has, is
quarantined too, so what lands is one row per key. A load is checked chunk by chunk
(:func:`check_chunk`); the keys of earlier chunks are kept in a :class:`KeyIndex` (the key
columns only), so a key repeated across chunks is caught like one within a chunk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from opencitybrain.catalog.load_model import Quarantined
from opencitybrain.catalog.load_ports import arrow_type
from opencitybrain.catalog.load_sources import Decoded, Ints
from opencitybrain.catalog.load_types import PARSERS, REASONS
from opencitybrain.catalog.model import SPACES, FieldSpec
from opencitybrain.kernel.errors import FieldError, InvalidInput

KEY_MISSING = "键值为空 / the key is empty"
_TRIM = SPACES + "\u00a0"


@dataclass
class Checked:
    """The rows that may land, typed per field, and those that may not."""

    table: pa.Table  # one column per field, in the resource's order
    rows: Ints  # the row number of each good row
    quarantined: list[Quarantined]
    missing: tuple[str, ...]  # fields with no source column (left empty)
    ignored: tuple[str, ...]  # source columns naming no field


def resolve_columns(
    names: Sequence[str],
    fields: Sequence[FieldSpec],
    mapping: Mapping[str, str],
    *,
    strict: bool = True,
) -> dict[str, str]:
    """Return field name → source column: the mapping, else the field's name or Chinese name.

    Not ``strict``: a mapped column not seen (yet) is left out instead of refused.
    """
    by_name = {f.name: f for f in fields}
    if not strict:
        mapping = {src: dst for src, dst in mapping.items() if src in names}
    errors = [
        FieldError(f"mapping.{src}", "no such column / 源数据无此列")
        for src in mapping
        if src not in names
    ] + [
        FieldError(f"mapping.{src}", f"no field {dst!r} / 资源无此字段")
        for src, dst in mapping.items()
        if dst not in by_name
    ]
    if errors:
        raise InvalidInput(
            "catalog.bad_mapping", "列映射有误", "the column mapping is wrong", tuple(errors[:50])
        )
    chosen: dict[str, str] = {dst: src for src, dst in mapping.items()}
    lowered = {n.lower(): n for n in names}
    for f in fields:
        if f.name in chosen:
            continue
        src = lowered.get(f.name.lower()) or (f.name_zh if f.name_zh in names else None)
        if src is not None and src not in mapping:
            chosen[f.name] = src
    return chosen


def check_columns(
    names: Sequence[str],
    fields: Sequence[FieldSpec],
    key: Sequence[str],
    mapping: Mapping[str, str],
) -> tuple[dict[str, str], tuple[str, ...], tuple[str, ...]]:
    """Return the columns chosen, the fields missing and the columns ignored; or raise
    if the mapping is wrong or the key has no column."""
    chosen = resolve_columns(names, fields, mapping)
    absent = [k for k in key if k not in chosen]
    if absent:
        raise InvalidInput(
            "catalog.load_no_key_column",
            f"源数据缺少键字段的列：{', '.join(absent)}",
            f"the source has no column for the key field(s) {', '.join(absent)}",
            tuple(FieldError(k, "no column / 缺少此列") for k in absent),
        )
    used = set(chosen.values())
    missing = tuple(f.name for f in fields if f.name not in chosen)
    return chosen, missing, tuple(c for c in names if c not in used)


def check_rows(
    decoded: Decoded,
    fields: Sequence[FieldSpec],
    key: Sequence[str],
    mapping: Mapping[str, str],
) -> Checked:
    """Type every mapped column of a whole source, quarantine bad rows and repeated keys."""
    chosen, missing, ignored = check_columns(decoded.table.column_names, fields, key, mapping)
    checked = check_chunk(decoded, fields, key, chosen)
    checked.missing, checked.ignored = missing, ignored
    return checked


def check_chunk(
    decoded: Decoded,
    fields: Sequence[FieldSpec],
    key: Sequence[str],
    chosen: Mapping[str, str],
    seen: KeyIndex | None = None,
) -> Checked:
    """Type a chunk's columns (``chosen``: field → column; a column the chunk lacks reads
    as empty), quarantine bad rows, keys repeated in the chunk or in ``seen``; add the
    chunk's landing keys to ``seen``."""
    source = decoded.table
    n = source.num_rows
    typed: dict[str, pa.Array] = {}
    bad = np.zeros((n, len(fields)), dtype=bool)
    wrong_keys: dict[int, np.ndarray] = {}  # key fields: which values were there but bad
    for j, f in enumerate(fields):
        src = chosen.get(f.name)
        if src is None or src not in source.column_names:
            typed[f.name] = pa.nulls(n, arrow_type(f.data_type))
            if f.name in key:
                bad[:, j] = True
                wrong_keys[j] = np.zeros(n, dtype=bool)
            continue
        raw = source.column(src).combine_chunks() if n else pa.array([], pa.string())
        trimmed = pc.utf8_trim(raw, characters=_TRIM)
        text = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)
        values, wrong = PARSERS[f.data_type](text)
        typed[f.name] = values
        if f.name in key:
            bad[:, j] = np.asarray(pc.is_null(values).to_numpy(zero_copy_only=False), dtype=bool)
            wrong_keys[j] = wrong
        else:
            bad[:, j] = wrong
    table = pa.table({f.name: typed[f.name] for f in fields})
    row_bad = np.asarray(bad.any(axis=1), dtype=bool)
    quarantined = list(decoded.rejected)
    if row_bad.any():
        quarantined += _quarantine(source, decoded.rows, bad, row_bad, fields, wrong_keys)
    keep = ~row_bad
    good, rows = table.filter(pa.array(keep)), decoded.rows[keep]
    good, rows, repeats = _first_per_key(good, rows, source, decoded.rows, keep, key)
    quarantined += repeats
    if seen is not None:
        good, rows, earlier = seen.split(good, rows, source, decoded.rows)
        quarantined += earlier
    quarantined.sort(key=lambda q: q.row)
    return Checked(good, rows, quarantined, (), ())


class KeyIndex:
    """The keys that landed in earlier chunks of a load, with the row each came from."""

    def __init__(self, key: Sequence[str]) -> None:
        self._key = list(key)
        self._parts: list[pa.Table] = []

    def split(
        self, good: pa.Table, rows: Ints, source: pa.Table, numbers: Ints
    ) -> tuple[pa.Table, Ints, list[Quarantined]]:
        """Quarantine the rows whose key an earlier chunk has; remember the others' keys."""
        repeats: list[Quarantined] = []
        if self._parts and good.num_rows:
            mine = good.select(self._key).append_column(
                "_i", pa.array(np.arange(good.num_rows, dtype=np.int64))
            )
            hits = pa.concat_tables(self._parts).join(mine, keys=self._key, join_type="inner")
            if hits.num_rows:
                order = np.argsort(hits.column("_i").to_numpy())
                at = hits.column("_i").to_numpy()[order]
                earlier = hits.column("_first").to_numpy()[order]
                repeat_rows = rows[at]
                raws = _raw_rows(source, np.isin(numbers, repeat_rows))
                repeats = [
                    Quarantined(int(num), self._key[0], _repeats(int(e)), raw)
                    for num, e, raw in zip(repeat_rows, earlier, raws, strict=True)
                ]
                keep = np.ones(good.num_rows, dtype=bool)
                keep[at] = False
                good, rows = good.filter(pa.array(keep)), rows[keep]
        if good.num_rows:
            part = good.select(self._key).append_column("_first", pa.array(rows, pa.int64()))
            self._parts.append(part)
        return good, rows, repeats


def _repeats(row: int) -> str:
    return f"键与第 {row} 行重复 / repeats the key of row {row}"


def _raw_rows(source: pa.Table, mask: np.ndarray) -> list[dict[str, str | None]]:
    return source.filter(pa.array(mask)).to_pylist()  # type: ignore[no-any-return]


def _quarantine(
    source: pa.Table,
    numbers: Ints,
    bad: np.ndarray,
    row_bad: np.ndarray,
    fields: Sequence[FieldSpec],
    wrong_keys: Mapping[int, np.ndarray],
) -> list[Quarantined]:
    out = []
    picked = np.flatnonzero(row_bad)
    for i, raw in zip(picked, _raw_rows(source, row_bad), strict=True):
        failed = np.flatnonzero(bad[i])
        j = int(failed[0])
        empty_key = j in wrong_keys and not wrong_keys[j][i]
        reason = KEY_MISSING if empty_key else REASONS[fields[j].data_type]
        if len(failed) > 1:
            others = ", ".join(fields[k].name for k in failed[1:6])
            reason += f"；另有 {len(failed) - 1} 个字段有误 / {len(failed) - 1} more: {others}"
        out.append(Quarantined(int(numbers[i]), fields[j].name, reason, raw))
    return out


def _key_codes(table: pa.Table, key: Sequence[str]) -> Ints:
    """Return one integer per row that is equal exactly where the key values are equal."""
    codes = np.zeros(table.num_rows, dtype=np.int64)
    for name in key:  # dictionary codes per column, combined by rank (no overflow)
        column = table.column(name).combine_chunks()
        encoded = pc.dictionary_encode(column)
        part = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        _, codes = np.unique(codes * (len(encoded.dictionary) + 1) + part, return_inverse=True)
        codes = codes.astype(np.int64)
    return codes


def _first_per_key(
    good: pa.Table,
    rows: Ints,
    source: pa.Table,
    numbers: Ints,
    keep: np.ndarray,
    key: Sequence[str],
) -> tuple[pa.Table, Ints, list[Quarantined]]:
    """Keep the first row of each key; quarantine later rows with the same key."""
    if good.num_rows == 0:
        return good, rows, []
    group = _key_codes(good, key)
    _, first_at, inverse = np.unique(group, return_index=True, return_inverse=True)
    if len(first_at) == good.num_rows:
        return good, rows, []
    first = np.zeros(good.num_rows, dtype=bool)
    first[first_at] = True
    # Where each repeat's key first appeared, for the reason.
    earlier = {int(i): int(rows[first_at[inverse[i]]]) for i in np.flatnonzero(~first)}
    repeat_rows = rows[~first]
    source_mask = np.isin(numbers, repeat_rows) & keep
    raws = _raw_rows(source, source_mask)
    repeats = [
        Quarantined(int(num), key[0], _repeats(earlier[int(i)]), raw)
        for i, num, raw in zip(np.flatnonzero(~first), repeat_rows, raws, strict=True)
    ]
    return good.filter(pa.array(first)), rows[first], repeats
