"""HTTP routes of the base registries: golden records (masked), explanations, review.

Golden records are masked per the caller's grant on the service's read path (sharing's
``RowMasker``), so no route can hand out an unmasked field the grant does not clear.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from opencitybrain.accounts.model import Permission
from opencitybrain.apikit.auth import require
from opencitybrain.apikit.problems import PROBLEM_RESPONSES
from opencitybrain.apikit.services import registry
from opencitybrain.kernel.events import Context
from opencitybrain.registry.service import RegistryService, check_kind
from opencitybrain.registry.store import Kind

router = APIRouter(prefix="/api/v1/registry", tags=["registry 基础库"], responses=PROBLEM_RESPONSES)

RegistryReader = Annotated[Context, Depends(require(Permission.REGISTRY_READ))]
RegistryReviewer = Annotated[Context, Depends(require(Permission.REGISTRY_REVIEW))]
KindPath = Annotated[
    Kind, Path(description="people 一人一档 · companies 一企一档 · vehicles 一车一档")
]
Text = Annotated[str, Query(min_length=1, max_length=64)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
Limit = Annotated[int, Query(ge=1, le=200)]


def _registry(request: Request) -> RegistryService:
    return registry(request).get(RegistryService)


Registry = Annotated[RegistryService, Depends(_registry)]


class Page(BaseModel):
    """A page of items and how many there are in all."""

    total: int
    items: list[dict[str, Any]]


class ResolveBody(BaseModel):
    """A reviewer's pick: one of the item's listed values, and why."""

    value: str = Field(min_length=1, max_length=500)
    reason: str = Field(min_length=1, max_length=500, description="理由 / why this value")


@router.get("/intake")
def intake(ctx: RegistryReader, svc: Registry) -> dict[str, Any]:
    """Return where loading the departments' data stands (phase, progress, counts)."""
    return svc.intake.snapshot()


@router.get("/{kind}/counts")
def counts(ctx: RegistryReader, svc: Registry, kind: KindPath) -> dict[str, Any]:
    """Return the current build's counts: rows in = linked + quarantined + unmatched."""
    return svc.counts(check_kind(kind))


@router.get("/{kind}/records/{code}")
def record(
    ctx: RegistryReader,
    svc: Registry,
    kind: KindPath,
    code: Annotated[str, Path(min_length=1, max_length=32, description="身份号码/信用代码/号牌")],
) -> dict[str, Any]:
    """Return a golden record (masked per grant), its source records and linked records."""
    return svc.lookup(ctx, check_kind(kind), code)


@router.get("/{kind}/explain")
def explain(
    ctx: RegistryReader,
    svc: Registry,
    kind: KindPath,
    a_source: Text,
    a_key: Text,
    b_source: Text,
    b_key: Text,
) -> dict[str, Any]:
    """Say why two department records were (or were not) matched, with the evidence."""
    return svc.explain(ctx, check_kind(kind), (a_source, a_key), (b_source, b_key))


@router.get("/{kind}/leftovers", response_model=Page)
def leftovers(
    ctx: RegistryReader,
    svc: Registry,
    kind: KindPath,
    status: Annotated[str, Query(pattern="^(unmatched|quarantined)$")] = "unmatched",
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page:
    """List the records left unmatched or quarantined, with their reasons."""
    return Page(**svc.leftovers(check_kind(kind), status, offset, limit))


@router.get("/{kind}/review", response_model=Page)
def review_items(
    ctx: RegistryReader,
    svc: Registry,
    kind: KindPath,
    status: Annotated[str, Query(pattern="^(open|resolved|all)$")] = "open",
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page:
    """List conflicting attributes to review (each value with the departments holding it)."""
    return Page(**svc.review_items(ctx, check_kind(kind), status, offset, limit))


@router.post("/{kind}/review/{item}/resolve")
def resolve_item(
    ctx: RegistryReviewer,
    svc: Registry,
    kind: KindPath,
    item: Annotated[str, Path(min_length=3, max_length=64)],
    body: Annotated[ResolveBody, Body()],
) -> dict[str, Any]:
    """Resolve a conflict: pick one of the listed values and give the reason."""
    return svc.review.resolve(ctx, check_kind(kind), item, body.value, body.reason)
