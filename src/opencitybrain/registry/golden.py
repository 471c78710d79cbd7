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


def _codes(values: pa.Array) -> I64:
    """Return a number per distinct value (−1 for null), to compare values as integers."""
    if pa.types.is_integer(values.type):
        return np.where(
            np.asarray(pc.is_valid(values).to_numpy(zero_copy_only=False)),
            _numpy(values, 0),
            -1,
        )
    encoded = pc.dictionary_encode(values).combine_chunks()
    return _numpy(encoded.indices, -1)


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
    columns: dict[str, pa.Array] = {"golden_id": golden_ids}
    columns["records"] = pa.array(np.bincount(gi, minlength=n_golden).astype(np.int64))
    n_sources = np.unique(gi * len(sources) + source) // len(sources)
    columns["sources"] = pa.array(np.bincount(n_sources, minlength=n_golden).astype(np.int64))
    conflicts = np.zeros(n_golden, dtype=np.int64)
    review: dict[str, list[object]] = defaultdict(list)
    for attribute in attributes:
        values = linked[attribute]
        present = np.asarray(pc.is_valid(values).to_numpy(zero_copy_only=False), dtype=bool)
        if attribute in MOST_RECENT_FIRST:
            order = np.lexsort((rank, -updated, ~present, gi))
        else:
            order = np.lexsort((-updated, rank, ~present, gi))
        first = order[np.r_[True, gi[order][1:] != gi[order][:-1]]]
        pick = np.full(n_golden, -1, dtype=np.int64)
        pick[gi[first]] = np.where(present[first], first, -1)
        at = pa.array(pick, mask=pick < 0)
        columns[attribute] = values.take(at)
        columns[f"{attribute}_source"] = names.take(pa.array(source).take(at))
        columns[f"{attribute}_time"] = linked["updated"].take(at)
        # Conflicts: more than one distinct present value within a golden record.
        code = _codes(values)
        rows = np.flatnonzero(present)
        if not len(rows):
            continue
        width = int(code.max()) + 2
        distinct = np.unique(gi[rows] * width + code[rows] + 1)
        per_golden = np.bincount(distinct // width, minlength=n_golden)
        disputed = per_golden > 1
        conflicts += disputed
        hit = rows[disputed[gi[rows]]]
        if not len(hit):
            continue
        chosen_code = np.where(pick >= 0, code[np.maximum(pick, 0)], -2)
        held: dict[tuple[int, int], set[str]] = defaultdict(set)
        shown: dict[tuple[int, int], object] = {}
        hit_values = values.take(pa.array(hit)).to_pylist()
        for r, v in zip(hit.tolist(), hit_values, strict=True):
            k = (int(gi[r]), int(code[r]))
            held[k].add(sources[source[r]])
            shown[k] = v
        for (g, c), holders in sorted(held.items()):
            review["golden_index"].append(g)
            review["attribute"].append(attribute)
            review["value"].append(str(shown[g, c]))
            review["sources"].append(",".join(sorted(holders)))
            review["chosen"].append(bool(chosen_code[g] == c))
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
