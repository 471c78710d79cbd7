"""Parse NGSI-LD request bodies (normalized or concise) into the expanded entity model.

Every rule broken raises BadRequestData naming the member (``status.observedAt``,
``location``) and the reason. System members (createdAt, modifiedAt, deletedAt,
instanceId) sent by a client are ignored, as the spec says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opencitybrain.context.errors import BadRequestData
from opencitybrain.context.geoproperty import GEOMETRY_TYPES, geometry_problem, looks_like_geometry
from opencitybrain.context.jsonld import NGSI_LD, CompiledContext, ContextResolver, ContextValue
from opencitybrain.context.member_rules import (
    bad,
    check_language_map,
    has_forbidden_char,
    is_null_value,
    is_scope,
    is_uri,
    member_datetime,
    relationship_objects,
)
from opencitybrain.context.model import (
    NGSI_LD_NULL,
    RELATIONSHIP_KINDS,
    VALUE_MEMBER,
    Attribute,
    AttrKind,
    Entity,
    quick_init,
)

_KIND_OF_IRI = {NGSI_LD + kind.value: kind for kind in AttrKind}
# Concise attributes are recognised by their value member; "value" means Property here.
_KIND_OF_MEMBER = {
    member: kind for kind, member in VALUE_MEMBER.items() if kind is not AttrKind.GEO_PROPERTY
}
_VALUE_MEMBERS = frozenset(_KIND_OF_MEMBER)
_SYSTEM = frozenset({"createdAt", "modifiedAt", "deletedAt", "instanceId"})
_PROHIBITED = frozenset(
    {"@context", "@id", "@type", "entity", "entityList", "lang", "id", "scope"}
    | {"previousValue", "previousObject", "previousLanguageMap", "previousVocab"}
    | {"previousJson", "previousValueList", "previousObjectList"}
)
_META = frozenset({"type", "observedAt", "unitCode", "datasetId", "objectType", "expiresAt"})
_RESERVED_NAMES = _VALUE_MEMBERS | _SYSTEM | _PROHIBITED | _META
_UNIT_KINDS = frozenset({AttrKind.PROPERTY, AttrKind.GEO_PROPERTY, AttrKind.LIST_PROPERTY})
_GEO_ONLY = frozenset(NGSI_LD + n for n in ("location", "observationSpace", "operationSpace"))
# Entity members that are no attributes (expiresAt: transient entities, clause 4.22, are
# not kept; the member is ignored), and attribute members that are no sub-attributes
# besides the value member: one set lookup per member instead of a tuple and a set.
_NOT_ATTRIBUTES = (
    frozenset({"id", "@id", "type", "@type", "scope", "@context", "expiresAt"}) | _SYSTEM
)
_NOT_SUB_ATTRIBUTES = frozenset({"type", "expiresAt"}) | _SYSTEM


@quick_init
@dataclass(frozen=True, slots=True)
class Fragment:
    """A partial entity from a merge or append body; ``scope=()`` asks to delete scopes."""

    id: str | None = None
    types: tuple[str, ...] = ()
    scope: tuple[str, ...] | None = None
    attrs: dict[str, list[Attribute]] = field(default_factory=dict)


def parse_entity(
    payload: Any,
    resolver: ContextResolver,
    context: ContextValue | CompiledContext = None,
    *,
    now: datetime | None = None,
) -> Entity:
    """Return the entity of a create/replace body; stamp createdAt/modifiedAt if ``now``."""
    parser = _Parser(_compiled(payload, resolver, context), allow_null=False, now=now)
    fragment = parser.fragment(payload, need_id=True)
    return Entity(
        id=fragment.id or "",
        types=fragment.types,
        attrs=fragment.attrs,
        scope=fragment.scope or (),
        created_at=now,
        modified_at=now,
    )


def parse_fragment(
    payload: Any,
    resolver: ContextResolver,
    context: ContextValue | CompiledContext = None,
    *,
    now: datetime | None = None,
) -> Fragment:
    """Return the entity fragment of a merge/append body; NGSI-LD Null marks deletions."""
    parser = _Parser(_compiled(payload, resolver, context), allow_null=True, now=now)
    return parser.fragment(payload, need_id=False)


def parse_attributes(
    payload: Any,
    resolver: ContextResolver,
    context: ContextValue | CompiledContext = None,
    *,
    allow_null: bool = True,
    now: datetime | None = None,
) -> dict[str, list[Attribute]]:
    """Return the attributes (by IRI) of an attribute append/update body."""
    parser = _Parser(_compiled(payload, resolver, context), allow_null=allow_null, now=now)
    return parser.fragment(payload, need_id=False).attrs


def parse_attribute(
    name: str,
    payload: Any,
    resolver: ContextResolver,
    context: ContextValue | CompiledContext = None,
    *,
    allow_null: bool = True,
    now: datetime | None = None,
) -> tuple[str, list[Attribute]]:
    """Return the IRI and instances of one attribute's body (PATCH/PUT …/attrs/{attrId})."""
    body = {k: v for k, v in payload.items() if k != "@context"} if _is_obj(payload) else payload
    parser = _Parser(_compiled(payload, resolver, context), allow_null=allow_null, now=now)
    parser.check_name(name, name)
    iri = parser.ctx.expand(name)
    return iri, parser.attribute(iri, body, name)


