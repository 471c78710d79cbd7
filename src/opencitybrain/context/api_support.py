"""Request plumbing shared by the NGSI-LD routes: body, @context, options, responses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from fastapi import Request
from fastapi.responses import JSONResponse, Response

from opencitybrain.apikit.problems import PROBLEM_JSON, Problem
from opencitybrain.apikit.request_headers import header_map
from opencitybrain.apikit.services import registry
from opencitybrain.context.errors import BadRequestData, InvalidRequest, NotAcceptable
from opencitybrain.context.headers import (
    GEOJSON,
    JSONLD,
    JSONLD_CONTEXT_REL,
    Representation,
    content_kind,
    link_context,
    negotiate,
    tenant_of,
)
from opencitybrain.context.jsonld import CompiledContext
from opencitybrain.context.service import ContextBroker
from opencitybrain.kernel.errors import CityBrainError, ErrorKind

MAX_BODY = 8 * 2**20

_PROBLEM = {"model": Problem, "content": {PROBLEM_JSON: {}}}
# Every NGSI-LD route may answer with these ProblemDetails (spec 1.8 clause 6.3).
NGSI_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {**_PROBLEM, "description": "InvalidRequest / BadRequestData"},
    401: {**_PROBLEM, "description": "未认证 / Unauthenticated"},
    403: {**_PROBLEM, "description": "无权限或结果过多 / Forbidden or TooManyResults"},
    404: {**_PROBLEM, "description": "ResourceNotFound"},
    406: {**_PROBLEM, "description": "NotAcceptable"},
    409: {**_PROBLEM, "description": "AlreadyExists"},
    415: {**_PROBLEM, "description": "不支持的媒体类型 / Unsupported media type"},
    422: {**_PROBLEM, "description": "参数校验失败 / Validation failed"},
    503: {**_PROBLEM, "description": "LdContextNotAvailable"},
}
# NGSI-LD bodies are checked by the spec's rules, not by a JSON schema; this documents
# the media types they come in.
JSON_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": ["object", "array"]}},
            "application/ld+json": {"schema": {"type": ["object", "array"]}},
        },
    }
}
TENANT_HEADER = "NGSILD-Tenant"
_DECODE = msgspec.json.Decoder().decode


class UnsupportedMediaType(CityBrainError):
    """Raise when a body comes in a format NGSI-LD does not take."""

    def __init__(self, got: str | None) -> None:
        super().__init__(
            "ngsi.unsupported_media_type",
            f"不支持的 Content-Type：{got}（可用 application/json 或 application/ld+json）",
            f"unsupported Content-Type {got} (use application/json or application/ld+json)",
            ErrorKind.UNSUPPORTED_MEDIA,
        )


async def broker(request: Request) -> ContextBroker:
    """Return the wired context broker."""
    return registry(request).get(ContextBroker)


@dataclass(frozen=True)
class Call:
    """What every NGSI-LD request brings: tenant, @context and wanted representation."""

    tenant: str
    context: CompiledContext
    representation: Representation


def _csv(raw: str | None) -> list[str]:
    return [p.strip() for p in (raw or "").split(",") if p.strip()]


def options_of(request: Request) -> set[str]:
    """Return the ``options`` (and 1.8 ``format``) flags of a request."""
    flags = set(_csv(request.query_params.get("options")))
    fmt = request.query_params.get("format")
    if fmt:
        flags.add(fmt)
    unknown = flags - {"keyValues", "simplified", "normalized", "sysAttrs", "noOverwrite",
                       "concise", "update", "replace"}  # fmt: skip
    if unknown:
        raise BadRequestData(
            f"未知的 options：{sorted(unknown)}",
            f"unknown options {sorted(unknown)}",
            field="options",
        )
    return flags


def csv_param(request: Request, name: str) -> list[str]:
    """Return a comma-separated query parameter as a list."""
    return _csv(request.query_params.get(name))


def call_of(
    request: Request, svc: ContextBroker, body: Any = None, *, creates: bool = False
) -> Call:
    """Return the tenant, the @context (Link header or body) and the representation.

    The tenant must exist (NonexistentTenant otherwise) unless the operation ``creates``.
    """
    headers = header_map(request)
    tenant = tenant_of(headers.get("ngsild-tenant"))
    if not creates:
        svc.tenants.check(tenant)
    rep = negotiate(headers.get("accept"))
    if rep is None:
        raise NotAcceptable(
            "无法提供所要求的表示"
            "（可用 application/json、application/ld+json、application/geo+json）",
            "cannot answer in any accepted media type "
            "(application/json, application/ld+json, application/geo+json)",
        )
    kind = content_kind(headers.get("content-type")) if body is not None else None
    link = link_context(headers.get("link"))
    if kind == "ld+json":
        if link is not None:
            raise BadRequestData(
                "application/ld+json 请求不能同时带 Link @context",
                "an application/ld+json request must not also send a Link @context",
            )
        if not isinstance(body, dict) or "@context" not in body:
            raise BadRequestData(
                "application/ld+json 请求体必须含 @context",
                "an application/ld+json body must carry its @context",
                field="@context",
            )
        context = svc.resolver.compile(body["@context"])
    else:
        if isinstance(body, dict) and "@context" in body:
            raise BadRequestData(
                "application/json 请求体不能含 @context（请用 Link 头）",
                "an application/json body must not carry @context (use the Link header)",
                field="@context",
            )
        context = svc.resolver.compile(link)
    return Call(tenant, context, rep)


async def json_body(request: Request) -> Any:
    """Return the parsed JSON body, refusing other media types and malformed JSON."""
    content_type = header_map(request).get("content-type")
    if content_kind(content_type) is None:
        raise UnsupportedMediaType(content_type)
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise InvalidRequest("请求体过大", f"body larger than {MAX_BODY} bytes")
    try:
        # msgspec: several times faster than json.loads, and strict JSON (RFC 8259):
        # NaN, Infinity, lone surrogates and non-UTF-8 bytes are refused, not stored.
        return _DECODE(raw)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise InvalidRequest(
            f"请求体不是合法 JSON：{exc}", f"body is not valid JSON: {exc}"
        ) from exc


def respond(
    call: Call, body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """Return a JSON response in the negotiated media type, echoing the tenant."""
    media = {"ld+json": JSONLD, "geo+json": GEOJSON}.get(call.representation, "application/json")
    out = dict(headers or {})
    if call.tenant:
        out[TENANT_HEADER] = call.tenant
    if call.representation == "json" and isinstance(call.context.value, str):
        # A plain-JSON answer names its @context in a Link header, as the request did.
        out["Link"] = f'<{call.context.value}>; rel="{JSONLD_CONTEXT_REL}"; type="{JSONLD}"'
    return JSONResponse(body, status_code=status, media_type=media, headers=out)
