"""Open311 GeoReport v2 at ``/open311/v2``: services, definitions, requests, tokens.

Each resource answers JSON or XML by its suffix (``services.json``, ``services.xml``; no
suffix means JSON). Errors leave as the spec's error list (``[{"code", "description"}]``
or ``<errors>``) with the matching HTTP status, descriptions Chinese first.

The reads are public, as GeoReport intends, and show only requests filed through Open311.
``POST requests`` carries its credentials the GeoReport way, as the ``api_key`` form field
(``X-API-Key`` or a bearer token work too); the route authenticates the key itself, so a
refusal can leave in the spec's error format, and requires ``cases:report``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from opencitybrain.accounts.model import Permission
from opencitybrain.accounts.service import AccountService
from opencitybrain.apikit.auth import authenticate, context_for, public
from opencitybrain.apikit.problems import STATUS_OF_KIND
from opencitybrain.apikit.services import registry
from opencitybrain.kernel.errors import CityBrainError, ErrorKind, Forbidden, NotFound
from opencitybrain.kernel.events import Context
from opencitybrain.operations.open311 import FORMATS
from opencitybrain.operations.open311_service import Open311Desk
from opencitybrain.operations.open311_xml import (
    definition_xml,
    errors_xml,
    requests_xml,
    services_xml,
)
from opencitybrain.operations.service import OperationsService

PREFIX = "/open311/v2"
XML = "application/xml; charset=utf-8"
JSON = "application/json; charset=utf-8"
MAX_FORM_BYTES = 64 * 1024  # a description of 4,000 characters and the rest fit easily


def _format_of(request: Request) -> str:
    """Return the format a path asks for (json without a suffix); raise for another one."""
    fmt = str(request.path_params.get("fmt", "json")).lower()
    if fmt not in FORMATS:
        raise NotFound(
            "open311.unknown_format",
            f"不支持的格式：{fmt[:20]}（json 或 xml）",
            f"unsupported format: {fmt[:20]} (json or xml)",
        )
    return fmt


def _describe(exc: CityBrainError) -> str:
    fields = "；".join(f"{e.field}: {e.reason}" for e in exc.errors)
    return exc.message + (f"（{fields}）" if fields else "")


def error_response(request: Request, exc: CityBrainError) -> Response:
    """Return an error as the spec's error list, in the format the path asks for."""
    status = STATUS_OF_KIND[exc.kind]
    errors = [{"code": status, "description": _describe(exc)}]
    fmt = str(request.path_params.get("fmt", "json")).lower()
    headers = {"WWW-Authenticate": 'Bearer realm="citybrain"'} if status == 401 else None
    if fmt == "xml":
        return Response(errors_xml(errors), status, headers, media_type=XML)
    return Response(_json(errors), status, headers, media_type=JSON)


class Open311Route(APIRoute):
    """A route whose expected errors leave as GeoReport error lists."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap the handler so CityBrainErrors become GeoReport error lists."""
        handler = super().get_route_handler()

        async def open311_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except CityBrainError as exc:
                return error_response(request, exc)
            except StarletteHTTPException as exc:  # e.g. a malformed multipart body
                return error_response(request, _http_error(exc))

        return open311_handler


def _http_error(exc: StarletteHTTPException) -> CityBrainError:
    kind = next((k for k, v in STATUS_OF_KIND.items() if v == exc.status_code), ErrorKind.INVALID)
    detail = str(exc.detail)[:200]
    return CityBrainError(
        "open311.bad_request", f"请求无效：{detail}", f"bad request: {detail}", kind
    )


def _json(content: Any) -> bytes:
    return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


def _answer(
    request: Request, content: Any, render: Callable[[Any], bytes], status: int = 200
) -> Response:
    if _format_of(request) == "xml":
        return Response(render(content), status, media_type=XML)
    return Response(_json(content), status, media_type=JSON)


def _desk(request: Request) -> Open311Desk:
    return registry(request).get(Open311Desk)


def _params(request: Request) -> dict[str, str]:
    """Return the query's parameters (the last value of a repeated one)."""
    return dict(request.query_params.items())


