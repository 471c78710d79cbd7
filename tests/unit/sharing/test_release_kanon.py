"""k-anonymity: the ladders per data type and the search's guarantees on any table."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencitybrain.catalog.model import DataType
from opencitybrain.sharing.release_kanon import anonymise, ladder, nice_widths


def _levels(arr: list[object], t: DataType) -> list[list[str | None]]:
    lad = ladder("x", pa.chunked_array([pa.array(arr)]), t)
    out = []
    for build in lad.build:
        codes, labels = build()
        out.append([labels[c] for c in codes.tolist()])
    return out


def test_date_ladder_goes_date_month_year_star() -> None:
    levels = _levels([date(1990, 3, 14), date(1990, 11, 2), None], DataType.DATE)
    assert levels == [
        ["1990-03-14", "1990-11-02", None],
        ["1990-03", "1990-11", None],
        ["1990", "1990", None],
        ["*", "*", "*"],
    ]


def test_datetime_ladder_starts_with_the_instant() -> None:
    lad = ladder("t", pa.chunked_array([pa.array([datetime(2026, 1, 2, 3, 4)])]), DataType.DATETIME)
    assert lad.level_names == ("exact", "date", "year-month", "year", "*")


def test_number_ladder_uses_ranges_of_growing_nice_width() -> None:
    ages = list(range(100))
    lad = ladder("age", pa.chunked_array([pa.array(ages)]), DataType.INTEGER)
    assert lad.level_names[0] == "exact"
    assert lad.level_names[-1] == "*"
    assert lad.level_names[1:4] == ("width 1", "width 2", "width 5")
    i10 = lad.level_names.index("width 10")
    codes, labels = lad.build[i10]()
    assert labels[codes[37]] == "[30, 40)"
    assert len(labels) == 10
    # Each level is coarser than the one before.
    sizes = [len(b()[1]) for b in lad.build]
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[-1] == 1


def test_nice_widths_end_with_one_range_over_the_span() -> None:
    assert nice_widths(99, integer=True) == [1, 2, 5, 10, 20, 50, 100]
    ws = nice_widths(0.37, integer=False)
    assert ws[0] <= 0.37 / 500 * 2.5
    assert ws[-1] > 0.37
    assert nice_widths(0, integer=True) == []


def test_code_like_text_is_cut_to_prefixes_and_other_text_is_categorical() -> None:
    levels = _levels(["360102", "360111", "361002"], DataType.STRING)
    assert levels[1] == ["3601**", "3601**", "3610**"]
    assert levels[2] == ["36****"] * 3
    assert levels[-1] == ["*"] * 3
    assert _levels(["男", "女"], DataType.STRING) == [["男", "女"], ["*", "*"]]


def test_the_search_raises_the_widest_qi_until_k_holds() -> None:
    rng = np.random.default_rng(7)
    n = 3000
    t = pa.table({
        "county": rng.choice(["360102", "360103", "360111", "361002"], n),
        "age": rng.integers(0, 100, n),
        "sex": rng.choice(["男", "女"], n),
        "score": rng.integers(0, 5, n),
    })  # fmt: skip
    r = anonymise(t, {"county": DataType.STRING, "age": DataType.INTEGER,
                      "sex": DataType.STRING}, 10, 0.05, ["score"])  # fmt: skip
    assert r.within_limit
    assert r.k_achieved >= 10
    assert r.suppressed <= 0.05 * n
    assert r.released + r.suppressed == n
    assert r.levels["age"] != "exact"  # 100 ages: the widest QI is raised first
    assert r.table.column_names == ["county", "age", "sex", "score"]
    combos = Counter(
        zip(*(r.table.column(c).to_pylist() for c in ("county", "age", "sex")), strict=True)
    )
    assert min(combos.values()) >= 10
    assert len(combos) == r.classes


def test_fewer_rows_than_k_suppresses_everything() -> None:
    t = pa.table({"sex": ["男", "女", "男"]})
    r = anonymise(t, {"sex": DataType.STRING}, 5, 0.05)
    assert r.released == 0
    assert r.suppressed == 3
    assert not r.within_limit
    assert r.k_achieved == 0


_VALUES = {
    DataType.INTEGER: st.integers(-1000, 1000) | st.none(),
    DataType.DATE: st.dates(date(1900, 1, 1), date(2030, 12, 31)) | st.none(),
    DataType.STRING: st.sampled_from(["360102", "360103", "360201", "361101"]) | st.none(),
    DataType.DATETIME: st.datetimes(datetime(2000, 1, 1), datetime(2030, 1, 1)) | st.none(),
    DataType.BOOLEAN: st.booleans(),
    DataType.DECIMAL: st.floats(-1e4, 1e4, allow_nan=False),
}


@st.composite
def tables(draw: st.DrawFn) -> tuple[pa.Table, dict[str, DataType]]:
    types = draw(st.lists(st.sampled_from(list(_VALUES)), min_size=1, max_size=4))
    n = draw(st.integers(0, 60))
    cols = {
        f"q{i}": draw(st.lists(_VALUES[t], min_size=n, max_size=n)) for i, t in enumerate(types)
    }
    arrays = {name: pa.array(v, type=pa.float64() if types[i] is DataType.DECIMAL else None)
              for i, (name, v) in enumerate(cols.items())}  # fmt: skip
    arrays["row"] = pa.array(list(range(n)), pa.int64())
    return pa.table(arrays), {f"q{i}": t for i, t in enumerate(types)}


@settings(max_examples=150, deadline=None)
@given(tables(), st.integers(2, 12), st.sampled_from([0.0, 0.05, 0.2]))
def test_every_released_class_has_k_rows_and_no_row_is_lost(
    data: tuple[pa.Table, dict[str, DataType]], k: int, max_supp: float
) -> None:
    table, qi = data
    r = anonymise(table, qi, k, max_supp, ["row"])
    assert r.suppressed + r.released == table.num_rows == r.table.num_rows + r.suppressed
    combos = Counter(zip(*(r.table.column(q).to_pylist() for q in qi), strict=True))
    assert all(size >= k for size in combos.values())
    assert r.k_achieved == (min(combos.values()) if combos else 0)
    # Released rows are input rows (the attribute is carried, not invented), each once.
    rows = r.table.column("row").to_pylist()
    assert len(set(rows)) == len(rows)
    assert set(rows) <= set(range(table.num_rows))
    if table.num_rows >= k:
        assert r.within_limit


@pytest.mark.parametrize("k", [2, 5])
def test_a_table_already_k_anonymous_is_released_unchanged(k: int) -> None:
    t = pa.table({"sex": ["男"] * k + ["女"] * k})
    r = anonymise(t, {"sex": DataType.STRING}, k, 0.0)
    assert r.levels == {"sex": "exact"}
    assert r.suppressed == 0
    assert r.table.column("sex").to_pylist() == t.column("sex").to_pylist()
