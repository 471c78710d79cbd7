"""Assemble golden records from linked records: each attribute with its source and time.

For name, sex and birth date the most authoritative department wins (the household
register first), then the most recent record; for the address the most recent record
wins, as people move. Where linked records disagree on an attribute, every distinct value
goes to the review list with the departments that hold it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

I64 = npt.NDArray[np.int64]
MOST_RECENT_FIRST = frozenset({"address"})


def _numpy(values: pa.Array, fill: int) -> I64:
    return np.asarray(pc.fill_null(values, fill).to_numpy(zero_copy_only=False), dtype=np.int64)


def _settle(
    attribute: str,
    hit: I64,
    values: pa.Array,
    gi: I64,
    source: I64,
    preference: I64,
    pick: I64,
    sources: Sequence[str],
    review: dict[str, list[object]],
) -> None:
    """Settle disputed golden records (few: grouped in Python) and list them for review.

    For name, sex and birth date the value most departments hold wins over the single
    most authoritative one (a typo in the register is outvoted); ties keep the pick. The
    address stays the most recent one. ``pick`` is updated in place.
    """
    held: dict[tuple[int, str], set[str]] = defaultdict(set)
    best_row: dict[tuple[int, str], int] = {}
    for r, v in zip(hit.tolist(), values.take(pa.array(hit)).to_pylist(), strict=True):
        key = (int(gi[r]), str(v))
        held[key].add(sources[source[r]])
        if key not in best_row or preference[r] < preference[best_row[key]]:
            best_row[key] = r
    by_golden: dict[int, list[tuple[str, set[str]]]] = defaultdict(list)
    for (g, text), holders in sorted(held.items()):
        by_golden[g].append((text, holders))
    for g, options in by_golden.items():
        if attribute not in MOST_RECENT_FIRST:
            current = pick[g]
            top = max(
                options,
                key=lambda o: (len(o[1]), best_row[g, o[0]] == current),
            )
            pick[g] = best_row[g, top[0]]
        chosen_row = pick[g]
        for text, holders in options:
            review["golden_index"].append(g)
            review["attribute"].append(attribute)
            review["value"].append(text)
            review["sources"].append(",".join(sorted(holders)))
            review["chosen"].append(best_row[g, text] == chosen_row)


def build(
    linked: pa.Table,
    gi: I64,
    golden_ids: pa.Array,
    sources: Sequence[str],
    authority: Sequence[str],
    attributes: Sequence[str],
) -> tuple[pa.Table, pa.Table]:
    """Return the golden records and the review list.

    ``linked`` holds the linked records' canonical columns, ``gi`` each one's golden record
    (an index into ``golden_ids``).
    """
    n_golden = len(golden_ids)
    rank_of = {s: authority.index(s) if s in authority else len(authority) for s in sources}
    source = linked["source"].to_numpy().astype(np.int64)
    rank = np.array([rank_of[s] for s in sources], dtype=np.int64)[source]
    updated = _numpy(linked["updated"], 0)
    names = pa.array(list(sources), pa.string())
    # One sort by golden record serves every attribute: groups are then contiguous, and
    # per-group minima (reduceat) pick values without sorting again.
    by_golden = np.argsort(gi, kind="stable")
    g_sorted = gi[by_golden]
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    sizes = np.diff(np.r_[starts, len(gi)])
    columns: dict[str, pa.Array] = {"golden_id": golden_ids}
    columns["records"] = pa.array(np.bincount(gi, minlength=n_golden).astype(np.int64))
    per_source = np.zeros(n_golden, dtype=np.int64)
    for k in range(len(sources)):
        per_source += np.bincount(gi[source == k], minlength=n_golden) > 0
    columns["sources"] = pa.array(per_source)
    conflicts = np.zeros(n_golden, dtype=np.int64)
    review: dict[str, list[object]] = defaultdict(list)
    recency = 99_999_999 - updated  # smaller = more recent
    for attribute in attributes:
        values = linked[attribute]
        present = np.asarray(pc.is_valid(values).to_numpy(zero_copy_only=False), dtype=bool)
        # Preference as one number, smaller is better: present first, then by rank and
        # recency (address: recency, then rank).
        if attribute in MOST_RECENT_FIRST:
            preference = (~present * 100_000_000 + recency) * 16 + rank
        else:
            preference = (~present * 16 + rank) * 100_000_000 + recency
        pick = np.full(n_golden, -1, dtype=np.int64)
        if len(gi):
            p_sorted = preference[by_golden]
            best = np.repeat(np.minimum.reduceat(p_sorted, starts), sizes)
            at_best = np.flatnonzero(p_sorted == best)
            group = np.searchsorted(starts, at_best, side="right") - 1
            first = by_golden[at_best[np.r_[True, group[1:] != group[:-1]]]]
            pick[gi[first]] = np.where(present[first], first, -1)
        # Conflicts: a present value that differs from the one picked for its golden
        # record (one comparison per record, no hashing of a million strings).
        picked = values.take(pa.array(pick[gi], mask=pick[gi] < 0))
        differs = np.asarray(
            pc.fill_null(pc.not_equal(values, picked), True).to_numpy(zero_copy_only=False),
            dtype=bool,
        )
        differs &= present
        disputed = np.bincount(gi[differs], minlength=n_golden) > 0
        conflicts += disputed
        hit = np.flatnonzero(present & disputed[gi])
        if len(hit):
            _settle(attribute, hit, values, gi, source, preference, pick, sources, review)
        at = pa.array(pick, mask=pick < 0)
        columns[attribute] = values.take(at)
        columns[f"{attribute}_source"] = names.take(pa.array(source).take(at))
        columns[f"{attribute}_time"] = linked["updated"].take(at)
    columns["conflicts"] = pa.array(conflicts)
    golden = pa.table(columns)
    index = pa.array(review.get("golden_index", []), pa.int64())
    review_table = pa.table(
        {
            "golden_id": golden_ids.take(index),
            "attribute": pa.array(review.get("attribute", []), pa.string()),
            "value": pa.array(review.get("value", []), pa.string()),
            "sources": pa.array(review.get("sources", []), pa.string()),
            "chosen": pa.array(review.get("chosen", []), pa.bool_()),
        }
    )
    return golden, review_table