def _compiled(
    payload: Any, resolver: ContextResolver, context: ContextValue | CompiledContext
) -> CompiledContext:
    if _is_obj(payload) and "@context" in payload:
        return resolver.compile(payload["@context"])
    return resolver.compile(context)


def _is_obj(value: Any) -> bool:
    # JSON bodies decode to dicts; the ABC check is the slow path (a tenth of a parse).
    return type(value) is dict or isinstance(value, Mapping)


class EntityParser:
    """Parse the many bodies of one batch, each distinct name checked and expanded once.

    Bodies that carry their own @context (application/ld+json) are parsed with it.
    """

    def __init__(
        self,
        resolver: ContextResolver,
        context: ContextValue | CompiledContext,
        *,
        now: datetime | None,
        allow_null: bool = False,
    ) -> None:
        self._resolver = resolver
        self._now = now
        self._allow_null = allow_null
        self._shared = _Parser(resolver.compile(context), allow_null=allow_null, now=now)

    def _parser(self, payload: Any) -> _Parser:
        if _is_obj(payload) and "@context" in payload:
            ctx = self._resolver.compile(payload["@context"])
            return _Parser(ctx, allow_null=self._allow_null, now=self._now)
        return self._shared

    def entity(self, payload: Any) -> Entity:
        """Return the entity of a create/replace body (as :func:`parse_entity`)."""
        fragment = self._parser(payload).fragment(payload, need_id=True)
        now = self._now
        return Entity(
            fragment.id or "", fragment.types, fragment.attrs, fragment.scope or (), now, now
        )

    def fragment(self, payload: Any) -> Fragment:
        """Return the fragment of a merge/append body (as :func:`parse_fragment`)."""
        return self._parser(payload).fragment(payload, need_id=False)


