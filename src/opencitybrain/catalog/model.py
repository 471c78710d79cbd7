"""Catalogue domain: a government information resource (政务信息资源) and its rules.

The metadata follow the 2016 sharing rules and GB/T 21063 (core metadata): classification
类/项/目/细目, resource code, provider, abstract, format, information items (信息项),
sharing and open attributes, update cycle and dates. Classification levels follow
GB/T 43697-2024. Fields carry the masking type and identifier flag the sharing layer reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from opencitybrain.kernel.errors import FieldError, InvalidInput


class Level(StrEnum):
    """Data classification level per GB/T 43697-2024 (一般 < 重要 < 核心)."""

    GENERAL = "general"
    IMPORTANT = "important"
    CORE = "core"

    @property
    def rank(self) -> int:
        """Return the level's order: higher needs stricter grants."""
        return _LEVEL_RANK[self]


_LEVEL_RANK = {Level.GENERAL: 0, Level.IMPORTANT: 1, Level.CORE: 2}


class Masking(StrEnum):
    """How a field is masked on display when a grant does not clear it."""

    NAME = "name"
    ID_NUMBER = "id_number"
    MOBILE = "mobile"
    LANDLINE = "landline"
    ADDRESS = "address"
    PLATE = "plate"
    BANK_CARD = "bank_card"
    NONE = "none"


class DataType(StrEnum):
    """The data type of an information item; identity codes are types of their own."""

    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    CITIZEN_ID = "citizen_id"  # GB 11643
    USCC = "uscc"  # GB 32100
    PLATE = "plate"  # GA 36
    MOBILE = "mobile"
    GEOMETRY = "geometry"  # GeoJSON, WGS-84


class SharingType(StrEnum):
    """Sharing type (共享类型): sharing is the rule, not sharing the exception."""

    UNCONDITIONAL = "unconditional"  # 无条件共享
    CONDITIONAL = "conditional"  # 有条件共享
    NONE = "none"  # 不予共享


class OpenType(StrEnum):
    """Open type (开放属性) for the public portal."""

    OPEN = "open"  # 无条件开放
    CONDITIONAL = "conditional"  # 有条件开放
    CLOSED = "closed"  # 不予开放


class SharingMethod(StrEnum):
    """How shared data is delivered (共享方式)."""

    API = "api"  # 接口
    FILE = "file"  # 文件下载
    DATABASE = "database"  # 库表交换


class ResourceFormat(StrEnum):
    """The resource's format (信息资源格式)."""

    DATABASE = "database"
    SPREADSHEET = "spreadsheet"
    DOCUMENT = "document"
    IMAGE = "image"
    STREAM = "stream"
    API = "api"
    OTHER = "other"


class UpdateCycle(StrEnum):
    """How often the provider updates the resource (更新周期)."""

    REALTIME = "realtime"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    YEARLY = "yearly"
    IRREGULAR = "irregular"


class Domain(StrEnum):
    """The theme a resource belongs to: base registries and the 主题 domains."""

    POPULATION = "population"
    LEGAL_ENTITY = "legal_entity"
    GEOSPATIAL = "geospatial"
    CREDIT = "credit"
    LICENCES = "licences"
    PUBLIC_SERVICE = "public_service"
    HEALTH = "health"
    SOCIAL_SECURITY = "social_security"
    EDUCATION = "education"
    TRANSPORT = "transport"
    PUBLIC_SAFETY = "public_safety"
    MARKET = "market"
    URBAN = "urban"
    COMMUNITY = "community"
    ENVIRONMENT = "environment"
    EMERGENCY = "emergency"


class Status(StrEnum):
    """Whether a resource is in the catalogue or has been withdrawn."""

    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class Change(StrEnum):
    """What made a version: the event suffix of ``city.catalog.resource.<change>``."""

    PUBLISHED = "published"
    REVISED = "revised"
    WITHDRAWN = "withdrawn"


# Chinese labels of the coded values, per enum (values such as "conditional" recur in
# two enums, and StrEnum members equal their values, so one flat dict would mix them).
LABELS_ZH: dict[type[StrEnum], dict[str, str]] = {
    Level: {"general": "一般", "important": "重要", "core": "核心"},
    SharingType: {"unconditional": "无条件共享", "conditional": "有条件共享", "none": "不予共享"},
    OpenType: {"open": "无条件开放", "conditional": "有条件开放", "closed": "不予开放"},
    Domain: {
        "population": "人口", "legal_entity": "法人单位", "geospatial": "空间地理",
        "credit": "社会信用", "licences": "电子证照", "public_service": "公共服务",
        "health": "健康保障", "social_security": "社会保障", "education": "教育",
        "transport": "交通运输", "public_safety": "公共安全", "market": "市场监管",
        "urban": "城市管理", "community": "社区治理", "environment": "生态环保",
        "emergency": "应急管理",
    },
}  # fmt: skip


def label_zh(value: StrEnum) -> str:
    """Return the Chinese label of a coded value (the value itself if it has none)."""
    return LABELS_ZH.get(type(value), {}).get(value.value, value.value)


