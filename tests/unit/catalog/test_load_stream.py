"""Reading a file in chunks gives the same rows, row numbers and unreadable rows as reading
it whole, whatever the chunk size; from bytes or from a file; UTF-8 or GB18030."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencitybrain.catalog.load_model import LoadFormat
from opencitybrain.catalog.load_sources import Decoded
from opencitybrain.catalog.load_stream import decode_chunks, read_whole
from opencitybrain.kernel.errors import InvalidInput


def flat(chunks: list[Decoded]) -> tuple[list[dict[str, str | None]], list[int], list[int]]:
    rows = [r for c in chunks for r in c.table.to_pylist()]
    numbers = [int(n) for c in chunks for n in c.rows]
    rejected = [q.row for c in chunks for q in c.rejected]
    return rows, numbers, rejected


cells = st.text(alphabet='ab,\n"中 ', max_size=4)
lines = st.lists(st.lists(cells, min_size=1, max_size=4), max_size=25)


@settings(max_examples=120, deadline=None)
@given(rows=lines, chunk=st.integers(1, 5))
def test_csv_chunks_agree_with_one_chunk(rows: list[list[str]], chunk: int) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["a", "b", "c"])
    writer.writerows(rows)  # rows of 1-4 cells: those not of 3 are unreadable
    data = out.getvalue().encode()
    whole = list(decode_chunks(data, LoadFormat.CSV, chunk_rows=10**6))
    parts = list(decode_chunks(data, LoadFormat.CSV, chunk_rows=chunk))
    assert flat(parts) == flat(whole)
    assert all(c.table.num_rows <= chunk for c in parts)
    _, numbers, rejected = flat(parts)
    assert sorted(numbers + rejected) == list(range(1, len(numbers) + len(rejected) + 1))
    for c in parts[:-1]:  # an unreadable row comes with the chunk that passes it
        assert all(q.row < c.rows[-1] for q in c.rejected)


@settings(max_examples=80, deadline=None)
@given(
    objects=st.lists(
        st.one_of(
            st.fixed_dictionaries({"k": st.text("xy", max_size=2)}, optional={"n": st.integers()}),
            st.just("not json"),
            st.just(""),
        ),
        max_size=20,
    ),
    chunk=st.integers(1, 4),
)
def test_json_lines_chunks_agree_with_one_chunk(objects: list[object], chunk: int) -> None:
    text = "\n".join(o if isinstance(o, str) else json.dumps(o) for o in objects)
    data = text.encode()
    whole = read_whole(data, LoadFormat.JSONL)
    parts = list(decode_chunks(data, LoadFormat.JSONL, chunk_rows=chunk))
    numbers = [int(n) for c in parts for n in c.rows]
    assert numbers == whole.rows.tolist()
    assert [q.row for c in parts for q in c.rejected] == [q.row for q in whole.rejected]
    expected = [i for i, o in enumerate(objects, start=1) if isinstance(o, dict)]
    assert numbers == expected
    keys = [r.get("k") for c in parts for r in c.table.to_pylist()]
    assert keys == [o["k"] for o in objects if isinstance(o, dict)]


def test_a_gbk_file_on_disk_reads_as_its_bytes_do(tmp_path: Path) -> None:
    text = "姓名,地址\n" + "".join(f"张{i},南昌市东湖区{i}号\n" for i in range(50))
    file = tmp_path / "gbk.csv"
    file.write_bytes(text.encode("gbk"))
    told: list[int] = []
    chunks = list(decode_chunks(file, LoadFormat.CSV, chunk_rows=7, read=told.append))
    assert len(chunks) == 8
    assert {c.encoding for c in chunks} == {"gb18030"}
    assert flat(chunks) == flat(list(decode_chunks(text.encode("gbk"), LoadFormat.CSV)))
    assert chunks[0].table.to_pylist()[0] == {"姓名": "张0", "地址": "南昌市东湖区0号"}
    assert told == sorted(told)
    assert told[-1] == file.stat().st_size
    bom = b"\xef\xbb\xbf" + text.encode()
    assert flat(list(decode_chunks(bom, LoadFormat.CSV, chunk_rows=7))) == flat(chunks)


def test_header_only_empty_and_unreadable_files() -> None:
    (only,) = decode_chunks(b" a ,b\n", LoadFormat.CSV, chunk_rows=2)
    assert only.table.column_names == ["a", "b"]
    assert only.table.num_rows == 0
    assert np.asarray(only.rows).tolist() == []
    for bad in (b"", b"  \n", b"a,a\n1,2\n", b"\x81\x30\xff\xff\n"):
        with pytest.raises(InvalidInput):
            list(decode_chunks(bad, LoadFormat.CSV))
    (empty,) = decode_chunks(b"", LoadFormat.JSONL)
    assert empty.table.num_rows == 0
