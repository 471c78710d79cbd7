"""Identity code generators agree with python-stdnum and the standards' formats."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import stdnum.cn.ric as ric
import stdnum.cn.uscc as uscc
from hypothesis import given, settings
from hypothesis import strategies as st

from opencitybrain.sim.population.codes import (
    ascii_strings,
    plate_matrix,
    ric_check_char,
    ric_matrix,
    uscc_check_char,
    uscc_matrix,
)

PLATE = re.compile(
    r"^[A-HJ-NP-Z0-9]{5}$|^[DF][A-HJ-NP-Z0-9][0-9]{4}$|^[0-9]{5}[DF]$"
)  # ordinary, small new-energy, large new-energy


@settings(deadline=None)
@given(st.from_regex(r"\A[0-9]{17}\Z"))
def test_ric_check_char_is_stdnums(first17: str) -> None:
    assert ric_check_char(first17) == ric.calc_check_digit(first17 + "0")


@settings(deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([360102, 360103, 360104, 360111, 360121, 360123, 360124]),
            st.dates(min_value=date(1984, 1, 1), max_value=date(2025, 12, 31)),
            st.integers(0, 999),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_generated_ids_pass_stdnum(rows: list[tuple[int, date, int]]) -> None:
    region = np.array([r for r, _, _ in rows], dtype=np.int64)
    birth = np.array([int(d.strftime("%Y%m%d")) for _, d, _ in rows], dtype=np.int64)
    seq = np.array([s for _, _, s in rows], dtype=np.int64)
    ids = ascii_strings(ric_matrix(region, birth, seq)).to_pylist()
    for value, (r, d, s) in zip(ids, rows, strict=True):
        assert ric.is_valid(value), value
        assert value[:6] == str(r)
        assert value[6:14] == d.strftime("%Y%m%d")
        assert int(value[14:17]) == s


@settings(deadline=None)
@given(st.from_regex(r"\A[0-9A-HJ-NP-RTUWXY]{17}\Z"))
def test_uscc_check_char_is_stdnums(first17: str) -> None:
    assert uscc_check_char(first17) == uscc.calc_check_digit(first17 + "0")


@settings(deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 50))
def test_generated_credit_codes_are_valid(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    region = rng.choice([360102, 360112, 360124], size=n).astype(np.int64)
    codes = ascii_strings(uscc_matrix(rng, region)).to_pylist()
    for code, r in zip(codes, region.tolist(), strict=True):
        assert uscc.is_valid(code), code
        assert code.startswith(f"91{r}MA")
        # Chars 9–17: an organisation code with its own GB 11714 check char.
        values = [int(c) if c.isdigit() else ord(c) - 55 for c in code[8:16]]
        c9 = 11 - sum(v * w for v, w in zip(values, [3, 7, 9, 10, 5, 8, 4, 2], strict=True)) % 11
        assert code[16] == {10: "X", 11: "0"}.get(c9, str(c9))


@settings(deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 60))
def test_plates_follow_ga36(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    nev = rng.random(n) < 0.5
    large = rng.random(n) < 0.3
    matrix, lengths = plate_matrix(rng, n, nev, large)
    for row, length, is_nev, is_large in zip(matrix, lengths, nev, large, strict=True):
        serial = bytes(row[:length]).decode()
        assert PLATE.match(serial), serial
        assert "I" not in serial
        assert "O" not in serial
        if is_nev and is_large:
            assert serial[-1] in "DF"
        elif is_nev:
            assert serial[0] in "DF"
            assert len(serial) == 6
        else:
            assert len(serial) == 5
