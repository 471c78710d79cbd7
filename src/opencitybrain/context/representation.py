"""Render entities as NGSI-LD JSON: normalized, simplified (keyValues) or GeoJSON (v1.8).

Names are compacted with the request's @context (core context last). ``attrs`` keeps the
named attributes; ``pick`` keeps only the named members (``id``, ``type``, ``scope`` or
attribute names), ``omit`` drops them; ``lang`` turns each LanguageProperty into a
Property holding the best-matching string and its ``lang`` (``*`` keeps all languages).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from opencitybrain.context.jsonld import (
    CORE_CONTEXT_URL,
    CompiledContext,
    ContextResolver,
    ContextValue,
)
from opencitybrain.context.model import VALUE_MEMBER, Attribute, AttrKind, Entity, format_datetime

_MEMBERS = ("id", "type", "scope")


class _Options:
    __slots__ = ("ctx", "key_values", "lang", "sys_attrs")

    def __init__(
        self, ctx: CompiledContext, key_values: bool, sys_attrs: bool, lang: str | None
    ) -> None:
        self.ctx = ctx
        self.key_values = key_values
        self.sys_attrs = sys_attrs
        self.lang = None if lang in (None, "*") else _preferences(lang or "")


def context_value(context: ContextValue | CompiledContext) -> Any:
    """Return the @context to put in an application/ld+json body (core when none given)."""
    value = context.value if isinstance(context, CompiledContext) else context
    return CORE_CONTEXT_URL if value is None else value


def render_entity(
    entity: Entity,
    resolver: ContextResolver,
    context: ContextValue | CompiledContext = None,
    *,
    key_values: bool = False,
    sys_attrs: bool = False,
    attrs: Sequence[str] | None = None,
    pick: Sequence[str] | None = None,
    omit: Sequence[str] | None = None,
    lang: str | None = None,
    with_context: bool = False,
) -> dict[str, Any]:
    """Return the compacted normalized (or keyValues) JSON of an entity."""
    ctx = resolver.compile(context)
    opts = _Options(ctx, key_values, sys_attrs, lang)
    keep = _selector(ctx, attrs, pick, omit)
    out: dict[str, Any] = {}
    if keep("id"):
        out["id"] = entity.id
    if keep("type"):
        out["type"] = _one_or_many([ctx.compact(t) for t in entity.types])
    if entity.scope and keep("scope"):
        out["scope"] = _one_or_many(list(entity.scope))
    if sys_attrs:
        if entity.created_at is not None:
            out["createdAt"] = format_datetime(entity.created_at)
        if entity.modified_at is not None:
            out["modifiedAt"] = format_datetime(entity.modified_at)
    for iri, instances in entity.attrs.items():
        if instances and keep(iri):
            out[ctx.compact(iri)] = _render_instances(instances, opts)
    if with_context:
        out["@context"] = context_value(context)
    return out


def render_feature(
    entity: Entity,
    resolver: ContextResolver,
    context: ContextValue | CompiledContext = None,
    *,
    geoproperty: str = "location",
    with_context: bool = False,
    **options: Any,
) -> dict[str, Any]:
    """Return an entity as a GeoJSON Feature (clause 4.5.16), geometry from ``geoproperty``."""
    ctx = resolver.compile(context)
    body = render_entity(entity, resolver, ctx, **options)
    body.pop("id", None)
    feature: dict[str, Any] = {
        "id": entity.id,
        "type": "Feature",
        "geometry": _geometry(entity, ctx.expand(geoproperty)),
        "properties": body,
    }
    if with_context:
        feature["@context"] = context_value(context)
    return feature


def render_geojson(
    entities: Iterable[Entity],
    resolver: ContextResolver,
    context: ContextValue | CompiledContext = None,
    *,
    geoproperty: str = "location",
    with_context: bool = False,
    **options: Any,
) -> dict[str, Any]:
    """Return entities as a GeoJSON FeatureCollection (application/geo+json)."""
    ctx = resolver.compile(context)
    features = [
        render_feature(e, resolver, ctx, geoproperty=geoproperty, **options) for e in entities
    ]
    collection: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if with_context:
        collection["@context"] = context_value(context)
    return collection


def render_attribute(
    instances: Sequence[Attribute],
    resolver: ContextResolver,
    context: ContextValue | CompiledContext = None,
    *,
    key_values: bool = False,
    sys_attrs: bool = False,
    lang: str | None = None,
) -> Any:
    """Return one attribute's instances as they appear under its name in an entity."""
    opts = _Options(resolver.compile(context), key_values, sys_attrs, lang)
    return _render_instances(instances, opts)


def _selector(
    ctx: CompiledContext,
    attrs: Sequence[str] | None,
    pick: Sequence[str] | None,
    omit: Sequence[str] | None,
) -> Callable[[str], bool]:
    def expand(names: Sequence[str]) -> set[str]:
        return {n if n in _MEMBERS else ctx.expand(n) for n in names}

    wanted = None if attrs is None else expand(attrs) | set(_MEMBERS)
    picked = None if pick is None else expand(pick)
    omitted = expand(omit) if omit else set()

    def keep(name: str) -> bool:
        return (
            (wanted is None or name in wanted)
            and (picked is None or name in picked)
            and name not in omitted
        )

    return keep


