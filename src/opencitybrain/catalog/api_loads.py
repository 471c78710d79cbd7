"""HTTP routes that load rows into a resource and report on loads.

``POST …/loads`` takes a file (multipart: CSV, XLSX or JSON lines; at most
``MAX_UPLOAD_BYTES``, spooled to a temporary file and loaded from it in chunks),
``POST …/loads/sql`` a SQL connector (JSON). No route here returns
a resource's rows: they leave only through the sharing layer, under a grant. The
quarantined rows of a load go back only to the provider department that loaded them.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from datetime import datetime
from pathlib import Path as FilePath
from typing import IO, Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from pydantic import BaseModel, Field

from opencitybrain.accounts.model import Permission
from opencitybrain.apikit.auth import require
from opencitybrain.apikit.bodies import StrictBody
from opencitybrain.apikit.problems import CONFLICT_RESPONSE, PROBLEM_RESPONSES, Problem
from opencitybrain.apikit.services import registry
from opencitybrain.catalog.load_model import (
    MAX_SQL_CHARS,
    MAX_UPLOAD_BYTES,
    FileSource,
    LoadFormat,
    LoadOptions,
    LoadReport,
    Quarantined,
    SqlSource,
)
from opencitybrain.catalog.loading import MAX_PAGE, LoadService
from opencitybrain.kernel.errors import CityBrainError, ErrorKind, FieldError, InvalidInput
from opencitybrain.kernel.events import Context

router = APIRouter(
    prefix="/api/v1/catalog/resources/{ref}/loads",
    tags=["catalog 资源目录"],
    responses=PROBLEM_RESPONSES,
)

Loader = Annotated[Context, Depends(require(Permission.CATALOG_LOAD))]
Reader = Annotated[Context, Depends(require(Permission.CATALOG_READ))]
Ref = Annotated[str, Path(max_length=64, description="资源标识或代码别名 / resource id or slug")]
LoadId = Annotated[str, Path(max_length=32, description="装载标识 / load id")]
FieldName = Annotated[str, Field(min_length=1, max_length=63)]
TOO_LARGE_RESPONSE: dict[int | str, dict[str, object]] = {
    413: {"model": Problem, "content": {"application/problem+json": {}}, "description": "too large"}
}
_CHUNK = 1 << 20


def _loads(request: Request) -> LoadService:
    return registry(request).get(LoadService)


Loads = Annotated[LoadService, Depends(_loads)]


class LoadOut(BaseModel):
    """A load's report: rows in = inserted + updated + unchanged + quarantined."""

    id: str
    resource_id: str
    department_id: str
    actor: str
    format: LoadFormat
    source: str
    key: list[str]
    status: str
    rows_in: int
    landed: int
    inserted: int
    updated: int
    unchanged: int
    quarantined: int
    started_at: datetime
    finished_at: datetime
    missing_fields: list[str]
    ignored_columns: list[str]
    encoding: str
    error: str
    summary: str

    @classmethod
    def of(cls, r: LoadReport) -> LoadOut:
        """Return the body of a report."""
        return cls(
            id=r.id, resource_id=r.resource_id, department_id=r.department_id, actor=r.actor,
            format=r.format, source=r.source, key=list(r.key), status=r.status.value,
            rows_in=r.rows_in, landed=r.landed, inserted=r.inserted, updated=r.updated,
            unchanged=r.unchanged, quarantined=r.quarantined, started_at=r.started_at,
            finished_at=r.finished_at, missing_fields=list(r.missing_fields),
            ignored_columns=list(r.ignored_columns), encoding=r.encoding, error=r.error,
            summary=r.summary(),
        )  # fmt: skip


class QuarantinedOut(BaseModel):
    """A row that did not land."""

    row: int
    field: str
    reason: str
    raw: dict[str, str | None]

    @classmethod
    def of(cls, q: Quarantined) -> QuarantinedOut:
        """Return the body of a quarantined row."""
        return cls(row=q.row, field=q.field, reason=q.reason, raw=q.raw)


class QuarantineOut(BaseModel):
    """A page of a load's quarantined rows."""

    load: LoadOut
    rows: list[QuarantinedOut]


class SqlLoadBody(StrictBody):
    """A SQL connector: the department's own database and one SELECT."""

    url: str = Field(
        min_length=1,
        max_length=2000,
        description="SQLAlchemy URL: postgresql://… or a SQLite file under the connector folder",
    )
    query: str = Field(min_length=1, max_length=MAX_SQL_CHARS, description="one SELECT")
    key: list[FieldName] = Field(default=[], max_length=20)
    mapping: dict[str, FieldName] = Field(default={}, max_length=500)


