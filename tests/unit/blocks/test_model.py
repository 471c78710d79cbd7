from __future__ import annotations

import pytest

from opencitybrain.blocks.model import (
    BlockQuery,
    Metric,
    Op,
    RegionScope,
    child_level,
    level_of,
    parent_code,
)
from opencitybrain.kernel.errors import Forbidden, InvalidInput


def test_levels_nest_by_code_length() -> None:
    assert level_of("") == "city"
    assert level_of("360102") == "county"
    assert level_of("360102001") == "street"
    assert level_of("360102001002") == "community"
    assert level_of("360102001002003") == "grid"
    assert parent_code("360102001002003") == "360102001002"
    assert parent_code("360102") == ""
    assert parent_code("") is None
    assert child_level("community") == "grid"
    assert child_level("grid") is None
    with pytest.raises(InvalidInput):
        level_of("3601")


def test_a_query_drills_only_downwards() -> None:
    BlockQuery("r", "street", "360102")
    with pytest.raises(InvalidInput):
        BlockQuery("r", "county", "360102001")
    with pytest.raises(InvalidInput):
        BlockQuery("r", "city", "360102")
    with pytest.raises(InvalidInput):
        Metric(Op.SUM)
    with pytest.raises(InvalidInput):
        Metric(Op.SUM, 'a"; drop table x; --')


def test_scope_narrows_city_wide_questions_and_refuses_other_areas() -> None:
    scope = RegionScope("360102")
    assert scope.clip(BlockQuery("r", "street", "360102")).within == "360102"
    narrowed = scope.clip(BlockQuery("r", "county"))
    assert (narrowed.within, narrowed.level) == ("360102", "street")
    assert scope.clip(BlockQuery("r", "grid")).level == "grid"
    with pytest.raises(Forbidden):
        scope.clip(BlockQuery("r", "street", "360103"))
    assert RegionScope().clip(BlockQuery("r", "county")).within == ""
