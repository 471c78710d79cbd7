"""Search terms: Chinese bigrams, Latin prefixes, weights."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from opencitybrain.catalog.text import QueryTerm, prefix_end, query_terms, terms, weigh


def test_chinese_is_cut_into_bigrams() -> None:
    assert terms("户籍人口") == ["户籍", "籍人", "人口"]
    assert terms("户籍人口", unigrams=True) == ["户籍", "籍人", "人口", "户", "籍", "人", "口"]
    assert terms("车") == ["车"]


def test_latin_words_are_folded_and_stopwords_dropped() -> None:
    assert terms("Register of Motor VEHICLES") == ["register", "motor", "vehicles"]
    assert terms("ＧＰＳ轨迹") == ["轨迹", "gps"]  # full-width letters fold


def test_query_terms_need_every_bigram_and_prefix_latin_words() -> None:
    assert query_terms("户籍人口 vehic") == [
        QueryTerm("户籍", False), QueryTerm("籍人", False), QueryTerm("人口", False),
        QueryTerm("vehic", True),
    ]  # fmt: skip
    assert query_terms("车") == [QueryTerm("车", False)]
    assert query_terms("  ，。!? ") == []
    assert query_terms("人口 人口") == [QueryTerm("人口", False)]


@given(st.text(alphabet="人口户籍车辆登记企业信息", min_size=2, max_size=30))
def test_every_substring_query_of_an_indexed_text_finds_it(text: str) -> None:
    indexed = set(terms(text))
    for i in range(len(text) - 1):
        for j in range(i + 2, min(len(text), i + 6) + 1):
            assert {t.text for t in query_terms(text[i:j])} <= indexed


@given(
    st.from_regex(r"^[a-z]{1,10}$", fullmatch=True), st.from_regex(r"^[a-z]{0,5}$", fullmatch=True)
)
def test_prefix_range_holds_exactly_the_words_with_the_prefix(prefix: str, rest: str) -> None:
    word = prefix + rest
    assert prefix <= word < prefix_end(prefix)


def test_weights_favour_boosted_parts_and_saturate() -> None:
    w = weigh([("机动车登记", 5.0, True), ("机动车的号牌", 1.0, False)])
    assert w["机动"] > w["号牌"] > 0
    once = weigh([("号牌", 1.0, False)])["号牌"]
    many = weigh([("号牌 " * 50, 1.0, False)])["号牌"]
    assert many < 2.2 * once  # BM25 saturation: repetition does not pay linearly
