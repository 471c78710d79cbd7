"""Probabilistic matching of records without a valid ID against the golden records' records.

Blocking keeps it sub-quadratic: a record is compared only with records that share the
first 17 code characters (a wrong check char), or its birth date and sex, or — when it has
no birth date (always, for companies) — its name. Each pair's fields get an agreement level
and the levels' weights add up to a score (``MatchWeights``); everything is computed over
whole columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from opencitybrain.registry import names
from opencitybrain.registry.idcodes import fixed_width
from opencitybrain.registry.model import MatchWeights

I64 = npt.NDArray[np.int64]
NAME_WORDS = {names.EQUAL: "eq", names.CONFUSABLE: "confusable", names.ONE_CHAR: "one_char"}


@dataclass(frozen=True)
class Decisions:
    """Per unresolved record: chosen golden key (−1: none), score, runner-up, evidence."""

    golden: I64
    score: npt.NDArray[np.float64]
    runner_up: npt.NDArray[np.float64]
    near_id: npt.NDArray[np.bool_]
    explanation: list[str]


def _join(left: pa.Table, right: pa.Table, keys: list[str]) -> tuple[I64, I64]:
    """Return the (left row, right row) pairs that agree on ``keys``."""
    if not left.num_rows or not right.num_rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    joined = left.join(right, keys=keys, join_type="inner", use_threads=True)
    return (
        joined["li"].to_numpy().astype(np.int64),
        joined["ci"].to_numpy().astype(np.int64),
    )


def prefix17(codes: pa.Array) -> I64:
    """Return a 63-bit hash of the first 17 characters of 18-character codes (−1 otherwise).

    Any code alphabet works (citizen IDs, credit codes); a collision only makes a pair that
    scoring then rejects.
    """
    m, ok = fixed_width(codes, 18)
    h = np.full(len(m), 1469598103934665603, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(17):
            h = (h ^ m[:, j].astype(np.uint64)) * np.uint64(1099511628211)
    value = (h >> np.uint64(1)).astype(np.int64)
    return np.where(ok, value, -1)


def pairs(left: pa.Table, cands: pa.Table, weights: MatchWeights) -> tuple[I64, I64]:
    """Return candidate pairs (left row, candidate row) from the three blocking keys."""
    li = pa.array(np.arange(left.num_rows, dtype=np.int64))
    ci = pa.array(np.arange(cands.num_rows, dtype=np.int64))
    out_l, out_c = [], []
    # 1. Same first 17 ID characters.
    lk = prefix17(left["id_number"])
    has = lk >= 0
    a, b = _join(
        pa.table({"li": li.filter(pa.array(has)), "k": pa.array(lk[has])}),
        pa.table({"ci": ci, "k": cands["block17"]}),
        ["k"],
    )
    out_l.append(a)
    out_c.append(b)
    # 2. Same birth date and sex.
    both = pc.and_(pc.is_valid(left["birth_date"]), pc.is_valid(left["sex"]))
    a, b = _join(
        pa.table({"li": li, "b": left["birth_date"], "s": left["sex"]}).filter(both),
        pa.table({"ci": ci, "b": cands["birth_date"], "s": cands["sex"]}).filter(
            pc.and_(pc.is_valid(cands["birth_date"]), pc.is_valid(cands["sex"]))
        ),
        ["b", "s"],
    )
    out_l.append(a)
    out_c.append(b)
    # 3. No birth date: same name, where the name is not too common to decide on.
    no_birth = pc.and_(pc.is_null(left["birth_date"]), pc.is_valid(left["name"]))
    if pc.any(no_birth).as_py():
        counts = cands.group_by("name").aggregate([("name", "count")])
        rare = counts.filter(pc.less_equal(counts["name_count"], weights.max_block))
        named = pa.table({"ci": ci, "n": cands["name"]}).filter(
            pc.is_in(cands["name"], value_set=rare["name"])
        )
        a, b = _join(pa.table({"li": li, "n": left["name"]}).filter(no_birth), named, ["n"])
        out_l.append(a)
        out_c.append(b)
    pl, pc_ = np.concatenate(out_l), np.concatenate(out_c)
    key = np.unique(pl * (cands.num_rows + 1) + pc_)
    return key // (cands.num_rows + 1), key % (cands.num_rows + 1)


def _id_levels(left_ids: pa.Array, cand_ids: pa.Array) -> npt.NDArray[np.int8]:
    """Return 0 (missing), 1 (other), 2 (one adjacent swap), 3 (same first 17)."""
    a, oka = fixed_width(left_ids, 18)
    b, _ = fixed_width(cand_ids, 18)
    present = np.asarray(pc.is_valid(left_ids).to_numpy(zero_copy_only=False), dtype=bool)
    differ = a[:, :17] != b[:, :17]
    n = differ.sum(axis=1)
    level = np.where(present, 1, 0).astype(np.int8)
    level[oka & (n == 0)] = 3
    two = np.flatnonzero(oka & (n == 2))
    if len(two):
        first = differ[two].argmax(axis=1)
        second = np.minimum(first + 1, 16)
        swapped = (
            differ[two, second]
            & (a[two, first] == b[two, second])
            & (a[two, second] == b[two, first])
        )
        level[two[swapped]] = 2
    return level


def _agree(left: pa.Array, right: pa.Array) -> npt.NDArray[np.int8]:
    """Return 0 (either missing), 1 (differ), 2 (equal) per pair."""
    eq = pc.equal(left, right)
    out = np.where(np.asarray(pc.fill_null(eq, False).to_numpy(zero_copy_only=False)), 2, 1)
    missing = np.asarray(pc.is_null(eq).to_numpy(zero_copy_only=False), dtype=bool)
    return np.where(missing, 0, out).astype(np.int8)


def score(
    left: pa.Table, cands: pa.Table, pl: I64, pr: I64, w: MatchWeights
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int8], npt.NDArray[np.int8], I64]:
    """Return each pair's score, its ID and name levels, and a packed code of all levels."""
    L, C = pa.array(pl), pa.array(pr)  # noqa: N806 - row selections of left and candidates
    id_level = _id_levels(left["id_number"].take(L), cands["id_number"].take(C))
    name_level = names.compare(left["name"].take(L), cands["name"].take(C))
    birth = _agree(left["birth_date"].take(L), cands["birth_date"].take(C))
    sex = _agree(left["sex"].take(L), cands["sex"].take(C))
    addr = _agree(left["address"].take(L), cands["address"].take(C))
    s = np.choose(id_level, [0.0, w.id_other, w.id_swapped, w.id17_equal])
    s = s + np.choose(name_level, [w.name_other, w.name_one_char, w.name_confusable,
                                   w.name_equal])  # fmt: skip
    null_name = np.asarray(pc.is_null(left["name"].take(L)).to_numpy(zero_copy_only=False))
    s = np.where(null_name, s - np.choose(name_level, [w.name_other, 0, 0, 0]), s)
    s = s + np.choose(birth, [0.0, w.birth_other, w.birth_equal])
    s = s + np.choose(sex, [0.0, w.sex_other, w.sex_equal])
    s = s + np.choose(addr, [0.0, w.address_other, w.address_equal])
    packed = (
        id_level.astype(np.int64) * 1000
        + name_level.astype(np.int64) * 100
        + birth.astype(np.int64) * 10
        + sex.astype(np.int64)
    ) * 10 + addr.astype(np.int64)
    return s.astype(np.float64), id_level, name_level, packed


