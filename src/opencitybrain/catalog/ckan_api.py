"""CKAN-compatible read API at ``/api/3/action/<name>`` (and ``/api/action/<name>``),
so existing CKAN tools work.

Every action takes its parameters from the query string (GET) or a JSON object (POST, as
``ckanapi`` sends them) and answers ``{"help", "success", "result"}``. Errors answer
``{"success": false, "error": {"__type": …, "message": …}}`` with CKAN's error types,
and the same body is an RFC 9457 problem (``type``, ``title``, ``status``, ``detail``,
``code``), served as ``application/problem+json`` like every other error of the platform.

Catalogue metadata are shared inside government by default, not published to the public:
every action needs ``catalog:read``. CKAN clients send their key as a bare
``Authorization: <key>`` header; ``Bearer <token>`` and ``X-API-Key`` work too.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from opencitybrain.accounts.model import Department, Permission
from opencitybrain.accounts.service import AccountService
from opencitybrain.apikit.auth import PERMISSION_ATTR, authenticate, context_for
from opencitybrain.apikit.problems import PROBLEM_JSON, STATUS_OF_KIND, Problem
from opencitybrain.apikit.services import registry
from opencitybrain.catalog import ckan
from opencitybrain.catalog.api import open_extracts
from opencitybrain.catalog.open_extracts import OpenExtracts
from opencitybrain.catalog.search import SearchQuery, Sort
from opencitybrain.catalog.service import CatalogService
from opencitybrain.kernel.errors import (
    CityBrainError,
    ErrorKind,
    Forbidden,
    InvalidInput,
    NotFound,
)
from opencitybrain.kernel.events import Context

_TYPES = {
    ErrorKind.NOT_FOUND: "Not Found Error",
    ErrorKind.INVALID: "Validation Error",
    ErrorKind.UNAUTHENTICATED: "Authorization Error",
    ErrorKind.FORBIDDEN: "Authorization Error",
}
# CKAN answers validation errors with 409; the rest keep the platform's status codes.
_STATUS = {**STATUS_OF_KIND, ErrorKind.INVALID: 409}
_MAX_BODY = 64 * 1024


def _help(request: Request, action: str) -> str:
    return f"{request.base_url}api/3/action/help_show?name={action}"


def ckan_error(request: Request, exc: CityBrainError) -> JSONResponse:
    """Return an error as a CKAN error envelope that is also an RFC 9457 problem."""
    status = _STATUS[exc.kind]
    error: dict[str, Any] = {
        "__type": _TYPES.get(exc.kind, "Internal Error"),
        "message": exc.message,
    }
    for e in exc.errors:  # CKAN's ValidationError lists messages per field
        error.setdefault(e.field, []).append(e.reason)
    body = {
        "help": _help(request, request.url.path.rsplit("/", 1)[-1]),
        "success": False,
        "error": error,
        "type": f"urn:opencitybrain:problem:{exc.code}",
        "title": error["__type"],
        "status": status,
        "detail": exc.message,
        "code": exc.code,
        "instance": request.url.path,
    }
    headers = {"WWW-Authenticate": 'Bearer realm="citybrain"'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


class CkanRoute(APIRoute):
    """A route whose expected errors, authentication included, leave in CKAN's shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap the handler so CityBrainErrors become CKAN error envelopes."""
        handler = super().get_route_handler()

        async def ckan_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except CityBrainError as exc:
                return ckan_error(request, exc)

        return ckan_handler


def ckan_require(permission: Permission) -> Callable[..., Awaitable[Context]]:
    """Return a dependency like ``require`` that also takes CKAN's bare Authorization key."""

    async def dependency(request: Request) -> Context:
        raw = request.headers.get("authorization", "").strip()
        bearer = raw[7:].strip() if raw.lower().startswith("bearer ") else raw
        principal = authenticate(
            registry(request).get(AccountService), bearer or None, request.headers.get("x-api-key")
        )
        if permission not in principal.permissions:
            raise Forbidden(
                "auth.forbidden",
                f"没有权限：{permission.value}",
                f"permission denied: {permission}",
            )
        request.state.principal = principal
        ctx = context_for(principal, request)
        request.state.context = ctx
        return ctx

    setattr(dependency, PERMISSION_ATTR, frozenset({permission}))
    dependency.__name__ = f"ckan_require_{permission.name.lower()}"
    return dependency


