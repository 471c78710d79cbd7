"""Request and response bodies of the native catalogue API (``/api/v1/catalog``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from opencitybrain.apikit.bodies import StrictBody
from opencitybrain.catalog.model import (
    CODE_RE,
    FILLED,
    MAX_FIELDS,
    MAX_RELATED,
    MAX_TAGS,
    SPACES,
    TAG_MAX,
    Change,
    Classification,
    DataType,
    Domain,
    FieldSpec,
    Level,
    Masking,
    OpenType,
    Resource,
    ResourceFormat,
    ResourceSpec,
    SharingMethod,
    SharingType,
    Status,
    UpdateCycle,
    blank,
    label_zh,
)
from opencitybrain.catalog.open_extracts import MODE_ZH, OpenExtract, describe
from opencitybrain.catalog.search import Facet, SearchResult

Text2000 = Annotated[str, Field(max_length=2000)]
Code = Annotated[str, Field(pattern=CODE_RE.pattern, examples=["101001001/000001"])]
Tag = Annotated[str, Field(max_length=TAG_MAX, description="outer spaces are dropped")]


class ClassificationBody(StrictBody):
    """类/项/目/细目: e.g. 1 · 01 · 001 · 001."""

    category: Annotated[str, Field(pattern=r"^[1-3]$", examples=["1"])]
    item: Annotated[str, Field(pattern=r"^[0-9]{2}$", examples=["01"])]
    group: Annotated[str, Field(pattern=r"^[0-9]{3}$", examples=["001"])]
    detail: Annotated[str, Field(pattern=r"^[0-9]{0,6}$", examples=["001"])] = ""


class FieldBody(StrictBody):
    """An information item (信息项)."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$", examples=["id_number"])]
    name_zh: Annotated[str, Field(max_length=100, pattern=FILLED, examples=["公民身份号码"])]
    data_type: DataType
    level: Level = Level.GENERAL
    masking: Masking = Masking.NONE
    is_identifier: bool = False


