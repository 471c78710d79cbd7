"""The temporal representation of entities (spec 1.8, clauses 4.5.7-4.5.9) and retention.

Every attribute becomes the array of its instances, oldest first by the time property:
normalized (each instance as in an entity, with ``observedAt``, ``datasetId``…), concise
(the same without ``type``) or simplified (``temporalValues``: per datasetId one object
whose ``values``, ``objects``, ``languageMaps``… hold ``[value, time]`` pairs).

A historical instance is immutable: it is created when the broker records it, so
``timeproperty=createdAt`` and ``modifiedAt`` both select and order by that recording
time (the instance's stored ``modifiedAt``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from opencitybrain.context.errors import BadRequestData
from opencitybrain.context.jsonld import CompiledContext
from opencitybrain.context.model import (
    VALUE_MEMBER,
    AttrKind,
    Entity,
    format_datetime,
    parse_datetime,
)
from opencitybrain.context.representation import context_value
from opencitybrain.context.store import Doc, EntityStore, TimeRel
from opencitybrain.kernel.clock import Clock

log = logging.getLogger(__name__)

TimeProperty = Literal["observedAt", "modifiedAt", "createdAt"]
Format = Literal["normalized", "concise", "temporalValues"]
TIME_RELS: tuple[TimeRel, ...] = ("before", "after", "between")
TIME_PROPERTIES: tuple[TimeProperty, ...] = ("observedAt", "modifiedAt", "createdAt")
_MEMBERS = ("id", "type", "scope")
_KINDS = {kind.value: kind for kind in AttrKind}

# The member that lists an attribute's [value, time] pairs in temporalValues (4.5.9).
VALUES_MEMBER: dict[AttrKind, str] = {
    AttrKind.PROPERTY: "values",
    AttrKind.GEO_PROPERTY: "values",
    AttrKind.RELATIONSHIP: "objects",
    AttrKind.LANGUAGE_PROPERTY: "languageMaps",
    AttrKind.VOCAB_PROPERTY: "vocabs",
    AttrKind.JSON_PROPERTY: "jsons",
    AttrKind.LIST_PROPERTY: "valueLists",
    AttrKind.LIST_RELATIONSHIP: "objectLists",
}


@dataclass(frozen=True)
class TemporalFilter:
    """Which instances to return: time relation, time property and the last N."""

    timerel: TimeRel | None = None
    time_at: datetime | None = None
    end_time_at: datetime | None = None
    time_property: TimeProperty = "observedAt"
    last_n: int | None = None


def _bad(zh: str, en: str, name: str) -> BadRequestData:
    return BadRequestData(zh, en, field=name)


def _instant(params: Mapping[str, str], name: str) -> datetime | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        return parse_datetime(raw)
    except ValueError:
        raise _bad(
            f"{name} 不是 ISO 8601 日期时间：{raw!r}",
            f"{name} is not an ISO 8601 date-time: {raw!r}",
            name,
        ) from None


def parse_filter(params: Mapping[str, str]) -> TemporalFilter:
    """Read ``timerel``, ``timeAt``, ``endTimeAt``, ``timeproperty`` and ``lastN``."""
    raw_rel = params.get("timerel")
    time_at = _instant(params, "timeAt")
    end_time_at = _instant(params, "endTimeAt")
    timerel = next((r for r in TIME_RELS if r == raw_rel), None)
    if raw_rel is not None and timerel is None:
        raise _bad(
            f"timerel 只能是 before、after 或 between：{raw_rel!r}",
            f"timerel must be before, after or between: {raw_rel!r}",
            "timerel",
        )
    if timerel is None and time_at is not None:
        raise _bad("timeAt 需要 timerel", "timeAt needs timerel", "timerel")
    if timerel is not None and time_at is None:
        raise _bad("timerel 需要 timeAt", "timerel needs timeAt", "timeAt")
    if timerel == "between":
        if end_time_at is None:
            raise _bad(
                "timerel=between 需要 endTimeAt", "timerel=between needs endTimeAt", "endTimeAt"
            )
        if time_at is not None and end_time_at <= time_at:
            raise _bad(
                "endTimeAt 必须晚于 timeAt", "endTimeAt must be later than timeAt", "endTimeAt"
            )
    raw_prop = params.get("timeproperty", "observedAt")
    prop = next((p for p in TIME_PROPERTIES if p == raw_prop), None)
    if prop is None:
        raise _bad(
            f"timeproperty 只能是 observedAt、modifiedAt 或 createdAt：{raw_prop!r}",
            f"timeproperty must be observedAt, modifiedAt or createdAt: {raw_prop!r}",
            "timeproperty",
        )
    last_n = _last_n(params.get("lastN"))
    return TemporalFilter(timerel, time_at, end_time_at, prop, last_n)


def _last_n(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        last_n = int(raw)
    except ValueError:
        last_n = 0
    if last_n < 1:
        raise _bad("lastN 必须是正整数", "lastN must be a positive integer", "lastN")
    return last_n


def entity_history(
    store: EntityStore,
    tenant: str,
    entity_id: str,
    filt: TemporalFilter,
    attrs: Sequence[str] | None = None,
) -> dict[str, list[Doc]]:
    """Return an entity's instances by attribute IRI, oldest first by the time property."""
    return store.history(
        tenant,
        entity_id,
        attrs=attrs,
        timerel=filt.timerel,
        time_at=filt.time_at,
        end_time_at=filt.end_time_at,
        last_n=filt.last_n,
        # Both sys-times of a historical instance are its recording time (module docstring).
        time_property="observedAt" if filt.time_property == "observedAt" else "modifiedAt",
    )


