"""Block data's pure types: levels and their codes, metrics, queries, results, scopes.

Region codes nest by prefix (GB/T 2260 county 6 digits, then 3 digits each for street,
community and GB/T 30428 grid), so a region's parent is its code cut short and its
children are the codes one level down that start with it. H3 cells are a separate,
regular level (no parent in the administrative tree).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from opencitybrain.kernel.errors import Forbidden, InvalidInput

Level = Literal["city", "county", "street", "community", "grid", "h3"]
ADMIN_LEVELS: tuple[Level, ...] = ("city", "county", "street", "community", "grid")
CODE_WIDTH: dict[str, int] = {"county": 6, "street": 9, "community": 12, "grid": 15}
# The located columns a level groups by (h3 is computed on demand per resolution).
LEVEL_COLUMN: dict[str, str] = {
    "county": "_county",
    "street": "_street",
    "community": "_community",
    "grid": "_grid",
}
H3_RESOLUTIONS = range(5, 11)
DEFAULT_H3_RESOLUTION = 9
FIELD_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_CELLS = 20_000


class Op(StrEnum):
    """How a block's value is computed from its rows."""

    COUNT = "count"
    SUM = "sum"
    AVG = "avg"
    MIN = "min"
    MAX = "max"
    DISTINCT = "distinct"  # distinct values of a field


class Bucket(StrEnum):
    """A time window's width, for series by time."""

    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


def _bad(code: str, zh: str, en: str) -> InvalidInput:
    return InvalidInput(f"blocks.{code}", zh, en)


def level_of(code: str) -> Level:
    """Return the administrative level of a region code (an empty code is the city)."""
    if code == "":
        return "city"
    for level, width in CODE_WIDTH.items():
        if len(code) == width and code.isdigit():
            return level  # type: ignore[return-value]
    raise _bad("bad_code", f"区划代码无效：{code!r}", f"not a region code: {code!r}")


def child_level(level: Level) -> Level | None:
    """Return the level below one of the administrative tree (None below the grid)."""
    if level not in ADMIN_LEVELS:
        return None
    index = ADMIN_LEVELS.index(level)
    return ADMIN_LEVELS[index + 1] if index + 1 < len(ADMIN_LEVELS) else None


def parent_code(code: str) -> str | None:
    """Return the code of a region's parent ("" for a county: the city; None for the city)."""
    level = level_of(code)
    if level == "city":
        return None
    if level == "county":
        return ""
    parent = ADMIN_LEVELS[ADMIN_LEVELS.index(level) - 1]
    return code[: CODE_WIDTH[parent]]


def check_field(name: str) -> str:
    """Return a field name if it is a plain identifier, else raise (names reach SQL)."""
    if not FIELD_RE.match(name):
        raise _bad("bad_field", f"字段名无效：{name!r}", f"not a field name: {name!r}")
    return name


@dataclass(frozen=True, slots=True)
class Metric:
    """What each block shows: an operation on a field (count needs none)."""

    op: Op = Op.COUNT
    field: str | None = None

    def __post_init__(self) -> None:
        if self.op is not Op.COUNT and self.field is None:
            raise _bad("metric_field", f"{self.op} 需要字段", f"{self.op} needs a field")
        if self.field is not None:
            check_field(self.field)

    @property
    def label(self) -> str:
        """Return the metric as text (``count``, ``sum(amount)``)."""
        return self.op.value if self.field is None else f"{self.op.value}({self.field})"


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Rows whose time field falls in [start, end), optionally in buckets."""

    field: str
    start: datetime | None = None
    end: datetime | None = None
    bucket: Bucket | None = None

    def __post_init__(self) -> None:
        check_field(self.field)
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise _bad(
                "bad_window", "时间窗口的结束须晚于开始", "the window must end after it starts"
            )


@dataclass(frozen=True, slots=True)
class BlockQuery:
    """Sum a resource's rows up into the blocks of one level, within one parent region."""

    resource_id: str
    level: Level = "county"
    within: str = ""  # a region code, "" for the whole city
    metric: Metric = field(default_factory=Metric)
    by: str | None = None  # a categorical field: one value per block and category
    window: TimeWindow | None = None
    h3_resolution: int = DEFAULT_H3_RESOLUTION

    def __post_init__(self) -> None:
        if self.level not in (*ADMIN_LEVELS, "h3"):
            raise _bad("bad_level", f"未知层级：{self.level}", f"unknown level: {self.level}")
        within_level = level_of(self.within)
        if self.level == "city" and self.within:
            raise _bad("bad_drill", "全市汇总不能限定区域", "the city level takes no region")
        if self.level not in ("city", "h3") and ADMIN_LEVELS.index(
            self.level
        ) <= ADMIN_LEVELS.index(within_level):
            raise _bad(
                "bad_drill",
                f"{self.level} 不在 {self.within or '全市'} 之下",
                f"{self.level} is not below {self.within or 'the city'}",
            )
        if self.by is not None:
            check_field(self.by)
        if self.h3_resolution not in H3_RESOLUTIONS:
            raise _bad("bad_h3", "H3 分辨率须为 5–10", "the H3 resolution must be 5–10")


@dataclass(frozen=True, slots=True)
class Block:
    """One block's value (and its category when the query counts by category)."""

    code: str
    value: float | int | None
    category: str | None = None
    bucket: datetime | None = None


@dataclass(frozen=True, slots=True)
class BlockResult:
    """The blocks of a query and the snapshot they were computed from."""

    query: BlockQuery
    blocks: tuple[Block, ...]
    version: str  # the resource snapshot's version: results are valid for it only
    rows: int  # rows of the resource in scope (located or not)
    unlocated: int  # rows in scope with no place at this level
    cached: bool = False


@dataclass(frozen=True, slots=True)
class RegionScope:
    """The part of the city a caller may see: a region code prefix ("" = all of it).

    The scope comes from the caller's department: its ``region_code``, or the nearest
    ancestor department's (a district bureau's office sits under its district); departments
    with none (city-wide bureaus) see the whole city.
    """

    prefix: str = ""

    def clip(self, query: BlockQuery) -> BlockQuery:
        """Return the query narrowed to the scope, or raise if it reaches outside it."""
        if query.within.startswith(self.prefix):
            return query
        if self.prefix.startswith(query.within):
            # Asking for more than one may see: answer for one's own area only.
            below = child_level(level_of(self.prefix))
            level = query.level
            if (
                level != "h3"
                and below is not None
                and (ADMIN_LEVELS.index(level) < ADMIN_LEVELS.index(below))
            ):
                level = below
            return BlockQuery(
                query.resource_id, level, self.prefix, query.metric, query.by,
                query.window, query.h3_resolution,
            )  # fmt: skip
        raise Forbidden(
            "blocks.out_of_scope",
            f"无权查看区域 {query.within}",
            f"region {query.within} is outside your area",
        )
