"""HTTP routes of open data releases: the provider releases; the public portal reads.

``POST /api/v1/sharing/resources/{resource_id}/releases`` (``sharing:decide``, the
provider department) makes a release; ``GET /api/v1/open/releases[/{id}[/rows.csv]]``
are public (no credentials): released tables hold no identifier by construction.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field

from opencitybrain.accounts.model import Permission
from opencitybrain.apikit.auth import Public, require
from opencitybrain.apikit.bodies import StrictBody
from opencitybrain.apikit.problems import PROBLEM_RESPONSES
from opencitybrain.apikit.services import registry
from opencitybrain.kernel.events import Context
from opencitybrain.sharing.release_model import (
    DEFAULT_SUPPRESSION,
    MAX_CATEGORIES,
    DpSpec,
    KAnonSpec,
    Release,
    ReleaseMode,
    ReleaseSpec,
)
from opencitybrain.sharing.release_service import MAX_LIST, MAX_ROWS_PAGE, ReleaseService

router = APIRouter(prefix="/api/v1/sharing", tags=["sharing 数据共享"], responses=PROBLEM_RESPONSES)
open_router = APIRouter(
    prefix="/api/v1/open",
    tags=["open 数据开放"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Public],
)

Decider = Annotated[Context, Depends(require(Permission.SHARING_DECIDE))]
Id = Annotated[str, Path(min_length=1, max_length=32)]
Name = Annotated[str, Field(max_length=64)]
_ENCODER = msgspec.json.Encoder()


def _service(request: Request) -> ReleaseService:
    return registry(request).get(ReleaseService)


Releases = Annotated[ReleaseService, Depends(_service)]


class ReleaseBody(StrictBody):
    """A release: the mode and its parameters (k-anonymity: k, qi; dp: epsilon …)."""

    title: Annotated[str, Field(max_length=200, examples=["2026 年人口抽样（k=5）"])]
    mode: ReleaseMode
    k: Annotated[int | None, Field(ge=-1_000_000, le=1_000_000, examples=[5])] = None
    qi: Annotated[list[Name], Field(max_length=50, examples=[["birth_date", "county"]])] = Field(
        default_factory=list
    )
    fields: Annotated[list[Name], Field(max_length=100)] = Field(default_factory=list)
    max_suppression: Annotated[float, Field(ge=-1, le=1)] = DEFAULT_SUPPRESSION
    epsilon: Annotated[float | None, Field(ge=-1e6, le=1e6, examples=[1.0])] = None
    group_by: Name | None = None
    value_field: Name | None = None
    lower: Annotated[float | None, Field(ge=-1e15, le=1e15)] = None
    upper: Annotated[float | None, Field(ge=-1e15, le=1e15)] = None
    categories: Annotated[
        list[Annotated[str, Field(max_length=200)]] | None, Field(max_length=MAX_CATEGORIES + 1)
    ] = None

    def to_spec(self, resource_id: str) -> ReleaseSpec:
        """Return the domain spec (checks beyond the schema are the service's)."""
        kanon = dp = None
        if self.mode is ReleaseMode.K_ANONYMITY:
            kanon = KAnonSpec(
                tuple(self.qi),
                self.k if self.k is not None else 0,
                self.max_suppression,
                tuple(self.fields),
            )
        else:
            cats = tuple(self.categories) if self.categories is not None else None
            dp = DpSpec(
                self.epsilon if self.epsilon is not None else 0.0,
                self.group_by,
                self.value_field,
                self.lower,
                self.upper,
                cats,
            )
        return ReleaseSpec(resource_id, self.title, self.mode, kanon, dp)


class ReleaseOut(BaseModel):
    """A release's metadata and parameters (stated and achieved)."""

    id: str
    resource_id: str
    resource_code: str
    resource_name: str
    department_id: str
    title: str
    mode: ReleaseMode
    params: dict[str, Any]
    outcome: dict[str, Any]
    columns: list[str]
    row_count: int
    created_at: datetime
    open_type: str = Field("", description="资源开放属性 / the resource's open type then")
    open_condition: str = Field("", description="有条件开放的条件 / the open condition")

    @classmethod
    def of(cls, r: Release) -> ReleaseOut:
        """Return the public view of a release (no author: the department stands for it)."""
        return cls(
            id=r.id,
            resource_id=r.resource_id,
            resource_code=r.resource_code,
            resource_name=r.resource_name,
            department_id=r.department_id,
            title=r.title,
            mode=r.mode,
            params=r.params,
            outcome=r.outcome,
            columns=list(r.columns),
            row_count=r.row_count,
            created_at=r.created_at,
            open_type=str(r.extra.get("open_type", "")),
            open_condition=str(r.extra.get("open_condition", "")),
        )


class ReleaseRowsOut(ReleaseOut):
    """A release with a page of its rows."""

    offset: int
    limit: int
    rows: list[dict[str, Any]]


@router.post("/resources/{resource_id}/releases", status_code=201, response_model=ReleaseOut)
async def make_release(
    ctx: Decider, svc: Releases, resource_id: Id, body: ReleaseBody
) -> ReleaseOut:
    """Release an extract of your department's resource to the open portal (k-anon or DP)."""
    return ReleaseOut.of(await svc.release(ctx, body.to_spec(resource_id)))


@open_router.get("/releases", response_model=list[ReleaseOut])
def list_releases(
    svc: Releases,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    resource_id: Annotated[str | None, Query(max_length=32)] = None,
) -> list[ReleaseOut]:
    """List open data releases with their parameters, newest first (public)."""
    return [ReleaseOut.of(r) for r in svc.releases(limit, offset, resource_id)]


@open_router.get("/releases/{release_id}", responses={200: {"model": ReleaseRowsOut}})
async def get_release(
    svc: Releases,
    release_id: Id,
    offset: Annotated[int, Query(ge=0, le=100_000_000)] = 0,
    limit: Annotated[int, Query(ge=0, le=MAX_ROWS_PAGE)] = 100,
) -> Response:
    """Return a release's metadata and a page of its rows (public)."""
    r, rows = await asyncio.to_thread(svc.page, release_id, offset, limit)
    doc = {
        **ReleaseOut.of(r).model_dump(mode="json"),
        "offset": offset,
        "limit": limit,
        "rows": rows,
    }
    return Response(_ENCODER.encode(doc), media_type="application/json")


@open_router.get(
    "/releases/{release_id}/rows.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def release_csv(svc: Releases, release_id: Id) -> Response:
    """Return a release's whole table as CSV (UTF-8 with BOM, for spreadsheets; public)."""
    r, text = await asyncio.to_thread(svc.csv, release_id)
    name = quote(f"release-{r.id}.csv")
    return Response(
        "\ufeff" + text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


def routers() -> list[APIRouter]:
    """Return the release routers (provider and public)."""
    return [router, open_router]
