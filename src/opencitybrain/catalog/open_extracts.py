"""The port to a resource's open releases (开放数据集), shown with the resource in the catalogue.

Sharing makes open releases (k-anonymous extracts, differentially private counts and sums)
and keeps them; the catalogue shows, per resource, each release with its mode, its stated
parameters, row count, date and public download address (issue 4, item 7: "the parameters
recorded in the catalogue"). The catalogue does not import sharing: sharing's release store
implements :class:`OpenExtracts` and its wiring registers it; without it (no releases
module wired) every resource has none (:class:`NoOpenExtracts`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

OPEN_RELEASES_PATH = "/api/v1/open/releases"
MODE_ZH = {"k_anonymity": "k-匿名", "dp": "差分隐私"}
MODE_EN = {"k_anonymity": "k-anonymous extract", "dp": "differentially private statistics"}


@dataclass(frozen=True, slots=True)
class OpenExtract:
    """One open release of a resource, as the catalogue shows it."""

    id: str
    resource_id: str
    title: str
    mode: str  # "k_anonymity" or "dp"
    params: Mapping[str, object]  # as stated: k, qi, max_suppression, fields / epsilon …
    queries: tuple[Mapping[str, object], ...]  # dp: per query its name, epsilon, scale
    columns: tuple[str, ...]
    row_count: int
    created_at: datetime
    open_type: str = ""  # the resource's open type when released (open / conditional)
    open_condition: str = ""  # 有条件开放: the condition stated then
    extra: Mapping[str, object] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """Return the public path of the release (metadata and a page of rows, JSON)."""
        return f"{OPEN_RELEASES_PATH}/{self.id}"

    @property
    def csv_path(self) -> str:
        """Return the public path of the whole released table (CSV download)."""
        return f"{OPEN_RELEASES_PATH}/{self.id}/rows.csv"


class OpenExtracts(Protocol):
    """Look up the open releases of resources (newest first)."""

    def for_resource(self, resource_id: str) -> list[OpenExtract]:
        """Return one resource's open releases."""
        ...

    def for_resources(self, resource_ids: Sequence[str]) -> dict[str, list[OpenExtract]]:
        """Return the open releases of several resources, by resource id (absent: none)."""
        ...


class NoOpenExtracts:
    """No releases module wired: no resource has open releases."""

    def for_resource(self, resource_id: str) -> list[OpenExtract]:
        """Return no release."""
        return []

    def for_resources(self, resource_ids: Sequence[str]) -> dict[str, list[OpenExtract]]:
        """Return no release for any resource."""
        return {}


def _names(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "—"
    return "—" if value is None else str(value)


def _num(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def describe(e: OpenExtract) -> str:
    """Return the release's parameters in words, Chinese first then English."""
    p = e.params
    if e.mode == "k_anonymity":
        share = float(p.get("max_suppression", 0.0))  # type: ignore[arg-type]
        zh = (
            f"k-匿名开放数据集：k={p.get('k')}，准标识符 {_names(p.get('qi'))}，"
            f"最大抑制比例 {share:.0%}，原样开放属性 {_names(p.get('fields'))}；共 {e.row_count} 行"
        )
        en = (
            f"k-anonymous extract: k={p.get('k')}, quasi-identifiers {_names(p.get('qi'))}, "
            f"max suppression {share:.0%}, attributes as is {_names(p.get('fields'))}; "
            f"{e.row_count} rows"
        )
    else:
        queries = _names([q.get("query") for q in e.queries])
        bounds = ""
        if p.get("value_field") is not None:
            bounds = f" [{_num(p.get('lower'))}, {_num(p.get('upper'))}]"
        zh = (
            f"差分隐私统计：epsilon={_num(p.get('epsilon'))}（拉普拉斯机制，平均分配到各查询："
            f"{queries}），分组字段 {_names(p.get('group_by'))}，数值字段 "
            f"{_names(p.get('value_field'))}{bounds}；共 {e.row_count} 行"
        )
        en = (
            f"differentially private statistics: epsilon={_num(p.get('epsilon'))} (Laplace, "
            f"split evenly over the queries: {queries}), group by {_names(p.get('group_by'))}, "
            f"value field {_names(p.get('value_field'))}{bounds}; {e.row_count} rows"
        )
    if e.open_condition:
        zh += f"；开放条件：{e.open_condition}"
        en += f"; open condition: {e.open_condition}"
    return f"{zh} / {en}"