# 类 1 digit (1 基础, 2 主题, 3 部门), 项 2 digits, 目 3 digits, 细目 variable (here 0–6
# digits); the sequence code is variable too (here 6 digits). Provincial standards differ
# in the细目 and sequence lengths (unverified): the patterns are kept in one place.
CATEGORY_RE = re.compile(r"^[1-3]$")
ITEM_RE = re.compile(r"^[0-9]{2}$")
GROUP_RE = re.compile(r"^[0-9]{3}$")
DETAIL_RE = re.compile(r"^[0-9]{0,6}$")
CODE_RE = re.compile(r"^([1-3][0-9]{5}[0-9]{0,6})/([0-9]{6})$")
SEQUENCE_MAX = 999_999
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
TAG_MAX = 32
# What counts as blank. Spelled out, not ``\s`` or ``str.strip()``: the API states the
# same rule as a JSON Schema pattern, and regex engines disagree on what ``\s`` holds.
SPACES = " \t\n\r\u3000"
FILLED = f"[^{SPACES}]"


def blank(value: str) -> bool:
    """Tell whether a text holds nothing but spaces (incl. the ideographic space)."""
    return not value.strip(SPACES)


MAX_FIELDS = 500
MAX_TAGS = 20
MAX_RELATED = 50


@dataclass(frozen=True, slots=True)
class Classification:
    """A resource's place in the catalogue: 类/项/目/细目."""

    category: str  # 类: 1 基础 · 2 主题 · 3 部门
    item: str  # 项
    group: str  # 目
    detail: str = ""  # 细目 (may be empty)

    @property
    def code(self) -> str:
        """Return the classification code (the resource code's front part)."""
        return f"{self.category}{self.item}{self.group}{self.detail}"


def resource_code(classification: Classification, sequence: int) -> str:
    """Return the resource code: classification code + "/" + a 6-digit sequence."""
    if not 1 <= sequence <= SEQUENCE_MAX:
        raise InvalidInput(
            "catalog.sequence_range",
            f"资源顺序码须在 1–{SEQUENCE_MAX} 之间",
            f"sequence must be 1–{SEQUENCE_MAX}",
            (FieldError("sequence", f"1–{SEQUENCE_MAX}"),),
        )
    return f"{classification.code}/{sequence:06d}"


def check_code(code: str, where: str = "code") -> str:
    """Return a resource code if it is well-formed, else raise."""
    if not CODE_RE.match(code):
        raise InvalidInput(
            "catalog.bad_code",
            f"资源代码 {code!r} 格式错误（分类码/6 位顺序码）",
            f"resource code {code!r} is not <classification>/<6-digit sequence>",
            (FieldError(where, "pattern ^[1-3][0-9]{5}[0-9]{0,6}/[0-9]{6}$"),),
        )
    return code


def slug_of(code: str) -> str:
    """Return the URL-safe name of a resource code (CKAN package name)."""
    return code.replace("/", "-")


def code_of_slug(slug: str) -> str | None:
    """Return the resource code a slug names, or None if it is not a slug."""
    head, sep, tail = slug.rpartition("-")
    code = f"{head}/{tail}" if sep else ""
    return code if CODE_RE.match(code) else None


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """An information item (信息项) of a resource."""

    name: str  # machine name, e.g. ``id_number``
    name_zh: str
    data_type: DataType
    level: Level = Level.GENERAL
    masking: Masking = Masking.NONE
    is_identifier: bool = False


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    """What a provider states when it publishes or revises a resource."""

    classification: Classification
    name_zh: str
    name_en: str
    department_id: str
    provider_code: str  # the provider's unified social credit code (GB 32100)
    abstract: str
    format: ResourceFormat
    fields: tuple[FieldSpec, ...]
    sharing_type: SharingType
    domain: Domain
    update_cycle: UpdateCycle
    level: Level | None = None  # None: the highest level of its fields
    sharing_condition: str = ""  # 有条件: the condition; 不予: the legal basis
    sharing_methods: tuple[SharingMethod, ...] = (SharingMethod.API,)
    open_type: OpenType = OpenType.CLOSED
    open_condition: str = ""
    related_codes: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Resource:
    """One version of a published resource: its spec plus identity, version and dates."""

    id: str
    code: str
    version: int
    status: Status
    spec: ResourceSpec
    level: Level  # effective level: stated, or the highest of its fields
    published_at: datetime  # first publication
    updated_at: datetime  # this version
    changed_by: str
    change: Change
    note: str = ""

    @property
    def slug(self) -> str:
        """Return the URL-safe name (CKAN package name)."""
        return slug_of(self.code)

    @property
    def department_id(self) -> str:
        """Return the provider department."""
        return self.spec.department_id


def effective_level(spec: ResourceSpec) -> Level:
    """Return the resource's level: the stated one, else the highest level of its fields."""
    highest = max((f.level for f in spec.fields), key=lambda lv: lv.rank, default=Level.GENERAL)
    return spec.level if spec.level is not None else highest
