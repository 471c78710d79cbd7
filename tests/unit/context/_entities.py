"""A minimal stand-in for the entity model, for the query and geo-query tests only.

It mirrors the interface the evaluator is written against (expanded attribute names,
one list of instances per attribute), so these tests run before ``context.model`` lands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

VOCAB = "https://example.org/ngsi/"
CORE = "https://uri.etsi.org/ngsi-ld/"
CORE_TERMS = frozenset(
    {"location", "observedAt", "createdAt", "modifiedAt", "unitCode", "datasetId"}
)
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def expand(term: str) -> str:
    """Expand a compact term: core terms to the NGSI-LD core, others to a test vocab."""
    if ":" in term:
        return term
    return (CORE if term in CORE_TERMS else VOCAB) + term


@dataclass(frozen=True)
class Attribute:
    """Hold one attribute instance."""

    kind: str
    value: Any
    observed_at: datetime | None = None
    unit_code: str | None = None
    dataset_id: str | None = None
    created_at: datetime | None = None
    modified_at: datetime | None = None
    sub: dict[str, list[Attribute]] = field(default_factory=dict)


@dataclass(frozen=True)
class Entity:
    """Hold one entity with expanded attribute names."""

    id: str
    types: tuple[str, ...]
    attrs: dict[str, list[Attribute]]
    scope: tuple[str, ...] | None = None
    created_at: datetime | None = T0
    modified_at: datetime | None = T0


def prop(value: Any, **members: Any) -> Attribute:
    """Return a Property instance."""
    return Attribute("Property", value, **members)


def rel(obj: Any, **members: Any) -> Attribute:
    """Return a Relationship instance."""
    return Attribute("Relationship", obj, **members)


def geo(geometry: dict[str, Any]) -> Attribute:
    """Return a GeoProperty instance."""
    return Attribute("GeoProperty", geometry)


def entity(eid: str = "urn:ngsi-ld:Thing:1", **attrs: Attribute | list[Attribute]) -> Entity:
    """Return an entity whose attributes are given by compact name."""
    expanded = {
        expand(name): (value if isinstance(value, list) else [value])
        for name, value in attrs.items()
    }
    return Entity(eid, (VOCAB + "Thing",), expanded)
