"""Realistic dirt in departments' records: typos, bad codes, gaps, stale values, duplicates.

Each record gets at most one kind of dirt, drawn with the rates below (about 1.5 % in all).
Dirt is applied to a department's canonical frame before it is written in the
department's own style, and each record's kind is kept in the ground truth.
Rows picked for dirt are few, so the per-row edits below loop in Python over those rows
only; everything that touches all rows is vectorised.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from opencitybrain.sim.population.codes import USCC_ALPHABET
from opencitybrain.sim.population.words import CONFUSABLE, GIVEN_CHARS

# Kinds of dirt and their default per-record rates.
NAME_TYPO = "name_typo"
ID_TRANSPOSED = "id_transposed"
ID_CHECK = "id_wrong_check"
ID_MISSING = "id_missing"
BIRTH_MISSING = "birth_missing"
ADDRESS_MISSING = "address_missing"
ADDRESS_STALE = "address_stale"
DUPLICATE_EXACT = "duplicate_exact"
DUPLICATE_NEAR = "duplicate_near"

DEFAULT_RATES: Mapping[str, float] = {
    NAME_TYPO: 0.003,
    ID_TRANSPOSED: 0.0015,
    ID_CHECK: 0.0015,
    ID_MISSING: 0.0015,
    BIRTH_MISSING: 0.001,
    ADDRESS_MISSING: 0.001,
    ADDRESS_STALE: 0.002,
    DUPLICATE_EXACT: 0.0015,
    DUPLICATE_NEAR: 0.0015,
}
RIC_CHECKS = "0123456789X"
_CONFUSABLE_OF = {ch: group for group in CONFUSABLE for ch in group}


def draw_kinds(
    rng: np.random.Generator, n: int, rates: Mapping[str, float]
) -> npt.NDArray[np.int64]:
    """Return each record's kind of dirt: 0 for a clean record, k for the k-th kind of rates."""
    edges = np.cumsum([rates[k] for k in rates])
    if len(edges) and edges[-1] >= 1:
        raise ValueError("dirt rates must sum to less than 1")
    picked = np.searchsorted(edges, rng.random(n), side="right")
    return np.where(picked < len(edges), picked + 1, 0).astype(np.int64)


def typo(rng: np.random.Generator, name: str) -> str:
    """Return ``name`` with one character replaced by a confusable (or any other) character."""
    if not name:
        return name
    positions = [i for i, ch in enumerate(name) if i > 0 and ch in _CONFUSABLE_OF]
    if not positions:
        positions = [i for i, ch in enumerate(name) if ch in _CONFUSABLE_OF]
    if positions:
        i = positions[int(rng.integers(len(positions)))]
        others = [c for c in _CONFUSABLE_OF[name[i]] if c != name[i]]
    else:
        i = len(name) - 1
        others = [c for c in GIVEN_CHARS if c != name[i]]
    return name[:i] + others[int(rng.integers(len(others)))] + name[i + 1 :]


def transpose(rng: np.random.Generator, id_number: str) -> str:
    """Return an ID with two adjacent, different digits of its first 17 swapped."""
    if not id_number:
        return id_number
    spots = [i for i in range(16) if id_number[i] != id_number[i + 1]]
    i = spots[int(rng.integers(len(spots)))]
    return id_number[:i] + id_number[i + 1] + id_number[i] + id_number[i + 2 :]


def wrong_check(rng: np.random.Generator, code: str) -> str:
    """Return a citizen ID or credit code with a wrong (but well-formed) check char."""
    if not code:
        return code
    alphabet = RIC_CHECKS if code[:17].isdigit() else USCC_ALPHABET
    wrong = [c for c in alphabet if c != code[17]]
    return code[:17] + wrong[int(rng.integers(len(wrong)))]


def _set(table: pa.Table, name: str, rows: npt.NDArray[np.int64], values: list[object]) -> pa.Table:
    """Return ``table`` with ``rows`` (ascending) of column ``name`` set to ``values``."""
    if name not in table.column_names or not len(rows):
        return table
    mask = np.zeros(table.num_rows, dtype=bool)
    mask[rows] = True
    column = table[name].combine_chunks()
    merged = pc.replace_with_mask(column, pa.array(mask), pa.array(values, column.type))
    return table.set_column(table.column_names.index(name), name, merged)


