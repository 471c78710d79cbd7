"""HTTP routes of block data: a resource summed up by region, grid or H3 cell.

The caller's area (their department's region) narrows every answer: a district's staff
asking for the whole city get their district's streets; asking for another district is
refused (403).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from opencitybrain.accounts.model import Permission
from opencitybrain.apikit.auth import require
from opencitybrain.apikit.problems import PROBLEM_RESPONSES
from opencitybrain.apikit.services import registry
from opencitybrain.blocks.model import (
    DEFAULT_H3_RESOLUTION,
    BlockQuery,
    BlockResult,
    Bucket,
    Level,
    Metric,
    Op,
    TimeWindow,
    child_level,
)
from opencitybrain.blocks.service import BlockService
from opencitybrain.kernel.events import Context

router = APIRouter(prefix="/api/v1/blocks", tags=["blocks 块数据"], responses=PROBLEM_RESPONSES)

BlockReader = Annotated[Context, Depends(require(Permission.BLOCKS_READ))]
FieldName = Annotated[str | None, Query(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
RegionCode = Annotated[str, Query(pattern=r"^(\d{6}(\d{3}){0,3})?$", description="区划代码")]


def _blocks(request: Request) -> BlockService:
    return registry(request).get(BlockService)


Blocks = Annotated[BlockService, Depends(_blocks)]


class BlockOut(BaseModel):
    """One block: its code, value, and category or time bucket when asked for."""

    code: str
    value: float | int | None
    category: str | None = None
    bucket: datetime | None = None


class BlocksOut(BaseModel):
    """A resource's blocks at one level within one region, for one snapshot version."""

    resource_id: str
    level: str
    within: str
    parent: str | None = Field(description="上一级区划代码（全市为空） / the region above")
    next_level: str | None = Field(description="点击下钻的层级 / the level a click drills into")
    metric: str
    by: str | None
    version: str
    rows: int = Field(description="范围内行数 / rows in scope")
    unlocated: int = Field(description="无法定位到该层级的行数 / rows with no place here")
    cached: bool
    scope: str = Field(description="调用者可见区域（空为全市） / the caller's area")
    blocks: list[BlockOut]

    @classmethod
    def of(cls, result: BlockResult, scope: str, drill: dict[str, Any]) -> BlocksOut:
        """Build the response from a result."""
        q = result.query
        return cls(
            resource_id=q.resource_id,
            level=q.level,
            within=q.within,
            parent=drill["parent"],
            next_level=child_level(q.level)
            if q.level not in ("h3", "city")
            else ("county" if q.level == "city" else None),
            metric=q.metric.label,
            by=q.by,
            version=result.version,
            rows=result.rows,
            unlocated=result.unlocated,
            cached=result.cached,
            scope=scope,
            blocks=[
                BlockOut(code=b.code, value=b.value, category=b.category, bucket=b.bucket)
                for b in result.blocks
            ],
        )


@router.get("/{resource_id}", response_model=BlocksOut)
def blocks(
    ctx: BlockReader,
    svc: Blocks,
    resource_id: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")],
    level: Level = "county",
    within: RegionCode = "",
    op: Op = Op.COUNT,
    field: FieldName = None,
    by: FieldName = None,
    time_field: FieldName = None,
    start: datetime | None = None,
    end: datetime | None = None,
    bucket: Bucket | None = None,
    h3_resolution: Annotated[int, Query(ge=5, le=10)] = DEFAULT_H3_RESOLUTION,
) -> BlocksOut:
    """Sum a resource's rows up by county, street, community, grid or H3 cell (块数据)."""
    window = TimeWindow(time_field, start, end, bucket) if time_field else None
    metric = Metric(op, field)
    query = BlockQuery(resource_id, level, within, metric, by, window, h3_resolution)
    scope = svc.scope_of(ctx.department or "")
    result = svc.aggregate(query, scope)
    return BlocksOut.of(result, scope.prefix, svc.drill(result.query.within))
