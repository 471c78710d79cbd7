"""Build real model entities for the query and geo-query tests, by compact names.

Names expand with the NGSI-LD core @context (``location``, ``observedAt``, … become core
IRIs; anything else falls to the core's default vocabulary), as a request without a Link
header would, so the evaluator is tested against the expansion it meets in the broker.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from opencitybrain.context.jsonld import CORE_CONTEXT_URL, ContextResolver
from opencitybrain.context.model import Attribute, AttrKind, Entity

__all__ = [
    "T0",
    "VOCAB",
    "AttrKind",
    "Attribute",
    "Entity",
    "entity",
    "expand",
    "geo",
    "prop",
    "rel",
]

_CORE = ContextResolver().compile(CORE_CONTEXT_URL)
VOCAB = _CORE.expand("anything").removesuffix("anything")
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def expand(term: str) -> str:
    """Expand a compact term with the core @context."""
    return _CORE.expand(term)


def prop(value: Any, **members: Any) -> Attribute:
    """Return a Property instance."""
    return Attribute(AttrKind.PROPERTY, value, **members)


def rel(obj: Any, **members: Any) -> Attribute:
    """Return a Relationship instance."""
    return Attribute(AttrKind.RELATIONSHIP, obj, **members)


def geo(geometry: dict[str, Any], **members: Any) -> Attribute:
    """Return a GeoProperty instance."""
    return Attribute(AttrKind.GEO_PROPERTY, geometry, **members)


def entity(eid: str = "urn:ngsi-ld:Thing:1", **attrs: Attribute | list[Attribute]) -> Entity:
    """Return an entity whose attributes are given by compact name."""
    expanded = {
        expand(name): (value if isinstance(value, list) else [value])
        for name, value in attrs.items()
    }
    return Entity(eid, (VOCAB + "Thing",), expanded, created_at=T0, modified_at=T0)
