"""The conflict review queue: attributes on which departments disagree, and decisions.

A build lists every attribute of a golden record whose linked records hold different
values, each value with the departments that hold it and whether the build chose it.
A reviewer resolves an item by picking one of the listed values and saying why; the
decision overrides the build's choice on every later read and survives rebuilds (it is
keyed by golden record and attribute). The item stays in the queue as resolved.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from opencitybrain.kernel.clock import Clock
from opencitybrain.kernel.errors import InvalidInput, NotFound
from opencitybrain.kernel.events import Context
from opencitybrain.registry.store import BuildFiles, Decision, DecisionStore, Kind
from opencitybrain.sharing.masking import RowMasker

MAX_REASON = 500
STATUSES = ("open", "resolved", "all")


def item_id(golden_id: str, attribute: str) -> str:
    """Return a review item's id: ``<golden id>.<attribute>``."""
    return f"{golden_id}.{attribute}"


def split_item(item: str) -> tuple[str, str]:
    """Return (golden id, attribute) of an item id, or raise."""
    golden_id, _, attribute = item.rpartition(".")
    if not golden_id or not attribute:
        raise NotFound("registry.unknown_item", f"没有复核项 {item}", f"no review item {item}")
    return golden_id, attribute


def _typed(value: str, kind: pa.DataType) -> Any:
    if pa.types.is_integer(kind):
        return int(value)
    return value


class ReviewQueue:
    """List conflicts and record reviewers' decisions."""

    def __init__(self, files: BuildFiles, decisions: DecisionStore, clock: Clock) -> None:
        self.files = files
        self.decisions = decisions
        self.clock = clock

    def _review(self, kind: Kind) -> pa.Table:
        build = self.files.current(kind)
        if build is None:
            raise NotFound(
                "registry.not_built",
                f"{kind} 主档尚未生成",
                f"the {kind} registry is not built yet",
            )
        return build.review

    def items(
        self,
        kind: Kind,
        status: str = "open",
        offset: int = 0,
        limit: int = 50,
        masker: RowMasker | None = None,
    ) -> dict[str, Any]:
        """Return a page of review items (open, resolved or all) with their options.

        With a ``masker`` (the caller's grant), golden IDs and values are masked as the
        golden record's fields are: only a caller who sees them in clear can resolve.
        """
        if status not in STATUSES:
            raise InvalidInput(
                "registry.bad_status", "状态须为 open、resolved 或 all",
                "status must be open, resolved or all",
            )  # fmt: skip
        if self.files.current(kind) is None:
            return {"total": 0, "items": []}  # nothing built yet: nothing to review
        review = self._review(kind)
        decided = {(d.golden_id, d.attribute): d for d in self.decisions.decisions(kind)}
        keys = (
            review.select(["golden_id", "attribute"])
            .group_by(["golden_id", "attribute"])
            .aggregate([])
            .sort_by([("golden_id", "ascending"), ("attribute", "ascending")])
        )
        pairs = list(zip(keys["golden_id"].to_pylist(), keys["attribute"].to_pylist(), strict=True))
        if status == "open":
            pairs = [p for p in pairs if p not in decided]
        elif status == "resolved":
            pairs = [p for p in pairs if p in decided]
        page = pairs[offset : offset + limit]
        return {
            "total": len(pairs),
            "items": [self._item(kind, review, g, a, decided.get((g, a)), masker) for g, a in page],
        }

    def _item(
        self,
        kind: Kind,
        review: pa.Table,
        golden_id: str,
        attribute: str,
        decision: Decision | None,
        masker: RowMasker | None = None,
    ) -> dict[str, Any]:
        shown = masker.apply_row if masker is not None else dict
        mask = pc.and_(
            pc.equal(review["golden_id"], golden_id), pc.equal(review["attribute"], attribute)
        )
        options = [
            {"value": shown({attribute: r["value"]})[attribute],
             "sources": (r["sources"] or "").split(","), "chosen": r["chosen"]}
            for r in review.filter(mask).to_pylist()
        ]  # fmt: skip
        shown_id = str(shown({"golden_id": golden_id})["golden_id"])
        return {
            "id": item_id(shown_id, attribute),
            "kind": kind,
            "golden_id": shown_id,
            "attribute": attribute,
            "options": options,
            "status": "resolved" if decision else "open",
            "decision": None if decision is None else {
                "value": shown({attribute: decision.value})[attribute],
                "reason": decision.reason,
                "decided_by": decision.decided_by,
                "decided_at": decision.decided_at.isoformat(),
            },
        }  # fmt: skip

    def resolve(
        self, ctx: Context, kind: Kind, item: str, value: str, reason: str
    ) -> dict[str, Any]:
        """Pick one of an item's values with a reason; return the resolved item."""
        golden_id, attribute = split_item(item)
        review = self._review(kind)
        mask = pc.and_(
            pc.equal(review["golden_id"], golden_id), pc.equal(review["attribute"], attribute)
        )
        values = review.filter(mask)["value"].to_pylist()
        if not values:
            raise NotFound("registry.unknown_item", f"没有复核项 {item}", f"no review item {item}")
        reason = reason.strip()
        if not reason or len(reason) > MAX_REASON:
            raise InvalidInput(
                "registry.bad_reason", "须说明理由（1–500 字）", "give a reason (1–500 characters)"
            )
        if value not in values:
            raise InvalidInput(
                "registry.bad_value",
                "所选值不在该复核项的候选值中",
                "the value is not one of the item's listed values",
            )
        decision = Decision(
            kind, golden_id, attribute, value, reason, ctx.actor or "",
            ctx.department or "", self.clock.now(),
        )  # fmt: skip
        self.decisions.decide(decision)
        return self._item(kind, review, golden_id, attribute, decision)

    def apply_decisions(self, kind: Kind, record: dict[str, Any]) -> dict[str, Any]:
        """Return a golden record with reviewers' decisions in place of the build's picks."""
        out = dict(record)
        build = self.files.current(kind)
        schema = build.golden.schema if build is not None else None
        for d in self.decisions.decisions(kind, [str(record["golden_id"])]):
            if d.attribute not in out or schema is None:
                continue
            out[d.attribute] = _typed(d.value, schema.field(d.attribute).type)
            out[f"{d.attribute}_source"] = "review"
        return out
