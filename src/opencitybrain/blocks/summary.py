"""Cutting a version's summary: a block query answered from small per-level tables.

The engine groups a version's rows once (``BlockEngine.summarise``); each query then
filters one level's table by its region and sums its groups up by the level's column, in
Arrow on one thread (a few thousand rows: well under a millisecond of work, where a
query through an engine's thread pool costs several). The answer is the row scan's:
the same blocks in the same order, the same in-scope and unlocated counts, integer sums
as integers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from opencitybrain.blocks.model import Op
from opencitybrain.blocks.store import CATEGORY, ROWS, Grouped, GroupPlan, Summary


def _next(prefix: str) -> str:
    """Return the smallest text above every text that starts with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _aggregations(summary: Summary, plan: GroupPlan) -> list[tuple[str, str, Any]]:
    op, field = plan.metric.op, plan.metric.field or ""
    if op is Op.COUNT:
        return [(ROWS, "sum", None)]
    if op is Op.SUM:
        return [(f"sum:{field}", "sum", None)]
    if op is Op.AVG:
        return [(f"sum:{field}", "sum", None), (f"count:{field}", "sum", None)]
    if op is Op.DISTINCT:
        return [(CATEGORY, "count_distinct", pc.CountOptions(mode="only_valid"))]
    return [(f"{op.value}:{field}", op.value, None)]


def _value(summary: Summary, plan: GroupPlan, parts: list[Any]) -> float | int | None:
    op, field = plan.metric.op, plan.metric.field or ""
    value = parts[0]
    if op is Op.AVG:
        total, count = parts
        return None if total is None or not count else float(total) / int(count)
    if op is Op.SUM and value is not None and field in summary.integer:
        return int(value)  # the rows' integer sum is an integer (a decimal of scale 0 here)
    return value  # type: ignore[no-any-return]


def cut(summary: Summary, table: pa.Table, plan: GroupPlan) -> Grouped:
    """Return the plan's groups from a summary table (``Summary.table_for``)."""
    if plan.prefix_column is not None and plan.prefix:
        column = table[plan.prefix_column]
        inside = pc.and_(pc.greater_equal(column, plan.prefix), pc.less(column, _next(plan.prefix)))
        table = table.filter(inside)  # a null code is in no region
    in_scope = int(pc.sum(table[ROWS]).as_py() or 0)
    placed = table.filter(pc.not_equal(table[plan.key], ""))  # neither null nor empty
    unlocated = in_scope - int(pc.sum(placed[ROWS]).as_py() or 0)
    if placed.num_rows == 0:
        return Grouped([], in_scope, unlocated)
    keys = [plan.key, CATEGORY] if plan.by else [plan.key]
    aggregations = _aggregations(summary, plan)
    grouped = placed.group_by(keys, use_threads=False).aggregate(aggregations)
    grouped = grouped.sort_by([(k, "ascending", "at_end") for k in keys])
    names = [f"{column}_{how}" for column, how, _ in aggregations]
    codes = grouped[plan.key].to_pylist()
    categories = grouped[CATEGORY].to_pylist() if plan.by else [None] * len(codes)
    parts = [grouped[name].to_pylist() for name in names]
    rows: list[tuple[str, str | None, datetime | None, float | int | None]] = [
        (str(code), category, None, _value(summary, plan, [p[i] for p in parts]))
        for i, (code, category) in enumerate(zip(codes, categories, strict=True))
    ]
    return Grouped(rows, in_scope, unlocated)