class _Parser:
    def __init__(self, ctx: CompiledContext, *, allow_null: bool, now: datetime | None) -> None:
        self.ctx = ctx
        self.allow_null = allow_null
        self.now = now
        self._iris: dict[str, str] = {}  # names already checked, with their IRIs
        self._kinds: dict[str, AttrKind] = {}

    def fragment(self, payload: Any, *, need_id: bool) -> Fragment:
        if not _is_obj(payload):
            raise BadRequestData("请求体必须是 JSON 对象", "the body must be a JSON object")
        eid = payload.get("id", payload.get("@id"))
        if eid is None and need_id:
            raise bad("id", "缺少实体 id", "the entity id is missing")
        if eid is not None and not is_uri(eid):
            raise bad("id", "实体 id 必须是 URI", "the entity id must be a URI")
        raw_type = payload.get("type", payload.get("@type"))
        if raw_type is None and need_id:
            raise bad("type", "缺少实体类型", "the entity type is missing")
        types = () if raw_type is None else self.types(raw_type)
        scope = self.scope(payload["scope"]) if "scope" in payload else None
        attrs: dict[str, list[Attribute]] = {}
        for key, raw in payload.items():
            if key in _NOT_ATTRIBUTES:
                continue
            iri = self.iri(key, key)
            if iri in attrs:
                raise bad(key, "属性重复（不同名称展开为同一 IRI）", "duplicate attribute IRI")
            attrs[iri] = self.attribute(iri, raw, key)
        return Fragment(eid, types, scope, attrs)

    def types(self, raw: Any) -> tuple[str, ...]:
        names = raw if isinstance(raw, list) else [raw]
        if not names:
            raise bad("type", "实体类型不能为空", "the entity type must not be empty")
        expanded: list[str] = []
        for name in names:
            if not isinstance(name, str):
                raise bad("type", "实体类型必须是字符串", "an entity type must be a string")
            iri = self.iri(name, "type")
            if iri not in expanded:
                expanded.append(iri)
        return tuple(expanded)

    def scope(self, raw: Any) -> tuple[str, ...]:
        if self.allow_null and raw in (None, NGSI_LD_NULL, [NGSI_LD_NULL]):
            return ()
        scopes = raw if isinstance(raw, list) else [raw]
        for item in scopes:
            if not isinstance(item, str) or not is_scope(item):
                raise bad("scope", "范围须形如 /A/B", "a scope must look like /A/B")
        return tuple(dict.fromkeys(scopes))

    def iri(self, name: str, path: str) -> str:
        """Check a name (once per parser) and return its expanded IRI."""
        iri = self._iris.get(name)
        if iri is None:
            self.check_name(name, path)
            iri = self._iris[name] = self.ctx.expand(name)
        return iri

    def check_name(self, name: str, path: str) -> None:
        if not name or has_forbidden_char(name):
            raise bad(
                path, f"名称 {name!r} 含有不允许的字符", f"name {name!r} has a forbidden char"
            )
        if name in _RESERVED_NAMES:
            raise bad(path, f"{name} 是保留名称", f"{name} is a reserved name, not an attribute")

    def attribute(self, iri: str, raw: Any, path: str) -> list[Attribute]:
        if type(raw) is dict:  # the usual case: one instance, so no datasetId can repeat
            attr = self.instance(raw, path)
            if iri in _GEO_ONLY and attr.kind is not AttrKind.GEO_PROPERTY and not attr.is_null:
                raise bad(path, "该属性必须是 GeoProperty", "this attribute must be a GeoProperty")
            return [attr]
        if isinstance(raw, list) and raw and all(self._is_attr_object(x) for x in raw):
            instances = [self.instance(x, f"{path}[{i}]") for i, x in enumerate(raw)]
        else:
            instances = [self.instance(raw, path)]
        seen: set[str | None] = set()
        for attr in instances:
            if attr.dataset_id in seen:
                raise bad(path, "同一属性的实例 datasetId 重复", "instances repeat a datasetId")
            seen.add(attr.dataset_id)
            if iri in _GEO_ONLY and attr.kind is not AttrKind.GEO_PROPERTY and not attr.is_null:
                raise bad(path, "该属性必须是 GeoProperty", "this attribute must be a GeoProperty")
        return instances

    def _is_attr_object(self, item: Any) -> bool:
        if not _is_obj(item):
            return False
        if "datasetId" in item or not _VALUE_MEMBERS.isdisjoint(item):
            return True
        kind = item.get("type")
        return isinstance(kind, str) and self.ctx.expand(kind) in _KIND_OF_IRI

    def instance(self, raw: Any, path: str) -> Attribute:
        if _is_obj(raw):
            if "type" in raw:
                # looks_like_geometry, inline: the Mapping check is made already.
                if raw.get("type") in GEOMETRY_TYPES and "coordinates" in raw:
                    geometry = self.value(AttrKind.GEO_PROPERTY, raw, path)
                    return self.bare(AttrKind.GEO_PROPERTY, geometry)
                return self.members(self.kind(raw["type"], path), raw, path)
            for member, found in _KIND_OF_MEMBER.items():
                if member in raw:
                    geo = found is AttrKind.PROPERTY and looks_like_geometry(raw["value"])
                    return self.members(AttrKind.GEO_PROPERTY if geo else found, raw, path)
        if raw is None and not self.allow_null:
            raise bad(path, "属性值不能为 null", "an attribute value cannot be null")
        # A bare value is a concise Property (a GeoProperty when it is a geometry).
        bare = AttrKind.GEO_PROPERTY if looks_like_geometry(raw) else AttrKind.PROPERTY
        return self.bare(bare, self.value(bare, raw, path))

    def bare(self, kind: AttrKind, value: Any) -> Attribute:
        # Timestamps are set here, once, rather than by copying every parsed instance.
        return Attribute(kind, value, created_at=self.now, modified_at=self.now)

    def kind(self, raw: Any, path: str) -> AttrKind:
        kind = self._kinds.get(raw) if isinstance(raw, str) else None
        if kind is None and isinstance(raw, str):
            kind = _KIND_OF_IRI.get(self.ctx.expand(raw))
            if kind is not None:
                self._kinds[raw] = kind
        if kind is None:
            raise bad(f"{path}.type", f"未知的属性类型 {raw!r}", f"unknown attribute type {raw!r}")
        return kind

    def members(self, kind: AttrKind, raw: Mapping[str, Any], path: str) -> Attribute:
        member = VALUE_MEMBER[kind]
        if member not in raw:
            raise bad(path, f"{kind} 缺少 {member}", f"a {kind} needs a {member!r} member")
        value = self.value(kind, raw[member], f"{path}.{member}")
        observed_at = unit_code = dataset_id = None
        object_type: tuple[str, ...] = ()
        sub: dict[str, list[Attribute]] = {}
        for key, item in raw.items():
            if key == member or key in _NOT_SUB_ATTRIBUTES:
                continue
            where = f"{path}.{key}"
            if key == "observedAt":
                observed_at = member_datetime(item, where)
            elif key == "unitCode" and kind in _UNIT_KINDS:
                if not isinstance(item, str) or not item:
                    raise bad(where, "unitCode 必须是字符串", "unitCode must be a string")
                unit_code = item
            elif key == "datasetId":
                if not is_uri(item):
                    raise bad(where, "datasetId 必须是 URI", "datasetId must be a URI")
                dataset_id = item
            elif key == "objectType" and kind in RELATIONSHIP_KINDS:
                object_type = self.vocab_list(item, where)
            elif key in _RESERVED_NAMES:
                raise bad(where, f"{kind} 中不允许 {key}", f"{key!r} is not allowed in a {kind}")
            else:
                sub_iri = self.iri(key, where)
                sub[sub_iri] = self.attribute(sub_iri, item, where)
        now = self.now
        return Attribute(
            kind, value, observed_at, unit_code, dataset_id, now, now, sub, object_type
        )

    def vocab_list(self, raw: Any, path: str) -> tuple[str, ...]:
        items = raw if isinstance(raw, list) else [raw]
        if not items or not all(isinstance(i, str) and i for i in items):
            raise bad(path, "必须是术语或术语数组", "must be a term or an array of terms")
        return tuple(self.ctx.expand(i) for i in items)

    def value(self, kind: AttrKind, raw: Any, path: str) -> Any:
        if self.allow_null and is_null_value(kind, raw):
            return {"@none": NGSI_LD_NULL} if kind is AttrKind.LANGUAGE_PROPERTY else NGSI_LD_NULL
        if raw is None:
            raise bad(path, "值不能为 null", "the value cannot be null")
        if kind is AttrKind.GEO_PROPERTY:
            problem = geometry_problem(raw)
            if problem:
                raise bad(path, f"不是有效的 GeoJSON 几何：{problem}", problem)
        elif kind is AttrKind.RELATIONSHIP:
            return relationship_objects(raw, path, single_ok=True)
        elif kind is AttrKind.LIST_RELATIONSHIP:
            return relationship_objects(raw, path, single_ok=False)
        elif kind is AttrKind.LANGUAGE_PROPERTY:
            check_language_map(raw, path)
        elif kind is AttrKind.VOCAB_PROPERTY:
            terms = self.vocab_list(raw, path)
            return list(terms) if isinstance(raw, list) else terms[0]
        elif kind is AttrKind.LIST_PROPERTY and not isinstance(raw, list):
            raise bad(path, "valueList 必须是数组", "valueList must be an array")
        return raw
