"""CKAN parameters → catalogue searches."""

from __future__ import annotations

import pytest

from opencitybrain.catalog.ckan import search_query
from opencitybrain.catalog.search import Facet, Sort
from opencitybrain.kernel.errors import InvalidInput


def test_fq_clauses_become_filters() -> None:
    q = search_query(
        {
            "q": "机动车 tags:车辆",
            "fq": 'organization:public-security +sharing_type:"有条件共享" AND tags:交通',
            "rows": "5",
            "start": 10,
            "sort": "metadata_modified  desc",
            "facet.field": '["organization", "tags"]',
        }
    )
    assert q.text == "机动车"
    assert q.departments == ("public-security",)
    assert q.sharing_types == ("conditional",)  # the Chinese label is accepted
    assert q.tags == ("车辆", "交通")
    assert (q.limit, q.offset, q.sort) == (5, 10, Sort.UPDATED_DESC)
    assert q.facets == (Facet.DEPARTMENT, Facet.TAGS)


def test_match_all_and_defaults() -> None:
    q = search_query({"q": "*:*"})
    assert (q.text, q.limit, q.offset, q.sort, q.facets) == ("", 10, 0, Sort.RELEVANCE, ())
    assert search_query({"facet.field": ["groups"]}).facets == (Facet.DOMAIN,)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"fq": "secret:1"}, "fq"),
        ({"fq": "organization:x OR something"}, "fq"),
        ({"q": "nope:1"}, "q"),
        ({"rows": "many"}, "rows"),
        ({"rows": 5000}, "rows"),
        ({"start": -1}, "start"),
        ({"sort": "random()"}, "sort"),
        ({"facet.field": "[not json"}, "facet.field"),
        ({"facet.field": ["password"]}, "facet.field"),
    ],
)
def test_bad_parameters_are_named(params: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        search_query(params)
    assert [e.field for e in err.value.errors] == [field]
