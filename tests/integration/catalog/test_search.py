"""Catalogue search on SQLite and PostgreSQL: Chinese and English, filters, facets, ranking."""

from __future__ import annotations

from dataclasses import replace

import pytest

from opencitybrain.catalog.model import (
    Classification,
    DataType,
    Domain,
    FieldSpec,
    OpenType,
    SharingType,
)
from opencitybrain.catalog.search import Facet, SearchQuery, Sort
from opencitybrain.catalog.service import CatalogService
from opencitybrain.kernel.clock import ManualClock
from opencitybrain.kernel.errors import InvalidInput
from tests.unit.catalog.samples import spec

from .conftest import ADMIN


@pytest.fixture
async def seeded(catalog: CatalogService, clock: ManualClock) -> CatalogService:
    await catalog.publish(ADMIN, spec())  # 户籍人口基本信息, public security, conditional
    clock.advance(60)
    await catalog.publish(
        ADMIN,
        spec(
            classification=Classification("1", "02", "001"),
            name_zh="企业登记信息",
            name_en="Business registrations",
            department_id="market-regulation",
            abstract="市场主体的名称、统一社会信用代码、法定代表人和登记机关。",
            fields=(FieldSpec("uscc", "统一社会信用代码", DataType.USCC),),
            sharing_type=SharingType.UNCONDITIONAL,
            sharing_condition="",
            open_type=OpenType.OPEN,
            domain=Domain.LEGAL_ENTITY,
            tags=("企业", "法人"),
        ),
    )
    clock.advance(60)
    await catalog.publish(
        ADMIN,
        spec(
            classification=Classification("3", "01", "001"),
            name_zh="机动车登记信息",
            name_en="Motor vehicle registrations",
            department_id="public-security",
            abstract="机动车号牌号码、车辆类型、所有人及登记日期。",
            fields=(FieldSpec("plate", "号牌号码", DataType.PLATE),),
            domain=Domain.TRANSPORT,
            tags=("机动车", "车辆"),
        ),
    )
    clock.advance(60)
    await catalog.publish(
        ADMIN,
        spec(
            classification=Classification("3", "02", "001"),
            name_zh="公交线路与站点",
            name_en="Bus routes and stops",
            department_id="transport",
            abstract="公交线路、站点位置和首末班时间；与机动车无关。",
            fields=(FieldSpec("route_id", "线路编号", DataType.STRING),),
            sharing_type=SharingType.UNCONDITIONAL,
            sharing_condition="",
            domain=Domain.TRANSPORT,
            tags=("公交",),
        ),
    )
    return catalog


def names(catalog: CatalogService, q: SearchQuery) -> list[str]:
    return [h.resource.spec.name_zh for h in catalog.search(ADMIN, q).hits]


async def test_chinese_substrings_find_resources(seeded: CatalogService) -> None:
    assert names(seeded, SearchQuery("户籍人口")) == ["户籍人口基本信息"]
    assert names(seeded, SearchQuery("信用代码")) == ["企业登记信息"]  # a field name
    assert names(seeded, SearchQuery("人口 户籍")) == ["户籍人口基本信息"]
    assert names(seeded, SearchQuery("火星")) == []
    # Every bigram must be present: 户口 is not a substring of anything here.
    assert names(seeded, SearchQuery("户口")) == []


async def test_single_characters_match_titles_and_tags(seeded: CatalogService) -> None:
    assert set(names(seeded, SearchQuery("车"))) == {"机动车登记信息"}


async def test_english_words_match_by_prefix(seeded: CatalogService) -> None:
    assert names(seeded, SearchQuery("vehic")) == ["机动车登记信息"]
    assert names(seeded, SearchQuery("Registrations of BUSINESS")) == ["企业登记信息"]
    assert set(names(seeded, SearchQuery("registrations"))) == {"企业登记信息", "机动车登记信息"}


async def test_department_names_and_codes_are_searchable(seeded: CatalogService) -> None:
    assert set(names(seeded, SearchQuery("公安局"))) == {"户籍人口基本信息", "机动车登记信息"}
    assert names(seeded, SearchQuery("102001")) == ["企业登记信息"]


async def test_title_matches_rank_above_abstract_matches(seeded: CatalogService) -> None:
    result = seeded.search(ADMIN, SearchQuery("机动车"))
    assert [h.resource.spec.name_zh for h in result.hits] == ["机动车登记信息", "公交线路与站点"]
    assert result.hits[0].score > result.hits[1].score > 0