def _form_list(text: str | None) -> tuple[str, ...]:
    return tuple(k.strip() for k in (text or "").split(",") if k.strip())


def _form_mapping(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidInput(
            "catalog.bad_mapping",
            "列映射须为 JSON 对象 {源列: 字段}",
            "mapping must be a JSON object {source column: field}",
            (FieldError("mapping", "JSON object of strings"),),
        )
    return value


async def _spool_limited(request: Request, upload: UploadFile, target: IO[bytes]) -> None:
    """Copy the upload to ``target`` (a temporary file), refusing more than the limit."""
    too_large = CityBrainError(
        "catalog.load_too_large",
        f"文件超过 {MAX_UPLOAD_BYTES // (1 << 20)} MiB",
        f"the file is larger than {MAX_UPLOAD_BYTES // (1 << 20)} MiB",
        ErrorKind.TOO_LARGE,
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES + (1 << 20):
        raise too_large
    size = 0
    while chunk := await upload.read(_CHUNK):
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise too_large
        await asyncio.to_thread(target.write, chunk)
    await asyncio.to_thread(target.flush)


@router.post(
    "",
    status_code=201,
    response_model=LoadOut,
    responses={**CONFLICT_RESPONSE, **TOO_LARGE_RESPONSE},
)
async def upload_load(
    request: Request,
    ctx: Loader,
    svc: Loads,
    ref: Ref,
    file: Annotated[UploadFile, File(description="CSV（UTF-8/GBK）、XLSX 或 JSON lines")],
    key: Annotated[str | None, Form(max_length=1000, description="键字段，逗号分隔")] = None,
    sheet: Annotated[str | None, Form(max_length=100, description="XLSX 工作表")] = None,
    mapping: Annotated[str | None, Form(max_length=50_000, description="JSON {源列: 字段}")] = None,
    format: Annotated[
        str, Form(pattern="^(csv|xlsx|jsonl)?$", description="csv | xlsx | jsonl；默认按扩展名")
    ] = "",
) -> LoadOut:
    """Load a file into the resource (its provider department only) and return the report."""
    svc.loadable(ctx, ref)  # the resource and the caller first; then the upload's form
    options = LoadOptions(_form_list(key), _form_mapping(mapping))
    name = (file.filename or "upload").rsplit("/", 1)[-1][:200]
    fmt = LoadFormat(format) if format else LoadFormat.of_filename(name)
    # The upload is spooled to a temporary file and the load streams from it in chunks.
    with tempfile.NamedTemporaryFile(prefix="citybrain-upload-", suffix=f".{fmt.value}") as tmp:
        await _spool_limited(request, file, tmp)
        source = FileSource(name, FilePath(tmp.name), fmt, sheet or None)
        return LoadOut.of(await svc.load(ctx, ref, source, options))


@router.post("/sql", status_code=201, response_model=LoadOut, responses=CONFLICT_RESPONSE)
async def sql_load(ctx: Loader, svc: Loads, ref: Ref, body: SqlLoadBody) -> LoadOut:
    """Load the rows of a query on the department's own database and return the report."""
    options = LoadOptions(tuple(body.key), dict(body.mapping))
    return LoadOut.of(await svc.load(ctx, ref, SqlSource(body.url, body.query), options))


@router.get("", response_model=list[LoadOut])
def list_loads(
    ctx: Reader,
    svc: Loads,
    ref: Ref,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[LoadOut]:
    """Return the resource's loads, newest first (provider department and bureau)."""
    return [LoadOut.of(r) for r in svc.loads(ctx, ref, limit=limit, offset=offset)]


@router.get("/{load_id}", response_model=LoadOut)
def get_load(ctx: Reader, svc: Loads, ref: Ref, load_id: LoadId) -> LoadOut:
    """Return one load's report."""
    return LoadOut.of(svc.get(ctx, ref, load_id))


@router.get("/{load_id}/quarantine", response_model=QuarantineOut)
def get_quarantine(
    ctx: Loader,
    svc: Loads,
    ref: Ref,
    load_id: LoadId,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> QuarantineOut:
    """Return a load's quarantined rows with row, field and reason (provider only)."""
    report, rows = svc.quarantined(ctx, ref, load_id, limit=limit, offset=offset)
    return QuarantineOut(load=LoadOut.of(report), rows=[QuarantinedOut.of(q) for q in rows])
