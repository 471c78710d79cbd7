"""Open data releases (数据开放 · "data processing factory"): what a provider publishes.

A provider department releases an extract of one of its resources to the public portal
in one of two modes, and the parameters are stored and shown with the release:

- ``k_anonymity``: named quasi-identifiers (QI) are generalised along per-type ladders
  until every combination of QI values occurs at least ``k`` times, up to a stated share
  of rows suppressed (``release_kanon``);
- ``dp``: counts (overall and per category) and clamped sums/means of one numeric field
  with Laplace noise from OpenDP under a stated epsilon (``release_dp``).

Identifiers are never released: a field flagged ``is_identifier``, of an identity-code
type (citizen id, USCC, mobile, plate), or masked by the sharing layer (name, address,
bank card …) cannot be a QI, a released attribute or a DP field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from opencitybrain.catalog.model import DataType, FieldSpec, Masking, Resource
from opencitybrain.kernel.errors import FieldError, InvalidInput

K_MAX = 10_000
MAX_QI = 12
MAX_FIELDS = 50
DEFAULT_SUPPRESSION = 0.05
EPSILON_MAX = 10.0
MAX_CATEGORIES = 1_000
TITLE_MAX = 200
IDENTITY_TYPES = frozenset(
    {DataType.CITIZEN_ID, DataType.USCC, DataType.MOBILE, DataType.PLATE, DataType.GEOMETRY}
)
NUMERIC_TYPES = frozenset({DataType.INTEGER, DataType.DECIMAL})


class ReleaseMode(StrEnum):
    """How the extract is protected."""

    K_ANONYMITY = "k_anonymity"
    DP = "dp"


@dataclass(frozen=True, slots=True)
class KAnonSpec:
    """k-anonymity: the quasi-identifiers, k, the suppression limit, attributes shown as is."""

    qi: tuple[str, ...]
    k: int
    max_suppression: float = DEFAULT_SUPPRESSION
    fields: tuple[str, ...] = ()  # non-QI attributes released unchanged


@dataclass(frozen=True, slots=True)
class DpSpec:
    """Differential privacy: epsilon, the category field, the numeric field and its bounds."""

    epsilon: float
    group_by: str | None = None
    value_field: str | None = None
    lower: float | None = None
    upper: float | None = None
    categories: tuple[str, ...] | None = None  # declared categories (None: from the data)


@dataclass(frozen=True, slots=True)
class ReleaseSpec:
    """What the provider asks to release."""

    resource_id: str
    title: str
    mode: ReleaseMode
    kanon: KAnonSpec | None = None
    dp: DpSpec | None = None


@dataclass(frozen=True, slots=True)
class Release:
    """A stored release: its parameters, what the protection achieved, its table's shape."""

    id: str
    resource_id: str
    resource_code: str
    resource_name: str
    department_id: str
    title: str
    mode: ReleaseMode
    params: dict[str, object]  # as stated (k, qi, epsilon, bounds …)
    outcome: dict[str, object]  # as achieved (levels, k reached, suppressed; noise scales)
    columns: tuple[str, ...]
    row_count: int
    created_at: datetime
    created_by: str
    extra: dict[str, object] = field(default_factory=dict)


def bad(code: str, zh: str, en: str, where: str, expected: str) -> InvalidInput:
    """Return the problem a bad release parameter raises."""
    return InvalidInput(f"release.{code}", zh, en, (FieldError(where, expected),))


def releasable(f: FieldSpec) -> bool:
    """Tell whether a field may ever leave in an open release (never an identifier)."""
    return not f.is_identifier and f.data_type not in IDENTITY_TYPES and f.masking is Masking.NONE