async def test_filters_and_facets(seeded: CatalogService) -> None:
    everything = seeded.search(ADMIN, SearchQuery(facets=tuple(Facet), limit=0))
    assert everything.total == 4
    assert everything.hits == []
    f = everything.facets
    assert f[Facet.DEPARTMENT] == [
        ("public-security", 2),
        ("market-regulation", 1),
        ("transport", 1),
    ]
    assert dict(f[Facet.SHARING_TYPE]) == {"conditional": 2, "unconditional": 2}
    assert dict(f[Facet.DOMAIN]) == {"transport": 2, "population": 1, "legal_entity": 1}
    assert ("机动车", 1) in f[Facet.TAGS]
    ps = seeded.search(ADMIN, SearchQuery(departments=("public-security",), facets=(Facet.DOMAIN,)))
    assert ps.total == 2
    assert dict(ps.facets[Facet.DOMAIN]) == {"population": 1, "transport": 1}
    q = SearchQuery("信息", sharing_types=("unconditional",), domains=("legal_entity",))
    assert names(seeded, q) == ["企业登记信息"]
    assert names(seeded, SearchQuery(tags=("车辆", "机动车"))) == ["机动车登记信息"]
    assert names(seeded, SearchQuery(tags=("车辆", "企业"))) == []
    assert names(seeded, SearchQuery("登记", open_types=("open",))) == ["企业登记信息"]


async def test_sorting_and_paging(seeded: CatalogService) -> None:
    by_code = names(seeded, SearchQuery(sort=Sort.CODE_ASC))
    assert by_code == ["户籍人口基本信息", "企业登记信息", "机动车登记信息", "公交线路与站点"]
    pages = [names(seeded, SearchQuery(sort=Sort.CODE_ASC, limit=2, offset=o)) for o in (0, 2, 4)]
    assert pages == [by_code[:2], by_code[2:], []]
    newest = names(seeded, SearchQuery())
    assert newest[0] == "公交线路与站点"  # no text: most recently updated first (code breaks ties)


async def test_revisions_reindex(seeded: CatalogService) -> None:
    hit = seeded.search(ADMIN, SearchQuery("公交")).hits[0].resource
    await seeded.revise(ADMIN, hit.id, replace(hit.spec, name_zh="地铁线路"))
    assert names(seeded, SearchQuery("线路与站点")) == []
    assert names(seeded, SearchQuery("地铁")) == ["地铁线路"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (SearchQuery("长" * 201), "q"),
        (SearchQuery(limit=1001), "rows"),
        (SearchQuery(offset=-1), "start"),
        (SearchQuery(tags=tuple(str(i) for i in range(51))), "tags"),
    ],
)
async def test_out_of_bounds_searches_are_refused(
    seeded: CatalogService, query: SearchQuery, field: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        seeded.search(ADMIN, query)
    assert [e.field for e in err.value.errors] == [field]


async def test_injection_attempts_are_just_text(seeded: CatalogService) -> None:
    for text in ("'; DROP TABLE catalog_terms; --", "% _ \\", "人口' OR '1'='1"):
        seeded.search(ADMIN, SearchQuery(text, departments=("x' OR 1=1 --",)))
    assert seeded.search(ADMIN, SearchQuery("户籍")).total == 1


async def test_text_results_follow_every_sort(seeded: CatalogService) -> None:
    titles = ["户籍人口基本信息", "企业登记信息", "机动车登记信息"]  # in publication order
    assert names(seeded, SearchQuery("信息", sort=Sort.CODE_ASC)) == titles
    assert names(seeded, SearchQuery("信息", sort=Sort.UPDATED_DESC)) == titles[::-1]
    assert names(seeded, SearchQuery("信息", sort=Sort.UPDATED_ASC)) == titles
    assert names(seeded, SearchQuery("信息", sort=Sort.NAME_ASC)) == sorted(titles)
    assert names(seeded, SearchQuery("信息", sort=Sort.NAME_DESC)) == sorted(titles)[::-1]
    ranked = seeded.search(ADMIN, SearchQuery("信息", facets=(Facet.TAGS, Facet.LEVEL)))
    assert [h.score for h in ranked.hits] == sorted((h.score for h in ranked.hits), reverse=True)
    assert dict(ranked.facets[Facet.TAGS])["机动车"] == 1
    assert sum(n for _, n in ranked.facets[Facet.LEVEL]) == 3
