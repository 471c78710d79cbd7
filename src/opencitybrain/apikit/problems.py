"""RFC 9457 problem details: one response shape for every error."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from opencitybrain.kernel.errors import CityBrainError, ErrorKind

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

STATUS_OF_KIND: dict[ErrorKind, int] = {
    ErrorKind.INVALID: 400,
    ErrorKind.UNAUTHENTICATED: 401,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.TOO_LARGE: 413,
    ErrorKind.NOT_ACCEPTABLE: 406,
    ErrorKind.UNSUPPORTED_MEDIA: 415,
    ErrorKind.UNPROCESSABLE: 422,
    ErrorKind.NOT_IMPLEMENTED: 501,
    ErrorKind.UNAVAILABLE: 503,
    ErrorKind.INTERNAL: 500,
}

_TITLES = {
    400: "请求无效 / Bad request",
    401: "未认证 / Unauthenticated",
    403: "无权限 / Forbidden",
    404: "未找到 / Not found",
    405: "方法不允许 / Method not allowed",
    409: "冲突 / Conflict",
    406: "无可接受的表示 / Not acceptable",
    413: "内容过大 / Too large",
    415: "不支持的媒体类型 / Unsupported media type",
    422: "参数校验失败 / Validation failed",
    500: "内部错误 / Internal error",
    501: "未实现 / Not implemented",
    503: "服务不可用 / Unavailable",
}


class FieldProblem(BaseModel):
    """One bad field and why."""

    field: str
    reason: str


class Problem(BaseModel):
    """An RFC 9457 problem document with a stable ``code``."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    errors: list[FieldProblem] = []


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": _TITLES[status]}
    for status in (400, 401, 403, 404, 422)
}
CONFLICT_RESPONSE: dict[int | str, dict[str, Any]] = {
    409: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": _TITLES[409]}
}


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    instance: str | None = None,
    errors: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Return a problem+json response."""
    body = Problem(
        type=f"urn:opencitybrain:problem:{code}",
        title=_TITLES.get(status, "错误 / Error"),
        status=status,
        detail=detail,
        code=code,
        instance=instance,
        errors=errors or [],
    )
    return JSONResponse(
        body.model_dump(), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


async def _citybrain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CityBrainError)
    own = getattr(exc, "problem", None)
    if callable(own):
        # Errors of a standard API (e.g. NGSI-LD ProblemDetails) bring their own body.
        body = own()
        return JSONResponse(body, status_code=int(body["status"]), media_type=PROBLEM_JSON)
    status = STATUS_OF_KIND[exc.kind]
    headers = {"WWW-Authenticate": 'Bearer realm="citybrain"'} if status == 401 else None
    errors = [FieldProblem(field=e.field, reason=e.reason) for e in exc.errors]
    return problem(
        status, exc.code, exc.message, instance=request.url.path, errors=errors, headers=headers
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldProblem(field=".".join(str(p) for p in err.get("loc", ())), reason=str(err["msg"]))
        for err in exc.errors()
    ]
    return problem(
        422,
        "request.invalid",
        "请求参数不符合要求 / request parameters are invalid",
        instance=request.url.path,
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "http.not_found", 405: "http.method_not_allowed"}.get(
        exc.status_code, "http.error"
    )
    detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "error")
    return problem(
        exc.status_code,
        code,
        detail,
        instance=request.url.path,
        headers=dict(exc.headers) if exc.headers else None,
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "internal", "服务器内部错误 / internal server error")


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error leave the app as problem+json."""
    app.add_exception_handler(CityBrainError, _citybrain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