router = APIRouter(prefix=PREFIX, tags=["Open311 GeoReport v2"], route_class=Open311Route)


def _route(path: str, method: str, endpoint: Callable[..., Any], summary: str) -> None:
    """Add a route at ``path.{fmt}`` and, for JSON without a suffix, at ``path``."""
    for suffix in (".{fmt}", ""):
        router.add_api_route(
            path + suffix,
            endpoint,
            methods=[method],
            summary=summary,
            dependencies=[Depends(public)],
            include_in_schema=False,
            name=f"open311_{endpoint.__name__}{'_fmt' if suffix else ''}",
        )


async def list_services(request: Request) -> Response:
    """List the services (the case classes citizens may report)."""
    _format_of(request)
    return _answer(request, await run_in_threadpool(_desk(request).services), services_xml)


async def service_definition(request: Request, service_code: str) -> Response:
    """Return a service's definition."""
    _format_of(request)
    found = await run_in_threadpool(_desk(request).definition, service_code)
    return _answer(request, found, definition_xml)


async def list_requests(request: Request) -> Response:
    """Search the requests filed through Open311 (ids, services, dates, status)."""
    _format_of(request)
    found = await run_in_threadpool(_desk(request).requests, _params(request))
    return _answer(request, found, requests_xml)


async def get_request(request: Request, service_request_id: str) -> Response:
    """Return one request filed through Open311."""
    _format_of(request)
    found = await run_in_threadpool(_desk(request).request, service_request_id)
    return _answer(request, [found], requests_xml)


async def get_token(request: Request, token: str) -> Response:
    """Return the request id a token stands for."""
    _format_of(request)
    found = await run_in_threadpool(_desk(request).token, token)
    return _answer(request, [found], requests_xml)


async def _form(request: Request) -> dict[str, list[str]]:
    """Read a form body (url-encoded or multipart), refusing a large one."""
    if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
        raise _too_large()
    if len(await request.body()) > MAX_FORM_BYTES:
        raise _too_large()
    form = await request.form()
    out: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):  # uploaded files are not part of GeoReport v2
            out.setdefault(key, []).append(value)
    return out


def _too_large() -> CityBrainError:
    return CityBrainError(
        "open311.too_large",
        f"请求体过大（最多 {MAX_FORM_BYTES} 字节）",
        f"the body is too large (at most {MAX_FORM_BYTES} bytes)",
        ErrorKind.TOO_LARGE,
    )


def reporter_context(request: Request, form: Mapping[str, Sequence[str]]) -> Context:
    """Authenticate the form's ``api_key`` (or the usual headers); require cases:report."""
    keys = form.get("api_key") or []
    key = (keys[0] if keys else None) or request.headers.get("x-api-key")
    raw = request.headers.get("authorization", "")
    bearer = raw[7:].strip() if raw.lower().startswith("bearer ") else None
    principal = authenticate(registry(request).get(AccountService), bearer, key or None)
    if Permission.CASES_REPORT not in principal.permissions:
        raise Forbidden(
            "auth.forbidden",
            f"没有权限：{Permission.CASES_REPORT.value}",
            f"permission denied: {Permission.CASES_REPORT.value}",
        )
    return context_for(principal, request)


async def create_request(request: Request) -> Response:
    """File a service request: it becomes (or joins) a case through operations intake."""
    _format_of(request)
    form = await _form(request)
    ctx = reporter_context(request, form)
    receipt, merged, events = await run_in_threadpool(_desk(request).submit, ctx, form)
    await registry(request).get(OperationsService).publish(events)
    return _answer(request, [receipt], requests_xml, 200 if merged else 201)


_route("/services", "GET", list_services, "List services")
_route("/services/{service_code}", "GET", service_definition, "Service definition")
_route("/requests", "GET", list_requests, "Search service requests")
_route("/requests", "POST", create_request, "Create a service request")
_route("/requests/{service_request_id}", "GET", get_request, "Get a service request")
_route("/tokens/{token}", "GET", get_token, "Request id of a token")