def member_selector(
    ctx: CompiledContext, pick: Sequence[str] | None, omit: Sequence[str] | None
) -> Callable[[str], bool]:
    """Return whether a member (``id``, ``type``, ``scope`` or an attribute IRI) is kept."""
    picked = None if pick is None else {n if n in _MEMBERS else ctx.expand(n) for n in pick}
    omitted = {n if n in _MEMBERS else ctx.expand(n) for n in omit or ()}
    return lambda name: (picked is None or name in picked) and name not in omitted


def render_temporal(
    entity: Entity,
    history: Mapping[str, Sequence[Doc]],
    ctx: CompiledContext,
    *,
    fmt: Format = "normalized",
    time_property: TimeProperty = "observedAt",
    sys_attrs: bool = False,
    keep: Callable[[str], bool] = lambda _: True,
    with_context: bool = False,
) -> dict[str, Any]:
    """Return the temporal representation of an entity from its attribute history."""
    out: dict[str, Any] = {}
    if keep("id"):
        out["id"] = entity.id
    if keep("type"):
        types = [ctx.compact(t) for t in entity.types]
        out["type"] = types[0] if len(types) == 1 else types
    if entity.scope and keep("scope"):
        out["scope"] = list(entity.scope)
    if sys_attrs:
        if entity.created_at is not None:
            out["createdAt"] = format_datetime(entity.created_at)
        if entity.modified_at is not None:
            out["modifiedAt"] = format_datetime(entity.modified_at)
    for iri, docs in history.items():
        if not docs or not keep(iri):
            continue
        if fmt == "temporalValues":
            rendered: Any = _temporal_values(docs, ctx, time_property)
        else:
            rendered = _instances(docs, ctx, time_property, fmt == "concise", sys_attrs)
        out[ctx.compact(iri)] = rendered
    if with_context:
        out["@context"] = context_value(ctx)
    return out


def _moment(doc: Doc, time_property: TimeProperty) -> str | None:
    # An instance never observed is placed (and shown) at its recording time.
    if time_property == "observedAt":
        return doc.get("observedAt") or doc.get("modifiedAt")
    moment: str | None = doc.get("modifiedAt")
    return moment


def _kind(doc: Doc) -> AttrKind:
    # Histories written outside the broker may lack the kind; a Property is the default.
    return _KINDS.get(doc.get("type", ""), AttrKind.PROPERTY)


def _vocab(value: Any, ctx: CompiledContext) -> Any:
    return [ctx.compact(v) for v in value] if isinstance(value, list) else ctx.compact(value)