class ResourceBody(StrictBody):
    """What a provider states to publish or revise a resource."""

    classification: ClassificationBody
    name_zh: Annotated[str, Field(max_length=200, pattern=FILLED, examples=["户籍人口基本信息"])]
    name_en: Annotated[str, Field(max_length=200, pattern=FILLED)]
    department_id: Annotated[str, Field(max_length=64, description="提供部门 / provider")]
    provider_code: Annotated[
        str,
        Field(pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$", description="统一社会信用代码 GB 32100"),
    ]
    abstract: Annotated[str, Field(max_length=4000, pattern=FILLED)]
    format: ResourceFormat
    fields: Annotated[list[FieldBody], Field(min_length=1, max_length=MAX_FIELDS)]
    sharing_type: SharingType
    domain: Domain
    update_cycle: UpdateCycle
    level: Level | None = None
    sharing_condition: Text2000 = ""
    sharing_methods: Annotated[
        list[SharingMethod], Field(max_length=3, default_factory=lambda: [SharingMethod.API])
    ]
    open_type: OpenType = OpenType.CLOSED
    open_condition: Text2000 = ""
    related_codes: Annotated[list[Code], Field(max_length=MAX_RELATED, default_factory=list)]
    tags: Annotated[list[Tag], Field(max_length=MAX_TAGS, default_factory=list)]
    note: Annotated[str, Field(max_length=500, description="修订说明 / change note")] = ""

    def to_spec(self) -> ResourceSpec:
        """Return the domain spec."""
        c = self.classification
        return ResourceSpec(
            classification=Classification(c.category, c.item, c.group, c.detail),
            name_zh=self.name_zh,
            name_en=self.name_en,
            department_id=self.department_id,
            provider_code=self.provider_code,
            abstract=self.abstract,
            format=self.format,
            fields=tuple(
                FieldSpec(f.name, f.name_zh, f.data_type, f.level, f.masking, f.is_identifier)
                for f in self.fields
            ),
            sharing_type=self.sharing_type,
            domain=self.domain,
            update_cycle=self.update_cycle,
            level=self.level,
            sharing_condition=self.sharing_condition,
            sharing_methods=tuple(self.sharing_methods),
            open_type=self.open_type,
            open_condition=self.open_condition,
            related_codes=tuple(self.related_codes),
            # Tidy tags rather than refuse them: blank ones go, outer spaces are trimmed.
            tags=tuple(dict.fromkeys(t.strip(SPACES) for t in self.tags if not blank(t))),
        )


class RevisionBody(ResourceBody):
    """A revision: the whole new metadata, and the version it replaces."""

    expected_version: Annotated[int | None, Field(ge=1, description="乐观锁 / optimistic lock")] = (
        None
    )


class WithdrawBody(StrictBody):
    """Why a resource is withdrawn, and the version it replaces."""

    reason: Annotated[str, Field(min_length=1, max_length=500)]
    expected_version: Annotated[int | None, Field(ge=1)] = None


class ClassificationOut(BaseModel):
    """类/项/目/细目 and the classification code."""

    category: str
    item: str
    group: str
    detail: str
    code: str


class FieldOut(BaseModel):
    """An information item."""

    name: str
    name_zh: str
    data_type: DataType
    level: Level
    masking: Masking
    is_identifier: bool


class OpenExtractOut(BaseModel):
    """An open release of the resource (开放数据集) with its stated parameters."""

    id: str
    title: str
    mode: str = Field(description="k_anonymity or dp")
    mode_zh: str
    params: dict[str, Any] = Field(description="k, qi, max_suppression, fields / epsilon …")
    queries: list[dict[str, Any]] = Field(description="dp: each query's epsilon and scale")
    columns: list[str]
    row_count: int
    created_at: datetime
    open_type: str
    open_condition: str
    description: str = Field(description="参数说明（中文 / English）")
    url: str = Field(description="公开下载（CSV）/ public download (CSV)")
    api_url: str = Field(description="公开元数据与分页数据 / public metadata and rows (JSON)")

    @classmethod
    def of(cls, e: OpenExtract, base_url: str = "") -> OpenExtractOut:
        """Return the body of an open release; URLs absolute when ``base_url`` is given."""
        return cls(
            id=e.id, title=e.title, mode=e.mode, mode_zh=MODE_ZH.get(e.mode, e.mode),
            params=dict(e.params), queries=[dict(q) for q in e.queries],
            columns=list(e.columns), row_count=e.row_count, created_at=e.created_at,
            open_type=e.open_type, open_condition=e.open_condition, description=describe(e),
            url=base_url + e.csv_path, api_url=base_url + e.path,
        )  # fmt: skip


class ResourceOut(BaseModel):
    """One version of a resource with its whole catalogue metadata."""

    id: str
    code: str
    slug: str
    version: int
    status: Status
    change: Change
    note: str
    changed_by: str
    published_at: datetime
    updated_at: datetime
    classification: ClassificationOut
    name_zh: str
    name_en: str
    department_id: str
    provider_code: str
    abstract: str
    format: ResourceFormat
    fields: list[FieldOut]
    level: Level
    level_zh: str
    sharing_type: SharingType
    sharing_type_zh: str
    sharing_condition: str
    sharing_methods: list[SharingMethod]
    open_type: OpenType
    open_type_zh: str
    open_condition: str
    update_cycle: UpdateCycle
    domain: Domain
    domain_zh: str
    related_codes: list[str]
    tags: list[str]
    open_extracts: list[OpenExtractOut] = Field(
        default_factory=list, description="开放数据集及其参数 / open releases and their parameters"
    )

    @classmethod
    def of(
        cls, r: Resource, extracts: Sequence[OpenExtract] = (), base_url: str = ""
    ) -> ResourceOut:
        """Return the body of a resource version (with its open releases, if given)."""
        s, c = r.spec, r.spec.classification
        return cls(
            id=r.id, code=r.code, slug=r.slug, version=r.version, status=r.status,
            change=r.change, note=r.note, changed_by=r.changed_by,
            published_at=r.published_at, updated_at=r.updated_at,
            classification=ClassificationOut(
                category=c.category, item=c.item, group=c.group, detail=c.detail, code=c.code
            ),
            name_zh=s.name_zh, name_en=s.name_en, department_id=s.department_id,
            provider_code=s.provider_code, abstract=s.abstract, format=s.format,
            fields=[
                FieldOut(
                    name=f.name, name_zh=f.name_zh, data_type=f.data_type, level=f.level,
                    masking=f.masking, is_identifier=f.is_identifier,
                )
                for f in s.fields
            ],
            level=r.level, level_zh=label_zh(r.level),
            sharing_type=s.sharing_type, sharing_type_zh=label_zh(s.sharing_type),
            sharing_condition=s.sharing_condition, sharing_methods=list(s.sharing_methods),
            open_type=s.open_type, open_type_zh=label_zh(s.open_type),
            open_condition=s.open_condition, update_cycle=s.update_cycle,
            domain=s.domain, domain_zh=label_zh(s.domain),
            related_codes=list(s.related_codes), tags=list(s.tags),
            open_extracts=[OpenExtractOut.of(e, base_url) for e in extracts],
        )  # fmt: skip


class FacetCount(BaseModel):
    """How many matches have one value of a facet."""

    value: str
    count: int


class HitOut(BaseModel):
    """A matching resource and its relevance score."""

    score: float
    resource: ResourceOut


class SearchOut(BaseModel):
    """A page of search results with facet counts over all matches."""

    total: int
    items: list[HitOut]
    facets: dict[Facet, list[FacetCount]]

    @classmethod
    def of(
        cls,
        result: SearchResult,
        extracts: Mapping[str, Sequence[OpenExtract]] | None = None,
        base_url: str = "",
    ) -> SearchOut:
        """Return the body of a search result (with the hits' open releases, if given)."""
        found = extracts or {}
        return cls(
            total=result.total,
            items=[
                HitOut(
                    score=h.score,
                    resource=ResourceOut.of(h.resource, found.get(h.resource.id, ()), base_url),
                )
                for h in result.hits
            ],
            facets={
                f: [FacetCount(value=v, count=n) for v, n in counts]
                for f, counts in result.facets.items()
            },
        )