_actions = APIRouter(route_class=CkanRoute)
Reader = Annotated[Context, Depends(ckan_require(Permission.CATALOG_READ))]


def _catalog(request: Request) -> CatalogService:
    return registry(request).get(CatalogService)


Catalog = Annotated[CatalogService, Depends(_catalog)]


def _extracts(request: Request) -> OpenExtracts:
    return open_extracts(registry(request))


Extracts = Annotated[OpenExtracts, Depends(_extracts)]


async def _params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        params[key] = values if len(values) > 1 else values[0]
    if request.method == "POST":
        raw = await request.body()
        if len(raw) > _MAX_BODY:
            raise InvalidInput("ckan.too_large", "请求体过大", "request body too large")
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                raise InvalidInput("ckan.bad_json", "请求体不是 JSON", "body is not JSON") from None
            if not isinstance(body, dict):
                raise InvalidInput(
                    "ckan.bad_json", "请求体须为 JSON 对象", "body must be an object"
                )
            params.update(body)
    return params


def _ok(request: Request, action: str, result: Any) -> JSONResponse:
    return JSONResponse({"help": _help(request, action), "success": True, "result": result})


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _depts(svc: CatalogService, ctx: Context) -> dict[str, tuple[Department, int]]:
    return {d.id: (d, n) for d, n in svc.providers(ctx)}


def _required(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        raise InvalidInput(
            "ckan.missing", f"缺少参数 {name}", f"missing value: {name}",
        )  # fmt: skip
    return value.strip()


_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": text}
    for status, text in (
        (401, "未认证 / Authorization Error"),
        (403, "无权限 / Authorization Error"),
        (404, "未找到 / Not Found Error"),
        (409, "参数无效 / Validation Error"),
    )
}
_T = TypeVar("_T", bound=Callable[..., Any])


def _action(path: str) -> Callable[[_T], _T]:
    """Register an action for GET (query string) and POST (JSON object), as CKAN takes both."""

    def register(fn: _T) -> _T:
        for method in ("GET", "POST"):
            _actions.add_api_route(
                path,
                fn,
                methods=[method],
                operation_id=f"ckan_{fn.__name__}_{method.lower()}",
                responses=_ERRORS,
            )
        return fn

    return register


@_action("/package_list")
async def package_list(request: Request, ctx: Reader, svc: Catalog) -> JSONResponse:
    """List the names (slugs) of the catalogue's active resources."""
    params = await _params(request)
    limit = ckan.integer(params, "limit", 1000, 0, 10_000)
    offset = ckan.integer(params, "offset", 0, 0, 1_000_000)
    codes = await run_in_threadpool(svc.codes, ctx, limit=limit, offset=offset)
    return _ok(request, "package_list", [c.replace("/", "-") for c in codes])


@_action("/package_show")
async def package_show(
    request: Request, ctx: Reader, svc: Catalog, extracts: Extracts
) -> JSONResponse:
    """Show one resource as a package, by id or name (its open releases as resources)."""
    ref = _required(await _params(request), "id")
    resource = await run_in_threadpool(svc.find, ctx, ref)
    depts = await run_in_threadpool(_depts, svc, ctx)
    dept = depts.get(resource.department_id, (None, 0))[0]
    found = await run_in_threadpool(extracts.for_resource, resource.id)
    return _ok(request, "package_show", ckan.package(resource, dept, _base(request), found))