def _field(resource: Resource, name: str, where: str) -> FieldSpec:
    by_name = {f.name: f for f in resource.spec.fields}
    f = by_name.get(name)
    if f is None:
        raise bad(
            "unknown_field",
            f"资源没有信息项 {name[:64]!r}",
            f"the resource has no field {name[:64]!r}",
            where,
            "a field of the resource",
        )
    if not releasable(f):
        raise bad(
            "identifier",
            f"信息项 {name!r} 是标识符或须脱敏，不得开放",
            f"field {name!r} identifies people or is masked: never released",
            where,
            "a field that is not an identifier",
        )
    return f


def check_kanon(resource: Resource, s: KAnonSpec) -> dict[str, FieldSpec]:
    """Return the QI and attribute fields by name if the k-anonymity parameters hold."""
    if not 2 <= s.k <= K_MAX:
        raise bad("bad_k", f"k 须在 2–{K_MAX} 之间", f"k must be 2–{K_MAX}", "k", f"2–{K_MAX}")
    if not 0.0 <= s.max_suppression <= 0.5:
        raise bad(
            "bad_suppression",
            "最大抑制比例须在 0–0.5 之间",
            "max_suppression must be 0–0.5",
            "max_suppression",
            "0–0.5",
        )
    if not 1 <= len(s.qi) <= MAX_QI or len(set(s.qi)) != len(s.qi):
        raise bad(
            "bad_qi",
            f"须列出 1–{MAX_QI} 个不重复的准标识符",
            f"name 1–{MAX_QI} distinct quasi-identifiers",
            "qi",
            f"1–{MAX_QI} fields",
        )
    if (
        len(s.fields) > MAX_FIELDS
        or set(s.fields) & set(s.qi)
        or len(set(s.fields)) != len(s.fields)
    ):
        raise bad(
            "bad_fields",
            "开放属性须不重复且不含准标识符",
            "attributes must be distinct and not quasi-identifiers",
            "fields",
            f"up to {MAX_FIELDS} distinct non-QI fields",
        )
    out = {n: _field(resource, n, "qi") for n in s.qi}
    out.update({n: _field(resource, n, "fields") for n in s.fields})
    return out


def check_dp(resource: Resource, s: DpSpec) -> dict[str, FieldSpec]:
    """Return the DP fields by name if the parameters hold (epsilon, bounds, types)."""
    if not (0.0 < s.epsilon <= EPSILON_MAX):  # also refuses NaN
        raise bad(
            "bad_epsilon",
            f"epsilon 须大于 0 且不超过 {EPSILON_MAX:g}",
            f"epsilon must be > 0 and <= {EPSILON_MAX:g}",
            "epsilon",
            f"(0, {EPSILON_MAX:g}]",
        )
    out: dict[str, FieldSpec] = {}
    if s.group_by is not None:
        out[s.group_by] = _field(resource, s.group_by, "group_by")
    if s.categories is not None and not 1 <= len(s.categories) <= MAX_CATEGORIES:
        raise bad(
            "bad_categories",
            f"类别须为 1–{MAX_CATEGORIES} 个",
            f"declare 1–{MAX_CATEGORIES} categories",
            "categories",
            "a non-empty list",
        )
    if s.value_field is None:
        if s.lower is not None or s.upper is not None:
            raise bad(
                "bounds_without_field",
                "给出上下界时须指定数值字段",
                "bounds need a value_field",
                "value_field",
                "a numeric field",
            )
        return out
    f = _field(resource, s.value_field, "value_field")
    if f.data_type not in NUMERIC_TYPES:
        raise bad(
            "not_numeric",
            f"信息项 {f.name!r} 不是数值",
            f"field {f.name!r} is not numeric",
            "value_field",
            "an integer or decimal field",
        )
    lo, hi = s.lower, s.upper
    finite = lo is not None and hi is not None and abs(lo) < 1e12 and abs(hi) < 1e12
    if not finite or not lo < hi:  # type: ignore[operator]
        raise bad(
            "bad_bounds",
            "上下界须为有限数且下界小于上界",
            "bounds must be finite with lower < upper",
            "lower",
            "lower < upper, |x| < 1e12",
        )
    out[f.name] = f
    return out