def explain(packed: int) -> str:
    """Return a pair's field evidence as text, e.g. ``id=swap name=confusable birth=eq``."""
    addr, packed = packed % 10, packed // 10
    sex, birth = packed % 10, packed // 10 % 10
    name, idl = packed // 100 % 10, packed // 1000
    words = {0: "missing", 1: "ne", 2: "eq"}
    return " ".join(
        [
            "id=" + {0: "missing", 1: "ne", 2: "swap", 3: "same17"}[idl],
            "name=" + NAME_WORDS.get(name, "ne"),
            "birth=" + words[birth],
            "sex=" + words[sex],
            "address=" + words[addr],
        ]
    )


def decide(left: pa.Table, cands: pa.Table, w: MatchWeights) -> Decisions:
    """Return, for each left record, the golden record it matches (or −1) and why."""
    n = left.num_rows
    pl, pr = pairs(left, cands, w)
    golden = np.full(n, -1, dtype=np.int64)
    best = np.full(n, np.nan)
    second = np.full(n, np.nan)
    near = np.zeros(n, dtype=bool)
    text = [""] * n
    if not len(pl):
        return Decisions(golden, best, second, near, text)
    s, id_level, _, packed = score(left, cands, pl, pr, w)
    gkey = cands["gkey"].to_numpy()[pr]
    # Best pair per (record, golden record), then best and runner-up golden per record.
    order = np.lexsort((-s, gkey, pl))
    pl, gkey, s, id_level, packed = pl[order], gkey[order], s[order], id_level[order], packed[order]
    first = np.ones(len(pl), dtype=bool)
    first[1:] = (pl[1:] != pl[:-1]) | (gkey[1:] != gkey[:-1])
    pl, gkey, s, id_level, packed = pl[first], gkey[first], s[first], id_level[first], packed[first]
    order = np.lexsort((gkey, -s, pl))
    pl, gkey, s, id_level, packed = pl[order], gkey[order], s[order], id_level[order], packed[order]
    head = np.ones(len(pl), dtype=bool)
    head[1:] = pl[1:] != pl[:-1]
    top = np.flatnonzero(head)
    has_second = (top + 1 < len(pl)) & (np.append(pl[1:], -1)[top] == pl[top])
    runner = np.where(has_second, s[np.minimum(top + 1, len(pl) - 1)], np.nan)
    rec = pl[top]
    best[rec] = s[top]
    second[rec] = runner
    ok = (s[top] >= w.accept) & (np.isnan(runner) | (s[top] - np.nan_to_num(runner) >= w.margin))
    golden[rec[ok]] = gkey[top][ok]
    near[rec] = id_level[top] >= 2
    for r, p in zip(rec.tolist(), packed[top].tolist(), strict=True):
        text[r] = explain(p)
    return Decisions(golden, best, second, near, text)
