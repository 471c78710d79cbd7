"""Search terms for Chinese and English text, made by the application on both SQL engines.

Chinese has no spaces between words. Rather than a word segmenter (jieba: a 20 MB
dictionary, and its segmentation of a query may differ from that of the indexed text),
runs of CJK characters are cut into overlapping character bigrams: "户籍人口" gives
户籍 · 籍人 · 人口, and a query matches a resource holding every one of its bigrams. That
finds any substring of two or more characters, needs no dictionary, and behaves the same
on SQLite and PostgreSQL because both only store and look up the terms. Single characters
are indexed for titles and tags only, where a one-character query (车, 医) is meaningful.
Latin words are lower-cased (NFKC folds full-width letters) and matched by prefix, so
"vehic" finds "vehicles".
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9]+")
# Words too common to tell resources apart; dropped from texts and queries alike.
STOPWORDS = frozenset(
    "a an and are as at be by for from in into is of on or the to with".split()  # noqa: SIM905
)
MAX_TERM = 32  # terms are cut to this many characters (long words add nothing)
# BM25's term-frequency saturation with a fixed average length: documents are weighted
# once, when indexed, so a search never needs corpus-wide statistics beyond term counts.
_K1 = 1.2
_B = 0.75
_AVG_LEN = 200.0


def normalise(text: str) -> str:
    """Return text folded for matching: NFKC (full-width → half-width) and lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def _bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def terms(text: str, *, unigrams: bool = False) -> list[str]:
    """Return the index terms of a text: CJK bigrams (and single chars if asked), Latin words."""
    folded = normalise(text)
    out: list[str] = []
    for run in _CJK_RUN.findall(folded):
        out.extend(_bigrams(run))
        if unigrams or len(run) == 1:
            out.extend(run)
    out.extend(w[:MAX_TERM] for w in _WORD.findall(folded) if w not in STOPWORDS)
    return out


def weigh(parts: list[tuple[str, float, bool]]) -> dict[str, float]:
    """Return term → BM25-style weight for a document made of (text, boost, unigrams) parts."""
    counts: defaultdict[str, float] = defaultdict(float)
    length = 0
    for text, boost, unigrams in parts:
        found = terms(text, unigrams=unigrams)
        length += len(found)
        for t in found:
            counts[t] += boost
    norm = _K1 * (1 - _B + _B * length / _AVG_LEN)
    return {t: round(tf * (_K1 + 1) / (tf + norm), 4) for t, tf in counts.items()}


@dataclass(frozen=True, slots=True)
class QueryTerm:
    """One term a match must hold: exact, or (Latin words) a prefix."""

    text: str
    prefix: bool


def query_terms(query: str) -> list[QueryTerm]:
    """Return the terms every match of ``query`` must hold (duplicates removed)."""
    folded = normalise(query)
    out: dict[str, QueryTerm] = {}
    for run in _CJK_RUN.findall(folded):
        for t in _bigrams(run) if len(run) > 1 else [run]:
            out.setdefault(t, QueryTerm(t, prefix=False))
    for word in _WORD.findall(folded):
        if word in STOPWORDS:
            continue
        t = word[:MAX_TERM]
        out.setdefault(t, QueryTerm(t, prefix=len(t) < MAX_TERM))
    return list(out.values())


def prefix_end(prefix: str) -> str:
    """Return the smallest string above every string that starts with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def idf(total: int, matching: int) -> float:
    """Return the BM25 inverse document frequency of a term found in ``matching`` docs."""
    return math.log(1 + (total - matching + 0.5) / (matching + 0.5))
