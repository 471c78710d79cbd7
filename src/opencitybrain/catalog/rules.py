"""Catalogue rules: validate what a provider states before it is published."""

from __future__ import annotations

from dataclasses import dataclass, field

from opencitybrain.catalog.model import (
    CATEGORY_RE,
    CODE_RE,
    DETAIL_RE,
    GROUP_RE,
    ITEM_RE,
    MAX_FIELDS,
    MAX_RELATED,
    MAX_TAGS,
    NAME_RE,
    SPACES,
    TAG_MAX,
    Classification,
    FieldSpec,
    Level,
    OpenType,
    ResourceSpec,
    SharingType,
    blank,
)
from opencitybrain.kernel.errors import FieldError, InvalidInput


@dataclass(slots=True)
class _Errors:
    items: list[FieldError] = field(default_factory=list)

    def add(self, where: str, reason: str) -> None:
        self.items.append(FieldError(where, reason))


def _text(errs: _Errors, where: str, value: str, max_len: int, *, required: bool = True) -> None:
    if required and blank(value):
        errs.add(where, "required / 必填")
    elif len(value) > max_len:
        errs.add(where, f"at most {max_len} characters / 不超过 {max_len} 字")


def _classification(errs: _Errors, c: Classification) -> None:
    for where, value, pattern in (
        ("classification.category", c.category, CATEGORY_RE),
        ("classification.item", c.item, ITEM_RE),
        ("classification.group", c.group, GROUP_RE),
        ("classification.detail", c.detail, DETAIL_RE),
    ):
        if not pattern.match(value):
            errs.add(where, f"pattern {pattern.pattern}")


def _fields(errs: _Errors, fields: tuple[FieldSpec, ...]) -> None:
    if not fields:
        errs.add("fields", "at least one information item / 至少一个信息项")
    if len(fields) > MAX_FIELDS:
        errs.add("fields", f"at most {MAX_FIELDS} items")
    seen: set[str] = set()
    for i, f in enumerate(fields):
        if not NAME_RE.match(f.name):
            errs.add(f"fields[{i}].name", f"pattern {NAME_RE.pattern}")
        elif f.name in seen:
            errs.add(f"fields[{i}].name", f"duplicate name {f.name!r} / 信息项重名")
        seen.add(f.name)
        _text(errs, f"fields[{i}].name_zh", f.name_zh, 100)


def _sharing(errs: _Errors, spec: ResourceSpec) -> None:
    if spec.sharing_type is SharingType.CONDITIONAL and blank(spec.sharing_condition):
        errs.add("sharing_condition", "state the condition / 须说明共享条件")
    if spec.sharing_type is SharingType.NONE:
        if blank(spec.sharing_condition):
            errs.add("sharing_condition", "not shared needs its legal basis / 须说明不予共享的依据")
        if spec.open_type is not OpenType.CLOSED:
            errs.add("open_type", "a resource not shared cannot be opened / 不予共享的资源不得开放")
    elif not spec.sharing_methods:
        errs.add("sharing_methods", "at least one sharing method / 至少一种共享方式")
    if len(set(spec.sharing_methods)) != len(spec.sharing_methods):
        errs.add("sharing_methods", "duplicate methods")
    _text(errs, "sharing_condition", spec.sharing_condition, 2000, required=False)
    _text(errs, "open_condition", spec.open_condition, 2000, required=False)


def _lists(errs: _Errors, spec: ResourceSpec) -> None:
    if len(spec.related_codes) > MAX_RELATED:
        errs.add("related_codes", f"at most {MAX_RELATED}")
    for i, code in enumerate(spec.related_codes):
        if not CODE_RE.match(code):
            errs.add(f"related_codes[{i}]", "pattern <classification>/<6-digit sequence>")
    if len(spec.tags) > MAX_TAGS:
        errs.add("tags", f"at most {MAX_TAGS}")
    for i, tag in enumerate(spec.tags):
        if blank(tag) or len(tag) > TAG_MAX or tag != tag.strip(SPACES):
            errs.add(f"tags[{i}]", f"1–{TAG_MAX} characters, no outer spaces")


def validate_spec(spec: ResourceSpec, check_provider: bool = True) -> ResourceSpec:
    """Return the spec with tidy lists if it keeps every catalogue rule, else raise all errors."""
    errs = _Errors()
    _classification(errs, spec.classification)
    _text(errs, "name_zh", spec.name_zh, 200)
    _text(errs, "name_en", spec.name_en, 200)
    _text(errs, "abstract", spec.abstract, 4000)
    _text(errs, "department_id", spec.department_id, 64)
    if check_provider and not _uscc_ok(spec.provider_code):
        errs.add("provider_code", "a unified social credit code (GB 32100) / 统一社会信用代码")
    _fields(errs, spec.fields)
    highest = max((f.level for f in spec.fields), key=lambda lv: lv.rank, default=Level.GENERAL)
    if spec.level is not None and spec.level.rank < highest.rank:
        errs.add("level", f"below its most sensitive field ({highest.value}) / 低于信息项的级别")
    _sharing(errs, spec)
    _lists(errs, spec)
    if errs.items:
        raise InvalidInput(
            "catalog.invalid_resource",
            "资源目录信息不符合要求",
            "the resource's metadata break catalogue rules",
            tuple(errs.items),
        )
    return spec


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    """Return the GB 32100 check character of the first 17 characters."""
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def _uscc_ok(code: str) -> bool:
    if len(code) != 18 or any(c not in _USCC_ALPHABET for c in code):
        return False
    return uscc_check_char(code[:17]) == code[17]
