"""Compare Chinese names pair by pair, column-wise: equal, one confusable char, or different.

Clerks mistype a name by one character, mostly one that sounds the same (伟 → 玮) or looks
alike (王 → 玉). Same reading comes from pypinyin (toneless, any of a character's
readings); similar shape from a short table of pairs. Names (people's or companies') are compared as
fixed-width UTF-32 rows, so a million pairs need no Python loop; pinyin is looked up once per
distinct character.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from pypinyin import Style, pinyin

# Name similarity levels.
OTHER, ONE_CHAR, CONFUSABLE, EQUAL = 0, 1, 2, 3
MAX_WIDTH = 40  # longer names compare on their first 40 characters
# Characters of similar shape (not homophones), as pairs.
SIMILAR_SHAPES = (
    "王玉", "己已", "未末", "土士", "日曰", "人入", "天夭", "大太", "今令", "晴睛",
    "侯候", "戊戌", "析折", "拨拔", "免兔", "鸟乌", "刀力", "千干", "田由", "甲申",
    "辩辨", "茶荼", "徐涂", "杨扬", "汤扬", "陈陆", "季李", "贺货", "崔催", "喻谕",
)  # fmt: skip

U32 = npt.NDArray[np.uint32]


def width_of(*columns: pa.Array) -> int:
    """Return the longest name's length among the columns (at least 1, at most MAX_WIDTH)."""
    longest = [pc.max(pc.utf8_length(c)).as_py() or 0 for c in columns if len(c)]
    return max(1, min(MAX_WIDTH, max(longest, default=1)))


def to_matrix(names: pa.Array, width: int) -> tuple[U32, npt.NDArray[np.int64]]:
    """Return names as an (n, width) code point matrix and their lengths (0 for null)."""
    filled = pc.fill_null(names, "")
    text = np.asarray(filled.to_numpy(zero_copy_only=False), dtype=f"<U{width}")
    matrix = text.view(np.uint32).reshape(len(text), width)
    return matrix, (matrix != 0).sum(axis=1).astype(np.int64)


@lru_cache(maxsize=1)
def _shape_pairs() -> frozenset[tuple[int, int]]:
    pairs = {(ord(pair[0]), ord(pair[1])) for pair in SIMILAR_SHAPES}
    return frozenset(pairs | {(b, a) for a, b in pairs})


def _readings(codepoints: npt.NDArray[np.uint32]) -> dict[int, frozenset[str]]:
    """Return each character's toneless readings (all of them, for heteronyms)."""
    out: dict[int, frozenset[str]] = {}
    for cp in codepoints.tolist():
        if cp == 0:
            continue
        read = pinyin(chr(cp), style=Style.NORMAL, heteronym=True, errors="ignore")
        out[cp] = frozenset(read[0]) if read else frozenset()
    return out


def confusable(a: npt.NDArray[np.uint32], b: npt.NDArray[np.uint32]) -> npt.NDArray[np.bool_]:
    """Return whether each pair of characters sounds the same or looks alike."""
    if not len(a):
        return np.zeros(0, dtype=bool)
    pairs = np.unique(np.stack([a, b], axis=1), axis=0)
    readings = _readings(np.unique(pairs))
    shapes = _shape_pairs()
    alike = {
        (int(x), int(y))
        for x, y in pairs.tolist()
        if (x, y) in shapes or (readings.get(x, frozenset()) & readings.get(y, frozenset()))
    }
    if not alike:
        return np.zeros(len(a), dtype=bool)
    keys = a.astype(np.uint64) << np.uint64(32) | b.astype(np.uint64)
    good = np.array(sorted((x << 32) | y for x, y in alike), dtype=np.uint64)
    return np.isin(keys, good)


def compare(left: pa.Array, right: pa.Array) -> npt.NDArray[np.int8]:
    """Return the similarity level of each pair of names (null compares as OTHER)."""
    width = width_of(left, right)
    a, la = to_matrix(left, width)
    b, lb = to_matrix(right, width)
    differ = a != b
    n_diff = differ.sum(axis=1)
    level = np.full(len(a), OTHER, dtype=np.int8)
    present = (la > 0) & (lb > 0)
    level[present & (n_diff == 0)] = EQUAL
    one = present & (la == lb) & (n_diff == 1)
    rows = np.flatnonzero(one)
    if len(rows):
        col = differ[rows].argmax(axis=1)
        alike = confusable(a[rows, col], b[rows, col])
        level[rows] = np.where(alike, CONFUSABLE, ONE_CHAR)
    return level