def _geometry(entity: Entity, iri: str) -> Any:
    instances = [a for a in entity.attrs.get(iri, ()) if a.kind is AttrKind.GEO_PROPERTY]
    if not instances:
        return None
    default = next((a for a in instances if a.dataset_id is None), instances[0])
    return default.value


def _render_instances(instances: Sequence[Attribute], opts: _Options) -> Any:
    if opts.key_values:
        if len(instances) == 1 and instances[0].dataset_id is None:
            return _simplified(instances[0], opts)
        return {"dataset": {(a.dataset_id or "@none"): _simplified(a, opts) for a in instances}}
    rendered = [_normalized(a, opts) for a in instances]
    return rendered[0] if len(rendered) == 1 else rendered


def _normalized(attr: Attribute, opts: _Options) -> dict[str, Any]:
    ctx = opts.ctx
    kind = attr.kind
    out: dict[str, Any]
    if kind is AttrKind.LANGUAGE_PROPERTY and opts.lang is not None:
        tag, text = _choose_language(attr.value, opts.lang)
        out = {"type": AttrKind.PROPERTY.value, "value": text, "lang": tag}
    else:
        out = {"type": kind.value, VALUE_MEMBER[kind]: _plain_value(attr, ctx)}
    if attr.observed_at is not None:
        out["observedAt"] = format_datetime(attr.observed_at)
    if attr.unit_code is not None:
        out["unitCode"] = attr.unit_code
    if attr.dataset_id is not None:
        out["datasetId"] = attr.dataset_id
    if attr.object_type:
        out["objectType"] = _one_or_many([ctx.compact(t) for t in attr.object_type])
    if opts.sys_attrs:
        if attr.created_at is not None:
            out["createdAt"] = format_datetime(attr.created_at)
        if attr.modified_at is not None:
            out["modifiedAt"] = format_datetime(attr.modified_at)
    for iri, subs in attr.sub.items():
        if subs:
            out[ctx.compact(iri)] = _render_instances(subs, opts)
    return out


def _simplified(attr: Attribute, opts: _Options) -> Any:
    kind = attr.kind
    if kind is AttrKind.LANGUAGE_PROPERTY:
        if opts.lang is not None:
            return _choose_language(attr.value, opts.lang)[1]
        return {"languageMap": attr.value}
    if kind is AttrKind.VOCAB_PROPERTY:
        return {"vocab": _plain_value(attr, opts.ctx)}
    if kind is AttrKind.JSON_PROPERTY:
        return {"json": attr.value}
    return attr.value


def _plain_value(attr: Attribute, ctx: CompiledContext) -> Any:
    if attr.kind is AttrKind.VOCAB_PROPERTY:
        value = attr.value
        if isinstance(value, list):
            return [ctx.compact(v) for v in value]
        return ctx.compact(value)
    return attr.value


def _one_or_many(items: list[str]) -> str | list[str]:
    return items[0] if len(items) == 1 else items


def _preferences(lang: str) -> list[str]:
    """Return the language tags of a ``lang`` parameter, best first (q weights honoured)."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(lang.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        if tag and weight > 0:
            weighted.append((-weight, index, tag.strip().lower()))
    return [tag for _, _, tag in sorted(weighted)]


def _choose_language(language_map: Mapping[str, Any], prefs: list[str]) -> tuple[str, Any]:
    lowered = {tag.lower(): tag for tag in language_map}
    for pref in prefs:
        if pref == "*":
            break
        if pref in lowered:
            return lowered[pref], language_map[lowered[pref]]
        for low, tag in lowered.items():
            if low.startswith(pref + "-") or pref.startswith(low + "-"):
                return tag, language_map[tag]
    if "@none" in language_map:
        return "@none", language_map["@none"]
    tag = next(iter(language_map))
    return tag, language_map[tag]


def add_previous(
    item: dict[str, Any],
    previous: Mapping[str, Sequence[Attribute]],
    context: ContextValue | CompiledContext,
    resolver: ContextResolver,
) -> None:
    """Give each changed attribute of a normalized entity its value before the change.

    The member is ``previous`` + the kind's value member (``previousValue``,
    ``previousObject``, ``previousLanguageMap``, …), per instance by datasetId.
    """
    ctx = resolver.compile(context)
    for iri, before in previous.items():
        rendered = item.get(ctx.compact(iri))
        if not isinstance(rendered, dict | list):
            continue
        old_by_dataset = {a.dataset_id: a for a in before}
        for instance in rendered if isinstance(rendered, list) else [rendered]:
            old = old_by_dataset.get(instance.get("datasetId"))
            if old is not None:
                member = VALUE_MEMBER[old.kind]
                instance["previous" + member[0].upper() + member[1:]] = _plain_value(old, ctx)
