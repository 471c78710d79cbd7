"""Name comparison levels: equal, one confusable character, one other character, different."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from opencitybrain.registry.names import CONFUSABLE, EQUAL, ONE_CHAR, OTHER, compare


def test_levels() -> None:
    left = ["王伟", "王伟", "王伟", "张三丰", None, "王玉华", "欧阳丽华", "李明"]
    right = ["王伟", "王玮", "王强", "张三峰", "王伟", "玉玉华", "欧阳莉华", "李明明"]
    got = compare(pa.array(left), pa.array(right)).tolist()
    assert got == [EQUAL, CONFUSABLE, ONE_CHAR, CONFUSABLE, OTHER, CONFUSABLE, CONFUSABLE, OTHER]


@settings(deadline=None)
@given(st.lists(st.text(alphabet="王李张伟玮强丽莉", min_size=1, max_size=4), min_size=1))
def test_a_name_equals_itself_and_comparison_is_symmetric(names: list[str]) -> None:
    other = list(reversed(names))
    assert set(compare(pa.array(names), pa.array(names)).tolist()) == {EQUAL}
    assert (
        compare(pa.array(names), pa.array(other)).tolist()
        == compare(pa.array(other), pa.array(names)).tolist()
    )
