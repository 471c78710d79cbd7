"""Column-wise ID checks agree with python-stdnum."""

from __future__ import annotations

import pyarrow as pa
import stdnum.cn.ric as ric
import stdnum.cn.uscc as uscc
from hypothesis import given, settings
from hypothesis import strategies as st

from opencitybrain.registry.idcodes import PROVINCES, ric_valid, uscc_valid

IDS = st.one_of(
    st.from_regex(r"\A36010[0-9](19[5-9][0-9]|20[01][0-9])(0[1-9]|1[0-2])(0[1-9]|[12][0-9])"
                  r"[0-9]{3}[0-9X]\Z"),
    st.text(alphabet="0123456789X", min_size=15, max_size=19),
    st.none(),
)  # fmt: skip


def _date_ok(value: str) -> bool:
    try:
        ric.get_birth_date(value)
    except ric.ValidationError:
        return False
    return True


@settings(deadline=None)
@given(st.lists(IDS, max_size=40))
def test_ric_valid_agrees_with_stdnum_on_format_and_check(values: list[str | None]) -> None:
    got = ric_valid(pa.array(values, pa.string()))
    for value, ok in zip(values, got.tolist(), strict=True):
        if value is None or len(value) != 18:
            assert not ok
            continue
        # stdnum's rules except the region table (it knows every county code in history;
        # the registry checks the province prefix only).
        expected = (
            value[:17].isdigit()
            and value[17] == ric.calc_check_digit(value)
            and int(value[:2]) in PROVINCES
            and _date_ok(value)
        )
        assert ok == expected, value


def test_known_ids() -> None:
    got = ric_valid(pa.array(["11010519491231002X", "110105194912310021", "11010519491331002X"]))
    assert got.tolist() == [True, False, False]


@settings(deadline=None)
@given(st.lists(st.from_regex(r"\A[0-9]{8}[0-9A-HJ-NP-RTUWXY]{10}\Z"), max_size=30))
def test_uscc_valid_agrees_with_stdnum(values: list[str]) -> None:
    fixed = [v[:17] + uscc.calc_check_digit(v) if i % 2 else v for i, v in enumerate(values)]
    got = uscc_valid(pa.array(fixed, pa.string()))
    assert got.tolist() == [uscc.is_valid(v) for v in fixed]
