"""Optional validation of entities against their Smart Data Models JSON Schema (per type).

The packaged schemas (``contexts/smart-data-models/**/schema.json``, listed with their
entity type IRIs in ``contexts/manifest.json``) describe the key-values form of an entity
with the terms of the model's own @context. An entity is therefore checked as its
key-values document compacted with that @context: ``{"id", "type", "status": "free",
"location": {GeoJSON}, "refParkingSite": "urn:…"}``; a typed value
``{"@type": "DateTime", "@value": t}`` is checked as ``t``, and an attribute with several
instances by its default instance. Formats (``date-time``, ``uri``) are annotations, as
JSON Schema 2020-12 makes them by default.

Every ``$ref`` (``common-schema.json``, the Alert and Weather definitions) resolves to a
packaged file, never to the network. Schemas are compiled once per process (jsonschema-rs)
and cached; which types are checked is a setting (``context_validate_types``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from opencitybrain.context.errors import BadRequestData
from opencitybrain.context.jsonld import CompiledContext, ContextResolver
from opencitybrain.context.model import Attribute, AttrKind, Entity
from opencitybrain.kernel.errors import FieldError

CONTEXTS = Path(__file__).parent / "contexts"
SDM = CONTEXTS / "smart-data-models"
_MESSAGE_CHARS = 300  # a reason quotes the bad value; a long geometry need not be echoed whole


@dataclass(frozen=True, slots=True)
class TypeSchema:
    """A packaged schema: the entity type it checks and the @context its terms come from."""

    type_iri: str
    name: str
    context_url: str
    schema: Mapping[str, Any]


@cache
def packaged_schemas() -> dict[str, TypeSchema]:
    """Return the packaged entity schemas by entity type IRI (read once)."""
    manifest = json.loads((CONTEXTS / "manifest.json").read_text(encoding="utf-8"))
    context_of_file = {entry["file"]: entry["urls"][0] for entry in manifest["contexts"]}
    out: dict[str, TypeSchema] = {}
    for entry in manifest["schemas"]:
        type_iri = entry.get("entityType")
        if not type_iri:
            continue
        # A model's @context sits beside its types' folders: Parking/context.jsonld.
        folder = Path(entry["file"]).parent.parent
        schema = json.loads((CONTEXTS / entry["file"]).read_text(encoding="utf-8"))
        out[type_iri] = TypeSchema(
            type_iri,
            type_iri.rsplit("/", 1)[-1],
            context_of_file[str(folder / "context.jsonld")],
            schema,
        )
    return out


@cache
def _registry() -> jsonschema_rs.Registry:
    """Return every packaged schema document by its ``$id``, for ``$ref`` resolution."""
    resources = []
    for path in sorted(SDM.rglob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(document, dict) and "$id" in document:
            resources.append((str(document["$id"]), document))
    return jsonschema_rs.Registry(resources)


@cache
def _compiled(type_iri: str) -> jsonschema_rs.Validator:
    """Return the compiled validator of one packaged type (compiled once per process)."""
    schema = packaged_schemas()[type_iri].schema
    return jsonschema_rs.validator_for(dict(schema), registry=_registry())


def resolve_types(names: Iterable[str]) -> list[str]:
    """Return the type IRIs of names (``ParkingSpot``) or IRIs; raise on an unknown one."""
    known = packaged_schemas()
    by_name = {schema.name: iri for iri, schema in known.items()}
    out: list[str] = []
    for name in names:
        iri = name if name in known else by_name.get(name)
        if iri is None:
            choices = ", ".join(sorted(by_name))
            raise ValueError(f"no packaged schema for entity type {name!r} (known: {choices})")
        out.append(iri)
    return out


class SchemaViolation(BadRequestData):
    """Raise when an entity breaks its type's schema; ``errors`` lists every field."""

    def __init__(self, entity_id: str, type_name: str, problems: list[FieldError]) -> None:
        first = problems[0]
        super().__init__(
            f"实体 {entity_id} 不符合 {type_name} 的数据模型：{first.field}（{first.reason}）",
            f"entity {entity_id} breaks the {type_name} data model: {first.field}: {first.reason}",
            field=first.field,
            code="ngsi.schema_violation",
        )
        self.errors = tuple(problems)


class EntityValidator:
    """Check entities of chosen types against their Smart Data Models schema."""

    def __init__(self, resolver: ContextResolver, types: Iterable[str]) -> None:
        self.resolver = resolver
        self.types = resolve_types(types)
        schemas = packaged_schemas()
        # Compile now, so a broken schema fails at start-up rather than on a request.
        self._checks: dict[str, tuple[TypeSchema, CompiledContext, jsonschema_rs.Validator]] = {
            iri: (schemas[iri], resolver.compile(schemas[iri].context_url), _compiled(iri))
            for iri in self.types
        }

    def errors(self, entity: Entity) -> list[FieldError]:
        """Return the field errors of an entity under every checked type it has."""
        out: list[FieldError] = []
        for type_iri in entity.types:
            check = self._checks.get(type_iri)
            if check is None:
                continue
            schema, ctx, validator = check
            document = key_values(entity, ctx, schema.name)
            out += [_field_error(e) for e in validator.iter_errors(document)]
        return out

    def check(self, entity: Entity) -> Entity:
        """Return the entity if it fits its types' schemas; raise SchemaViolation if not."""
        if not self._checks:
            return entity
        problems = self.errors(entity)
        if problems:
            names = [self._checks[t][0].name for t in entity.types if t in self._checks]
            raise SchemaViolation(entity.id, "/".join(names), problems)
        return entity


def key_values(entity: Entity, ctx: CompiledContext, type_name: str) -> dict[str, Any]:
    """Return the key-values document of an entity as a Smart Data Models schema sees it."""
    out: dict[str, Any] = {"id": entity.id, "type": type_name}
    for iri, instances in entity.attrs.items():
        if instances:
            default = next((a for a in instances if a.dataset_id is None), instances[0])
            out[ctx.compact(iri)] = _plain(default, ctx)
    return out


def _plain(attr: Attribute, ctx: CompiledContext) -> Any:
    kind = attr.kind
    value = attr.value
    if kind is AttrKind.LANGUAGE_PROPERTY and isinstance(value, dict) and value:
        # A schema types a name as a string: check the text without a language tag.
        return value.get("@none", next(iter(value.values())))
    if kind is AttrKind.VOCAB_PROPERTY:
        return [ctx.compact(v) for v in value] if isinstance(value, list) else ctx.compact(value)
    if kind in (AttrKind.PROPERTY, AttrKind.LIST_PROPERTY):
        return _untyped(value)
    return value


def _untyped(value: Any) -> Any:
    """Replace JSON-LD typed values ``{"@type": T, "@value": v}`` by ``v``, at any depth."""
    if isinstance(value, dict):
        if "@value" in value:
            return value["@value"]
        return {k: _untyped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untyped(v) for v in value]
    return value


def _field_error(error: jsonschema_rs.ValidationError) -> FieldError:
    kind = error.kind
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        field = str(kind.property)
    else:
        field = ".".join(str(part) for part in error.instance_path) or "entity"
    message = error.message
    if len(message) > _MESSAGE_CHARS:
        message = message[: _MESSAGE_CHARS - 1] + "…"
    return FieldError(field, message)
