"""Checking loaded values per data type, column-wise, and the quarantine's bookkeeping."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from opencitybrain.catalog.load_checks import check_rows
from opencitybrain.catalog.load_model import LoadFormat
from opencitybrain.catalog.load_sources import text
from opencitybrain.catalog.load_stream import read_csv, read_jsonl
from opencitybrain.catalog.load_types import PARSERS
from opencitybrain.catalog.model import DataType, FieldSpec
from opencitybrain.kernel.errors import InvalidInput


def parse(data_type: DataType, values: Sequence[str | None]) -> tuple[list[object], list[bool]]:
    typed, bad = PARSERS[data_type](pa.array(values, pa.string()))
    return typed.to_pylist(), bad.tolist()


def test_integers_and_decimals() -> None:
    assert parse(DataType.INTEGER, ["12", "-3", "+4", "1.5", "x", None, "9" * 19]) == (
        [12, -3, 4, None, None, None, None],
        [False, False, False, True, True, False, True],
    )
    values, bad = parse(DataType.DECIMAL, ["1.5", ".5", "1e3", "-2", "1,000", "nan"])
    assert values == [1.5, 0.5, 1000.0, -2.0, None, None]
    assert bad == [False, False, False, False, True, True]


def test_booleans_in_chinese_and_english() -> None:
    assert parse(DataType.BOOLEAN, ["是", "否", "TRUE", "f", "1", "0", "maybe"]) == (
        [True, False, True, False, True, False, None],
        [False] * 6 + [True],
    )


def test_dates_in_the_usual_spellings_and_impossible_ones() -> None:
    values, bad = parse(
        DataType.DATE,
        ["2024-02-29", "2024/3/1", "2024.03.02", "20240303", "2024年3月4日",
         "2024-03-05T00:00:00", "2023-02-29", "2024-13-01", "03/04/2024"],
    )  # fmt: skip
    assert values[:6] == [date(2024, 2, 29), date(2024, 3, 1), date(2024, 3, 2),
                          date(2024, 3, 3), date(2024, 3, 4), date(2024, 3, 5)]  # fmt: skip
    assert bad == [False] * 6 + [True] * 3


def test_datetimes_default_to_china_time() -> None:
    values, bad = parse(
        DataType.DATETIME,
        ["2024-01-02 08:00", "2024-01-02T08:00:00Z", "2024-01-02T08:00:00.25+08:00",
         "2024-01-02", "2024-01-02 24:00", "yesterday"],
    )  # fmt: skip
    assert values[:4] == [
        datetime(2024, 1, 2, 0, 0, tzinfo=UTC),
        datetime(2024, 1, 2, 8, 0, tzinfo=UTC),
        datetime(2024, 1, 2, 0, 0, 0, 250000, tzinfo=UTC),
        datetime(2024, 1, 1, 16, 0, tzinfo=UTC),
    ]
    assert bad == [False] * 4 + [True] * 2


def test_identity_codes_agree_with_python_stdnum() -> None:
    ids = [
        "11010519491231002X",
        "11010519491231002x",
        "110105194912310021",
        "123",
        "360102199001011234",
    ]
    values, bad = parse(DataType.CITIZEN_ID, ids)
    assert [not b for b in bad] == [ric.is_valid(i.upper()) for i in ids]
    assert values[1] == "11010519491231002X"
    codes = ["91110000600037341L", "91110000600037341M", "9111000060003734IL", ""]
    _, bad = parse(DataType.USCC, codes[:3])
    assert [not b for b in bad] == [uscc.is_valid(c) for c in codes[:3]]


def test_plates_mobiles_and_geometry() -> None:
    values, bad = parse(
        DataType.PLATE, ["赣A·12345", "赣ad12345", "京A1234", "赣A1O345", "赣A12345D"]
    )
    assert values[:2] == ["赣A12345", "赣AD12345"]
    assert bad == [False, False, True, True, False]
    values, bad = parse(
        DataType.MOBILE, ["+86 138-0000-0000", "13800000000", "12800000000", "1380000"]
    )
    assert values[:2] == ["13800000000", "13800000000"]
    assert bad == [False, False, True, True]
    point = json.dumps({"type": "Point", "coordinates": [115.9, 28.7], "x": 1})
    values, bad = parse(
        DataType.GEOMETRY,
        [
            point,
            '{"type":"Point","coordinates":[200,0]}',
            '{"type":"Polygon","coordinates":[1,2]}',
            "x",
        ],
    )
    assert values[0] == '{"type":"Point","coordinates":[115.9,28.7]}'
    assert bad == [False, True, True, True]


def test_text_of_cells() -> None:
    assert [text(v) for v in (None, 3.0, 2.5, True, date(2024, 1, 2), {"a": "中"})] == [
        None, "3", "2.5", "true", "2024-01-02", '{"a":"中"}',
    ]  # fmt: skip


FIELDS = (
    FieldSpec("code", "编号", DataType.STRING, is_identifier=True),
    FieldSpec("n", "数量", DataType.INTEGER),
    FieldSpec("on", "日期", DataType.DATE),
    FieldSpec("phone", "手机", DataType.MOBILE),
)


def test_mapping_names_columns_and_refuses_unknown_ones() -> None:
    decoded = read_csv("编号,数,x\na,1,z\n".encode())
    checked = check_rows(decoded, FIELDS, ("code",), {"数": "n"})
    assert checked.table.to_pylist() == [{"code": "a", "n": 1, "on": None, "phone": None}]
    assert (checked.missing, checked.ignored) == (("on", "phone"), ("x",))
    with pytest.raises(InvalidInput):
        check_rows(decoded, FIELDS, ("code",), {"nope": "n"})
    with pytest.raises(InvalidInput):
        check_rows(decoded, FIELDS, ("code",), {"数": "nope"})
    with pytest.raises(InvalidInput):  # no column for the key
        check_rows(read_csv(b"n\n1\n"), FIELDS, ("code",), {})


def test_a_row_with_several_bad_fields_names_them() -> None:
    checked = check_rows(read_csv(b"code,n,on,phone\na,x,2024-02-30,123\n"), FIELDS, ("code",), {})
    (q,) = checked.quarantined
    assert (q.row, q.field) == (1, "n")
    assert "on, phone" in q.reason


def test_wrong_column_counts_and_bad_json_lines_are_quarantined() -> None:
    decoded = read_csv(b'code,n\na,1\nb\n"c\nd",3\ne,4,5\nf,6\n')
    assert decoded.rows.tolist() == [1, 3, 5]
    assert [q.row for q in decoded.rejected] == [2, 4]
    decoded = read_jsonl(b'{"code":"a"}\n[1]\n\n{"code":"b","n":2}\n')
    assert decoded.rows.tolist() == [1, 4]
    assert [q.row for q in decoded.rejected] == [2]


def test_an_unreadable_encoding_is_refused() -> None:
    with pytest.raises(InvalidInput):
        read_csv(b"\x81\x30\xff\xff\n")
    assert LoadFormat.of_filename("a.XLSX") is LoadFormat.XLSX
    with pytest.raises(InvalidInput):
        LoadFormat.of_filename("a.exe")


cells = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "1", "-7", "x", "2024-02-29", "2023-02-29", "13800000000", "12"]),
    st.text(max_size=6),
)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", "", "a "]), cells, cells, cells), max_size=30
    )
)
def test_every_row_lands_or_is_quarantined_with_a_reason(rows: list[tuple[str, ...]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out)  # \r\n: a cell holding \r or \n is quoted
    writer.writerow(["code", "n", "on", "phone"])
    writer.writerows([["" if c is None else c for c in r] for r in rows])
    decoded = read_csv(out.getvalue().encode())
    checked = check_rows(decoded, FIELDS, ("code",), {})
    landed = checked.rows.tolist()
    quarantined = [q.row for q in checked.quarantined]
    assert sorted(landed + quarantined) == list(range(1, len(rows) + 1))
    assert all(q.reason for q in checked.quarantined)
    keys = checked.table.column("code").to_pylist()
    assert len(keys) == len(set(keys))
    assert None not in keys


@settings(max_examples=100, deadline=None)
@given(
    stamps=st.lists(
        st.tuples(
            st.integers(1, 9999),
            st.integers(0, 13),
            st.integers(0, 32),
            st.integers(0, 24),
            st.integers(0, 60),
            st.integers(0, 60),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_the_fast_and_the_regex_paths_agree(stamps: list[tuple[int, ...]]) -> None:
    """Fixed-width ISO text takes a byte-matrix path; other spellings a regex: same values."""
    fast_dates = [f"{y:04d}-{m:02d}-{d:02d}" for y, m, d, *_ in stamps]
    slow_dates = [f"{y:04d}年{m}月{d}日" for y, m, d, *_ in stamps]
    assert parse(DataType.DATE, fast_dates) == parse(DataType.DATE, slow_dates)
    fast = [f"{y:04d}-{m:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}" for y, m, d, h, mi, s in stamps]
    slow = [f"{y:04d}/{m}/{d}T{h}:{mi:02d}:{s:02d}.0+08:00" for y, m, d, h, mi, s in stamps]
    assert parse(DataType.DATETIME, fast) == parse(DataType.DATETIME, slow)
    for (y, m, d, *_), value in zip(stamps, parse(DataType.DATE, fast_dates)[0], strict=True):
        try:
            expected: date | None = date(y, m, d)
        except ValueError:
            expected = None
        assert value == expected
