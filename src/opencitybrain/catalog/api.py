"""HTTP routes of the native catalogue API: publish, revise, withdraw, read, search.

A resource is named in paths by its id or its slug (the resource code with "-" for "/").
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from opencitybrain.accounts.model import Permission
from opencitybrain.apikit.auth import require
from opencitybrain.apikit.problems import CONFLICT_RESPONSE, PROBLEM_RESPONSES
from opencitybrain.apikit.services import ServiceRegistry, registry
from opencitybrain.catalog.open_extracts import NoOpenExtracts, OpenExtracts
from opencitybrain.catalog.schemas import (
    ResourceBody,
    ResourceOut,
    RevisionBody,
    SearchOut,
    WithdrawBody,
)
from opencitybrain.catalog.search import MAX_ROWS, Facet, SearchQuery, Sort
from opencitybrain.catalog.service import CatalogService
from opencitybrain.kernel.events import Context

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog 资源目录"], responses=PROBLEM_RESPONSES)

CatalogReader = Annotated[Context, Depends(require(Permission.CATALOG_READ))]
CatalogPublisher = Annotated[Context, Depends(require(Permission.CATALOG_PUBLISH))]
Ref = Annotated[str, Path(max_length=64, description="资源标识或代码别名 / resource id or slug")]
Values = Annotated[list[str], Query(max_length=50)]


def _catalog(request: Request) -> CatalogService:
    return registry(request).get(CatalogService)


Catalog = Annotated[CatalogService, Depends(_catalog)]


def open_extracts(services: ServiceRegistry) -> OpenExtracts:
    """Return the wired open releases port, or none (no releases module wired)."""
    if OpenExtracts in services:
        return services.get(OpenExtracts)  # type: ignore[type-abstract]
    return NoOpenExtracts()


def _extracts(request: Request) -> OpenExtracts:
    return open_extracts(registry(request))


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


Extracts = Annotated[OpenExtracts, Depends(_extracts)]


@router.get("/resources", response_model=SearchOut)
def search_resources(
    request: Request,
    ctx: CatalogReader,
    svc: Catalog,
    extracts: Extracts,
    q: Annotated[str, Query(max_length=200, description="中文或英文检索词 / search text")] = "",
    department: Values = [],  # noqa: B006 - FastAPI copies defaults per request
    domain: Values = [],  # noqa: B006
    sharing_type: Values = [],  # noqa: B006
    open_type: Values = [],  # noqa: B006
    level: Values = [],  # noqa: B006
    tag: Values = [],  # noqa: B006
    facet: Annotated[list[Facet], Query(max_length=6)] = [],  # noqa: B006
    include_withdrawn: bool = False,
    sort: Sort = Sort.RELEVANCE,
    limit: Annotated[int, Query(ge=0, le=MAX_ROWS)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> SearchOut:
    """Search the catalogue (Chinese or English) with filters and facet counts."""
    query = SearchQuery(
        text=q,
        departments=tuple(department),
        domains=tuple(domain),
        sharing_types=tuple(sharing_type),
        open_types=tuple(open_type),
        levels=tuple(level),
        tags=tuple(tag),
        include_withdrawn=include_withdrawn,
        sort=sort,
        limit=limit,
        offset=offset,
        facets=tuple(dict.fromkeys(facet)),
    )
    result = svc.search(ctx, query)
    found = extracts.for_resources([h.resource.id for h in result.hits])
    return SearchOut.of(result, found, _base(request))


@router.post("/resources", status_code=201, response_model=ResourceOut, responses=CONFLICT_RESPONSE)
async def publish_resource(ctx: CatalogPublisher, svc: Catalog, body: ResourceBody) -> ResourceOut:
    """Publish a resource for a department (staff: their own; the bureau: any)."""
    return ResourceOut.of(await svc.publish(ctx, body.to_spec(), body.note))


@router.get("/resources/{ref}", response_model=ResourceOut)
def get_resource(
    request: Request, ctx: CatalogReader, svc: Catalog, extracts: Extracts, ref: Ref
) -> ResourceOut:
    """Return a resource's current version with its open releases and their parameters."""
    r = svc.find(ctx, ref)
    return ResourceOut.of(r, extracts.for_resource(r.id), _base(request))


@router.put("/resources/{ref}", response_model=ResourceOut, responses=CONFLICT_RESPONSE)
async def revise_resource(
    ctx: CatalogPublisher, svc: Catalog, ref: Ref, body: RevisionBody
) -> ResourceOut:
    """Revise a resource: a new version with the whole new metadata."""
    current = svc.find(ctx, ref)
    revised = await svc.revise(
        ctx, current.id, body.to_spec(), expected_version=body.expected_version, note=body.note
    )
    return ResourceOut.of(revised)


@router.post("/resources/{ref}/withdraw", response_model=ResourceOut, responses=CONFLICT_RESPONSE)
async def withdraw_resource(
    ctx: CatalogPublisher, svc: Catalog, ref: Ref, body: WithdrawBody
) -> ResourceOut:
    """Withdraw a resource from the catalogue; its versions stay readable."""
    current = svc.find(ctx, ref)
    gone = await svc.withdraw(ctx, current.id, body.reason, expected_version=body.expected_version)
    return ResourceOut.of(gone)


@router.get("/resources/{ref}/versions", response_model=list[ResourceOut])
def list_versions(ctx: CatalogReader, svc: Catalog, ref: Ref) -> list[ResourceOut]:
    """Return every version of a resource, oldest first."""
    return [ResourceOut.of(r) for r in svc.versions(ctx, svc.find(ctx, ref).id)]


@router.get("/resources/{ref}/versions/{version}", response_model=ResourceOut)
def get_version(
    ctx: CatalogReader, svc: Catalog, ref: Ref, version: Annotated[int, Path(ge=1)]
) -> ResourceOut:
    """Return one version of a resource."""
    return ResourceOut.of(svc.version(ctx, svc.find(ctx, ref).id, version))
