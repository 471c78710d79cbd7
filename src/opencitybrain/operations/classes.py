"""Case classification as data: major and sub classes of components (部件) and events (事件).

Sub-class codes differ by city (GB/T 30428 fixes the major classes), so the table is
data: shipped for the demo city in ``data/demo_classes.json`` and edited by the bureau
through the API, every edit versioned and audited by the store.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from typing import Any

from opencitybrain.kernel.errors import FieldError, InvalidInput
from opencitybrain.worktime import TimeLimit, TimeUnit


class ClassKind(StrEnum):
    """Components (部件: things that can break) or events (事件: things that happen)."""

    COMPONENT = "component"
    EVENT = "event"


class Urgency(StrEnum):
    """How fast a class must be filed and dispatched."""

    NORMAL = "normal"
    URGENT = "urgent"


# Filing and dispatch each within 10 minutes when urgent, 30 otherwise (STANDARDS.md).
STAGE_MINUTES = {Urgency.URGENT: 10, Urgency.NORMAL: 30}

_CODE_RE = re.compile(r"^[CE][0-9]{4,6}$")
_REGION_RE = re.compile(r"^[0-9]{6}([0-9]{3}){0,3}$")
_DEPT_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")


@dataclass(frozen=True, slots=True)
class CaseClass:
    """A sub-class: who handles it (per region), in how long, how urgent."""

    code: str  # C0101 (component 01 major, 01 sub) or E0102 (event)
    kind: ClassKind
    major_zh: str
    major_en: str
    name_zh: str
    name_en: str
    department_id: str
    time_limit: TimeLimit
    urgency: Urgency = Urgency.NORMAL
    # Region code (county 6, street 9, community 12 or grid 15 digits) → department.
    region_departments: dict[str, str] = field(default_factory=dict)
    keywords: tuple[str, ...] = ()  # words a classifier or a search may use
    active: bool = True

    @property
    def major_code(self) -> str:
        """Return the major class code (kind letter + two digits)."""
        return self.code[:3]

    @property
    def stage_minutes(self) -> int:
        """Return the filing (and the dispatch) limit in minutes."""
        return STAGE_MINUTES[self.urgency]

    def department_for(self, region_codes: tuple[str, ...]) -> str:
        """Return the department: the most specific region override, else the default."""
        for code in sorted(region_codes, key=len, reverse=True):
            for prefix in (code[:n] for n in (15, 12, 9, 6) if len(code) >= n):
                if prefix in self.region_departments:
                    return self.region_departments[prefix]
        return self.department_id

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (as shipped and as the API shows it)."""
        return {
            "code": self.code,
            "kind": self.kind.value,
            "major_zh": self.major_zh,
            "major_en": self.major_en,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "department_id": self.department_id,
            "time_limit": {"value": self.time_limit.value, "unit": self.time_limit.unit.value},
            "urgency": self.urgency.value,
            "region_departments": dict(sorted(self.region_departments.items())),
            "keywords": list(self.keywords),
            "active": self.active,
        }


def _bad(field_name: str, reason: str, code: str | None = None) -> InvalidInput:
    where = f"{code}: " if code else ""
    return InvalidInput(
        "classes.invalid",
        f"案件分类 {where}{field_name} 无效：{reason}",
        f"case class {where}{field_name} is invalid: {reason}",
        (FieldError(field_name, reason),),
    )


def _text(data: dict[str, Any], key: str, code: str | None, max_len: int = 100) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise _bad(key, f"a non-empty text of at most {max_len} characters", code)
    return value.strip()


def class_from_dict(data: dict[str, Any]) -> CaseClass:
    """Validate and build a class from its JSON form."""
    if not isinstance(data, dict):
        raise _bad("class", "an object")
    code = data.get("code")
    if not isinstance(code, str) or not _CODE_RE.match(code):
        raise _bad("code", "C or E followed by 4–6 digits, e.g. E0102")
    try:
        kind = ClassKind(str(data.get("kind")))
        urgency = Urgency(data.get("urgency", "normal"))
    except ValueError as exc:
        raise _bad("kind/urgency", str(exc), code) from exc
    if (kind is ClassKind.COMPONENT) != code.startswith("C"):
        raise _bad("code", "components start with C, events with E", code)
    limit = data.get("time_limit")
    if not isinstance(limit, dict):
        raise _bad("time_limit", "an object {value, unit}", code)
    try:
        time_limit = TimeLimit(float(limit.get("value", 0)), TimeUnit(str(limit.get("unit"))))
    except (TypeError, ValueError) as exc:
        raise _bad("time_limit", f"value > 0 and unit one of {list(TimeUnit)}", code) from exc
    dept = _text(data, "department_id", code, 64)
    regions = data.get("region_departments") or {}
    if not isinstance(regions, dict) or not all(
        isinstance(k, str) and _REGION_RE.match(k) and isinstance(v, str) and _DEPT_RE.match(v)
        for k, v in regions.items()
    ):
        raise _bad("region_departments", "region code (6–15 digits) → department id", code)
    if not _DEPT_RE.match(dept):
        raise _bad("department_id", "a department id like urban-management", code)
    keywords = data.get("keywords") or []
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        raise _bad("keywords", "a list of words", code)
    return CaseClass(
        code=code,
        kind=kind,
        major_zh=_text(data, "major_zh", code),
        major_en=_text(data, "major_en", code),
        name_zh=_text(data, "name_zh", code),
        name_en=_text(data, "name_en", code),
        department_id=dept,
        time_limit=time_limit,
        urgency=urgency,
        region_departments=dict(regions),
        keywords=tuple(keywords),
        active=bool(data.get("active", True)),
    )


def load_classes(text: str) -> list[CaseClass]:
    """Parse a class table (a JSON list); refuse duplicates and bad rows."""
    try:
        rows = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad("table", f"not JSON: {exc}") from exc
    if not isinstance(rows, list):
        raise _bad("table", "a JSON list of classes")
    out = [class_from_dict(r) for r in rows]
    codes = [c.code for c in out]
    if len(set(codes)) != len(codes):
        raise _bad("code", "codes must be unique")
    return out


def demo_classes() -> list[CaseClass]:
    """Return the class table shipped for the demo city."""
    text = resources.files("opencitybrain.operations").joinpath("data/demo_classes.json")
    return load_classes(text.read_text(encoding="utf-8"))