@_action("/package_search")
async def package_search(
    request: Request, ctx: Reader, svc: Catalog, extracts: Extracts
) -> JSONResponse:
    """Search packages: q, fq (field:value), rows, start, sort, facet.field."""
    params = await _params(request)
    query = ckan.search_query(params)
    names = ckan.facet_names(params)
    result = await run_in_threadpool(svc.search, ctx, query)
    depts = {k: d for k, (d, _) in (await run_in_threadpool(_depts, svc, ctx)).items()}
    found = await run_in_threadpool(extracts.for_resources, [h.resource.id for h in result.hits])
    facets: dict[str, Any] = {}
    search_facets: dict[str, Any] = {}
    for facet, counts in result.facets.items():
        name = names[facet]
        facets[name] = dict(counts)
        search_facets[name] = {
            "title": name,
            "items": [
                {"name": v, "display_name": ckan.display(facet, v, depts), "count": n}
                for v, n in counts
            ],
        }
    return _ok(
        request,
        "package_search",
        {
            "count": result.total,
            "sort": params.get("sort") or "score desc, metadata_modified desc",
            "results": [
                ckan.package(
                    h.resource,
                    depts.get(h.resource.department_id),
                    _base(request),
                    found.get(h.resource.id, ()),
                )
                for h in result.hits
            ],
            "facets": facets,
            "search_facets": search_facets,
        },
    )


@_action("/organization_list")
async def organization_list(request: Request, ctx: Reader, svc: Catalog) -> JSONResponse:
    """List the departments (organizations): names, or dicts with all_fields."""
    params = await _params(request)
    providers = await run_in_threadpool(svc.providers, ctx)
    sort = " ".join(str(params.get("sort") or "name asc").split())
    if sort not in {"name asc", "name desc", "package_count desc", "title asc"}:
        raise InvalidInput("ckan.bad_sort", "排序方式无效", f"unsupported sort {sort!r}")
    key = {"name asc": lambda p: p[0].id, "name desc": lambda p: p[0].id,
           "title asc": lambda p: p[0].name_zh,
           "package_count desc": lambda p: (-p[1], p[0].id)}[sort]  # fmt: skip
    providers.sort(key=key, reverse=sort == "name desc")
    wanted = params.get("organizations")
    if isinstance(wanted, list):
        providers = [p for p in providers if p[0].id in wanted]
    offset = ckan.integer(params, "offset", 0, 0, 100_000)
    limit = ckan.integer(params, "limit", 1000, 0, 1000)
    page = providers[offset : offset + limit]
    if ckan.boolean(params, "all_fields"):
        return _ok(request, "organization_list", [ckan.organization(d, n) for d, n in page])
    return _ok(request, "organization_list", [d.id for d, _ in page])


@_action("/organization_show")
async def organization_show(
    request: Request, ctx: Reader, svc: Catalog, extracts: Extracts
) -> JSONResponse:
    """Show one department (organization), with its packages if include_datasets."""
    params = await _params(request)
    dept, count = await run_in_threadpool(svc.provider, ctx, _required(params, "id"))
    out = ckan.organization(dept, count)
    if ckan.boolean(params, "include_datasets"):
        query = SearchQuery(departments=(dept.id,), sort=Sort.CODE_ASC, limit=1000)
        result = await run_in_threadpool(svc.search, ctx, query)
        ids = [h.resource.id for h in result.hits]
        found = await run_in_threadpool(extracts.for_resources, ids)
        out["packages"] = [
            ckan.package(h.resource, dept, _base(request), found.get(h.resource.id, ()))
            for h in result.hits
        ]
    return _ok(request, "organization_show", out)


@_action("/status_show")
async def status_show(request: Request, ctx: Reader) -> JSONResponse:
    """Describe this catalogue endpoint (the CKAN API level it follows)."""
    return _ok(
        request,
        "status_show",
        {
            "site_title": "OpenCityBrain 政务信息资源目录",
            "site_description": "Government information resource catalogue",
            "site_url": _base(request),
            "ckan_version": ckan.CKAN_VERSION,
            "api_version": 3,
            "locale_default": "zh_Hans_CN",
            "extensions": ["opencitybrain_catalog"],
        },
    )


@_action("/{action}")
async def unknown_action(request: Request, ctx: Reader, action: str) -> JSONResponse:
    """Refuse actions this endpoint does not offer (it is read-only)."""
    raise NotFound(
        "ckan.unknown_action",
        f"不支持的操作 {action[:64]}",
        f"action {action[:64]!r} is not offered here (read-only catalogue)",
    )


# CKAN serves its actions at /api/3/action and, unversioned, at /api/action (where
# ckanapi sends them); both paths reach the same guarded actions.
router = APIRouter(tags=["CKAN 兼容接口"])
router.include_router(_actions, prefix="/api/3/action")
router.include_router(_actions, prefix="/api/action", include_in_schema=False)
