"""NGSI-LD ProblemDetails errors (ETSI GS CIM 009 v1.8, clause 5.5.2).

Each error is a :class:`CityBrainError`, so the platform's problem+json handler already
knows it. Its ``kind`` is the closest protocol-neutral kind; its exact NGSI-LD HTTP status
is ``status``, and :meth:`NgsiLdError.problem` gives the body the spec asks for, with the
error's ``type`` URI ``https://uri.etsi.org/ngsi-ld/errors/<Name>``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from opencitybrain.kernel.errors import CityBrainError, ErrorKind, FieldError

ERRORS_BASE = "https://uri.etsi.org/ngsi-ld/errors/"


class NgsiLdError(CityBrainError):
    """Raise for any failure the NGSI-LD API reports as ProblemDetails."""

    name: ClassVar[str] = "InternalError"
    status: ClassVar[int] = 500
    error_kind: ClassVar[ErrorKind] = ErrorKind.INTERNAL
    title_zh: ClassVar[str] = "内部错误"
    title_en: ClassVar[str] = "Internal error"

    def __init__(
        self,
        detail_zh: str,
        detail_en: str,
        *,
        field: str | None = None,
        code: str | None = None,
    ) -> None:
        errors = (FieldError(field, detail_en),) if field else ()
        super().__init__(code or f"ngsi.{self.name}", detail_zh, detail_en, self.error_kind, errors)
        self.field = field

    @property
    def type_uri(self) -> str:
        """Return the NGSI-LD error type URI."""
        return ERRORS_BASE + self.name

    @property
    def title(self) -> str:
        """Return the title, Chinese first, then English."""
        return f"{self.title_zh} / {self.title_en}"

    def problem(self) -> dict[str, Any]:
        """Return the ProblemDetails body (RFC 9457 members the spec names, plus code)."""
        body: dict[str, Any] = {
            "type": self.type_uri,
            "title": self.title,
            "status": self.status,
            "detail": self.message,
            "code": self.code,
        }
        if self.field:
            body["errors"] = [{"field": e.field, "reason": e.reason} for e in self.errors]
        return body


class InternalError(NgsiLdError):
    """Raise when the broker fails for a reason of its own."""


class InvalidRequest(NgsiLdError):
    """Raise when the request itself is malformed (bad JSON, bad parameters)."""

    name = "InvalidRequest"
    status = 400
    error_kind = ErrorKind.INVALID
    title_zh, title_en = "请求无效", "Invalid request"


class BadRequestData(NgsiLdError):
    """Raise when the request is well formed but its content breaks a rule."""

    name = "BadRequestData"
    status = 400
    error_kind = ErrorKind.INVALID
    title_zh, title_en = "请求数据有误", "Bad request data"


class ResourceNotFound(NgsiLdError):
    """Raise when the entity, attribute or other resource does not exist."""

    name = "ResourceNotFound"
    status = 404
    error_kind = ErrorKind.NOT_FOUND
    title_zh, title_en = "资源不存在", "Resource not found"


class NonexistentTenant(NgsiLdError):
    """Raise when the NGSILD-Tenant header names a tenant that does not exist."""

    name = "NonexistentTenant"
    status = 404
    error_kind = ErrorKind.NOT_FOUND
    title_zh, title_en = "租户不存在", "Nonexistent tenant"


class AlreadyExists(NgsiLdError):
    """Raise when creating something that already exists."""

    name = "AlreadyExists"
    status = 409
    error_kind = ErrorKind.CONFLICT
    title_zh, title_en = "资源已存在", "Already exists"


class OperationNotSupported(NgsiLdError):
    """Raise when the operation is valid NGSI-LD but not supported here (HTTP 422)."""

    name = "OperationNotSupported"
    status = 422
    # The kernel has no 422 kind; INVALID is closest. The NGSI-LD router uses ``status``.
    error_kind = ErrorKind.INVALID
    title_zh, title_en = "不支持该操作", "Operation not supported"


class NotAcceptable(NgsiLdError):
    """Raise when no representation matches the Accept header (HTTP 406)."""

    name = "NotAcceptable"
    status = 406
    error_kind = ErrorKind.INVALID
    title_zh, title_en = "无可接受的表示形式", "Not acceptable"


class TooComplexQuery(NgsiLdError):
    """Raise when a query is too complex to answer."""

    name = "TooComplexQuery"
    status = 403
    error_kind = ErrorKind.FORBIDDEN
    title_zh, title_en = "查询过于复杂", "Too complex query"


class TooManyResults(NgsiLdError):
    """Raise when a query would return more results than allowed."""

    name = "TooManyResults"
    status = 403
    error_kind = ErrorKind.FORBIDDEN
    title_zh, title_en = "结果过多", "Too many results"


class LdContextNotAvailable(NgsiLdError):
    """Raise when a JSON-LD @context cannot be resolved (it is never fetched remotely)."""

    name = "LdContextNotAvailable"
    status = 503
    error_kind = ErrorKind.UNAVAILABLE
    title_zh, title_en = "无法获取 JSON-LD @context", "LD context not available"


class NoMultiTenantSupport(NgsiLdError):
    """Raise when a tenant is asked for and multi-tenancy is off (HTTP 501)."""

    name = "NoMultiTenantSupport"
    status = 501
    # The kernel has no 501 kind; UNAVAILABLE is closest. The NGSI-LD router uses ``status``.
    error_kind = ErrorKind.UNAVAILABLE
    title_zh, title_en = "不支持多租户", "No multi-tenant support"


ALL_ERRORS: tuple[type[NgsiLdError], ...] = (
    InternalError,
    InvalidRequest,
    BadRequestData,
    ResourceNotFound,
    NonexistentTenant,
    AlreadyExists,
    OperationNotSupported,
    NotAcceptable,
    TooComplexQuery,
    TooManyResults,
    LdContextNotAvailable,
    NoMultiTenantSupport,
)