def _instance(doc: Doc, ctx: CompiledContext, concise: bool, sys_attrs: bool) -> dict[str, Any]:
    # Rendered straight from the storage document, as representation.py renders an
    # Attribute: going through the model parsed and re-formatted three timestamps per
    # instance, two thirds of the time for 10k instances. Stored times are canonical.
    kind = _kind(doc)
    out: dict[str, Any] = {} if concise else {"type": kind.value}
    value = doc.get("value")
    out[VALUE_MEMBER[kind]] = _vocab(value, ctx) if kind is AttrKind.VOCAB_PROPERTY else value
    for member in ("observedAt", "unitCode", "datasetId", "instanceId"):
        if member in doc:
            out[member] = doc[member]
    if doc.get("objectType"):
        types = [ctx.compact(t) for t in doc["objectType"]]
        out["objectType"] = types[0] if len(types) == 1 else types
    if sys_attrs:
        for member in ("createdAt", "modifiedAt"):
            if member in doc:
                out[member] = doc[member]
    for iri, subs in doc.get("sub", {}).items():
        if subs:
            rendered = [_instance(sub, ctx, concise, sys_attrs) for sub in subs]
            out[ctx.compact(iri)] = rendered[0] if len(rendered) == 1 else rendered
    return out


def _instances(
    docs: Sequence[Doc],
    ctx: CompiledContext,
    time_property: TimeProperty,
    concise: bool,
    sys_attrs: bool,
) -> list[dict[str, Any]]:
    out = []
    for doc in docs:
        inst = _instance(doc, ctx, concise, sys_attrs)
        if time_property != "observedAt" and "modifiedAt" in doc:
            inst[time_property] = doc["modifiedAt"]
        out.append(inst)
    return out


def _temporal_values(docs: Sequence[Doc], ctx: CompiledContext, time_property: TimeProperty) -> Any:
    groups: dict[str | None, tuple[dict[str, Any], list[list[Any]]]] = {}
    for doc in docs:
        moment = _moment(doc, time_property)
        if moment is None:
            continue
        dataset = doc.get("datasetId")
        group = groups.get(dataset)
        if group is None:
            kind = _kind(doc)
            pairs: list[list[Any]] = []
            head: dict[str, Any] = {"type": kind.value, VALUES_MEMBER[kind]: pairs}
            if dataset is not None:
                head["datasetId"] = dataset
            group = groups[dataset] = (head, pairs)
        value = doc.get("value")
        if group[0]["type"] == AttrKind.VOCAB_PROPERTY.value:
            value = _vocab(value, ctx)
        group[1].append([value, moment])
    # The default instance first, then each datasetId as first seen.
    ordered = sorted((head for head, _ in groups.values()), key=lambda g: "datasetId" in g)
    return ordered[0] if len(ordered) == 1 else ordered


# --- retention ------------------------------------------------------------------------


def prune(store: EntityStore, clock: Clock, days: int) -> int:
    """Delete history recorded more than ``days`` days ago (clock time); return how many."""
    cutoff = clock.now() - timedelta(days=days)
    removed = store.prune_history(None, cutoff)
    if removed:
        log.info("pruned %d history instances recorded before %s", removed, cutoff.isoformat())
    return removed


async def _retention_loop(store: EntityStore, clock: Clock, days: int, every_s: float) -> None:
    while True:
        try:
            # The delete is synchronous SQL; keep it off the event loop.
            await asyncio.to_thread(prune, store, clock, days)
        except Exception:
            # A failed pass (database busy, connection lost) is retried next time.
            log.exception("history retention pass failed; retrying in %ss", every_s)
        await clock.sleep(every_s)


def retention_task(
    store: EntityStore, clock: Clock, days: int, every_s: float = 3600.0
) -> asyncio.Task[None]:
    """Start pruning history now and every ``every_s`` clock seconds; cancel to stop."""
    if days < 1 or every_s <= 0:
        raise ValueError("保留天数至少 1 天，间隔须为正 / days must be >= 1 and every_s > 0")
    return asyncio.get_running_loop().create_task(
        _retention_loop(store, clock, days, every_s), name="context-history-retention"
    )
