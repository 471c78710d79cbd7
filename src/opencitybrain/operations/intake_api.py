"""HTTP helpers of the intake desk: class suggestions from text, attachment upload and download.

Mounted under ``/api/v1/operations`` by :mod:`opencitybrain.operations.api`.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from opencitybrain.accounts.model import Permission
from opencitybrain.apikit.auth import require
from opencitybrain.apikit.problems import PROBLEM_JSON, Problem
from opencitybrain.apikit.services import registry
from opencitybrain.kernel.errors import CityBrainError, ErrorKind, FieldError, InvalidInput
from opencitybrain.kernel.events import Context
from opencitybrain.operations.attachments import MAX_BYTES, AttachmentDesk, too_large
from opencitybrain.operations.schemas_intake import ClassifiedOut, ClassifyIn, UploadOut
from opencitybrain.operations.service import OperationsService

intake_router = APIRouter()

CasesReader = Annotated[Context, Depends(require(Permission.CASES_READ))]
CasesReporter = Annotated[Context, Depends(require(Permission.CASES_REPORT))]
# Room for the multipart framing around a file at the limit.
_FRAMING = 64 * 1024

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}
_PROBLEM = {"model": Problem, "content": {PROBLEM_JSON: {}}}


def _desk(request: Request) -> AttachmentDesk:
    return registry(request).get(AttachmentDesk)


def _ops(request: Request) -> OperationsService:
    return registry(request).get(OperationsService)


@intake_router.post("/classify", response_model=ClassifiedOut)
async def classify(body: ClassifyIn, ctx: CasesReporter, request: Request) -> ClassifiedOut:
    """Suggest case classes for a caller's free text, with the model's confidence."""
    ops = _ops(request)
    found = await run_in_threadpool(ops.suggest, body.text, body.k)
    return ClassifiedOut.of(found, ops.class_names(), ops.suggest_threshold())


async def _read_capped(request: Request) -> bytes:
    """Read the body, refusing it as soon as it passes the limit (with or without a length)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BYTES + _FRAMING:
        raise too_large(int(declared))
    chunks: list[bytes] = []
    got = 0
    async for chunk in request.stream():
        got += len(chunk)
        if got > MAX_BYTES + _FRAMING:
            raise too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _no_file() -> InvalidInput:
    return InvalidInput(
        "attachment.no_file", "请以 multipart/form-data 的 file 字段上传一个文件",
        "upload one file in the multipart/form-data field 'file'",
        (FieldError("file", "a file part"),),
    )  # fmt: skip


@intake_router.post(
    "/attachments",
    response_model=UploadOut,
    status_code=201,
    openapi_extra=_UPLOAD_BODY,
    responses={413: _PROBLEM, 415: _PROBLEM},
)
async def upload_attachment(ctx: CasesReader, request: Request) -> UploadOut:
    """Upload a photo, scan, video or recording (≤ 20 MB, type judged by its content)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise _no_file()
    # The body is read (capped) before the parser sees it, so an oversized upload is
    # refused without being spooled; the parser then reads the buffered body.
    request._body = await _read_capped(request)
    try:
        form = await request.form(max_files=1, max_fields=4)
    except Exception as exc:  # a malformed multipart body
        raise CityBrainError(
            "attachment.bad_form", "上传内容不是有效的 multipart/form-data",
            "the upload is not valid multipart/form-data", ErrorKind.INVALID,
        ) from exc  # fmt: skip
    part = form.get("file")
    if part is None or isinstance(part, str):
        raise _no_file()
    data = await part.read(MAX_BYTES + 1)
    stored = await run_in_threadpool(_desk(request).upload, ctx, data, part.filename)
    return UploadOut.of(stored)


@intake_router.get(
    "/attachments/{ref}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "the file"}},
)
async def download_attachment(ref: str, ctx: CasesReader, request: Request) -> Response:
    """Return an uploaded file, as stored, to anyone who may read cases."""
    meta, data = await run_in_threadpool(_desk(request).get, ref)
    name = meta.name or meta.ref
    headers = {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=3600",
        "ETag": f'"{meta.sha256}"',
    }
    return Response(data, media_type=meta.media_type, headers=headers)