def _dirty_addresses(
    frame: pa.Table, missing: npt.NDArray[np.int64], stale: npt.NDArray[np.int64]
) -> pa.Table:
    """Return the frame with addresses removed (``missing``) or out of date (``stale``)."""
    if "previous_address" not in frame.column_names:
        stale = np.zeros(0, dtype=np.int64)
    rows = np.concatenate([missing, stale])
    if not len(rows):
        return frame
    order = np.argsort(rows, kind="stable")
    address = frame["address"].combine_chunks()
    mask = np.zeros(frame.num_rows, dtype=bool)
    mask[rows] = True
    if pa.types.is_dictionary(address.type):
        # Same dictionary for both columns: move indices, not strings.
        previous = frame["previous_address"].combine_chunks()
        new = pa.concat_arrays(
            [pa.nulls(len(missing), pa.int32()), previous.indices.take(pa.array(stale))]
        ).take(pa.array(order))
        indices = pc.replace_with_mask(address.indices, pa.array(mask), new)
        merged = pa.DictionaryArray.from_arrays(indices, address.dictionary)
    else:
        old = [None] * len(missing)
        if len(stale):
            old += frame["previous_address"].take(pa.array(stale)).to_pylist()
        new_values = pa.array([old[i] for i in order.tolist()], address.type)
        merged = pc.replace_with_mask(address, pa.array(mask), new_values)
    return frame.set_column(frame.column_names.index("address"), "address", merged)


def make_dirty(
    rng: np.random.Generator,
    frame: pa.Table,
    rates: Mapping[str, float] = DEFAULT_RATES,
    *,
    code: str = "id_number",
) -> tuple[pa.Table, pa.DictionaryArray]:
    """Return the frame with dirt applied (duplicates appended) and each row's kind of dirt.

    The frame has the canonical columns ``name``, ``birth_date`` and ``address`` (and
    ``previous_address`` for stale addresses) where the department has them; ``code`` names
    the identity code column (citizen ID or credit code) that ID dirt applies to. Kinds are
    returned dictionary-encoded, null for a clean row.
    """
    kinds = list(rates)
    drawn = draw_kinds(rng, frame.num_rows, rates)

    def rows(kind: str) -> npt.NDArray[np.int64]:
        if kind not in rates:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(drawn == kinds.index(kind) + 1).astype(np.int64)

    def values(column: str, at: npt.NDArray[np.int64]) -> list[str]:
        return frame[column].take(pa.array(at)).to_pylist()  # type: ignore[no-any-return]

    has = set(frame.column_names)
    if "name" in has:
        r = rows(NAME_TYPO)
        frame = _set(frame, "name", r, [typo(rng, s) for s in values("name", r)])
    if code in has:
        r = rows(ID_TRANSPOSED)
        frame = _set(frame, code, r, [transpose(rng, s) for s in values(code, r)])
        r = rows(ID_CHECK)
        frame = _set(frame, code, r, [wrong_check(rng, s) for s in values(code, r)])
    for kind, column in ((ID_MISSING, code), (BIRTH_MISSING, "birth_date")):
        r = rows(kind)
        frame = _set(frame, column, r, [None] * len(r))
    if "address" in has:
        frame = _dirty_addresses(frame, rows(ADDRESS_MISSING), rows(ADDRESS_STALE))
    # Duplicates: the original row stays clean; a later copy carries the label.
    exact, near = rows(DUPLICATE_EXACT), rows(DUPLICATE_NEAR)
    labels = drawn.copy()
    labels[exact] = 0
    labels[near] = 0
    exact_copy = frame.take(pa.array(exact))
    near_copy = frame.take(pa.array(near))
    if "name" in has and near_copy.num_rows:
        varied = [
            typo(rng, s) if rng.random() < 0.5 else (s[:1] + " " + s[1:] if s else s)
            for s in near_copy["name"].to_pylist()
        ]
        near_copy = _set(near_copy, "name", np.arange(len(varied)), varied)
    out = pa.concat_tables([frame, exact_copy, near_copy])
    all_labels = np.concatenate(
        [
            labels,
            np.full(len(exact), kinds.index(DUPLICATE_EXACT) + 1 if len(exact) else 0),
            np.full(len(near), kinds.index(DUPLICATE_NEAR) + 1 if len(near) else 0),
        ]
    ).astype(np.int32)
    # Code 0 (clean) becomes null: index -1 masked out.
    mask = pa.array(all_labels == 0)
    indices = pa.array(all_labels - 1, mask=np.asarray(mask))
    dirt = pa.DictionaryArray.from_arrays(indices, pa.array(kinds, pa.string()))
    return out, dirt
