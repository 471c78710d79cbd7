"""Authentication and permission dependencies: every route declares one of them.

``require(Permission.X)`` authenticates the caller (bearer JWT, API key, or OAuth2
client-credentials token), checks the permission and yields the request's ``Context``.
``public`` marks the few routes anyone may call. A test walks every route and fails if a
route has neither: default deny.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from opencitybrain.accounts.model import Permission, Principal, Role
from opencitybrain.accounts.service import KEY_PREFIX, AccountService
from opencitybrain.apikit.request_headers import header_map
from opencitybrain.apikit.services import registry
from opencitybrain.kernel.errors import Forbidden, Unauthenticated
from opencitybrain.kernel.events import Context
from opencitybrain.kernel.ids import new_id

PERMISSION_ATTR = "_citybrain_permissions"
PUBLIC_ATTR = "_citybrain_public"

bearer_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    description="用户口令或应用客户端凭证换取的令牌 / token from password or client credentials",
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="API 密钥 / API key `cbk_<id>.<secret>`"
)

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_PURPOSE_MAX = 200


def public() -> None:
    """Mark a route as open to anyone (no credentials needed)."""


setattr(public, PUBLIC_ATTR, True)


def authenticate(accounts: AccountService, bearer: str | None, api_key: str | None) -> Principal:
    """Return the principal behind the presented credentials, or raise Unauthenticated."""
    if api_key:
        return accounts.from_api_key(api_key)
    if bearer:
        if bearer.startswith(KEY_PREFIX):
            return accounts.from_api_key(bearer)
        return accounts.from_token(bearer)
    raise Unauthenticated("auth.required", "需要登录或 API 密钥", "credentials required")


@functools.lru_cache(maxsize=256)
def _role_names(roles: frozenset[Role]) -> frozenset[str]:
    return frozenset(r.value for r in roles)


def context_for(principal: Principal, request: Request) -> Context:
    """Build the request's Context from the principal and the X-Purpose / X-Request-ID headers."""
    headers = header_map(request)
    rid = headers.get("x-request-id", "")
    purpose = headers.get("x-purpose")
    return Context(
        actor=principal.user_id,
        department=principal.department_id,
        roles=_role_names(principal.roles),
        purpose=purpose[:_PURPOSE_MAX] if purpose else None,
        correlation_id=rid if _REQUEST_ID_RE.match(rid) else new_id(),
    )


def require(*permissions: Permission) -> Callable[..., Awaitable[Context]]:
    """Return a dependency that authenticates, checks ``permissions`` and yields the Context."""

    # Async on purpose: authentication is a cached, CPU-only check, and a sync dependency
    # would cost every request a thread-pool round trip.
    async def dependency(
        request: Request,
        bearer: Annotated[str | None, Depends(bearer_scheme)] = None,
        api_key: Annotated[str | None, Depends(api_key_scheme)] = None,
    ) -> Context:
        accounts = registry(request).get(AccountService)
        principal = authenticate(accounts, bearer, api_key)
        missing = [p for p in permissions if p not in principal.permissions]
        if missing:
            raise Forbidden(
                "auth.forbidden",
                "没有权限：" + ", ".join(missing),
                "permission denied: " + ", ".join(missing),
            )
        request.state.principal = principal
        ctx = context_for(principal, request)
        request.state.context = ctx
        return ctx

    setattr(dependency, PERMISSION_ATTR, frozenset(permissions))
    dependency.__name__ = "require_" + "_".join(p.name.lower() for p in permissions)
    return dependency


def permission_of(call: Any) -> frozenset[Permission] | None:
    """Return the permissions a dependency callable checks, or None if it checks none."""
    return getattr(call, PERMISSION_ATTR, None)


def is_public(call: Any) -> bool:
    """Tell whether a dependency callable is the ``public`` marker."""
    return bool(getattr(call, PUBLIC_ATTR, False))


def principal_of(request: Request) -> Principal:
    """Return the principal a ``require`` dependency stored on the request."""
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):
        raise Unauthenticated("auth.required", "需要登录或 API 密钥", "credentials required")
    return principal


CityReader = Annotated[Context, Depends(require(Permission.CITY_READ))]
ClockReader = Annotated[Context, Depends(require(Permission.CLOCK_READ))]
ClockController = Annotated[Context, Depends(require(Permission.CLOCK_CONTROL))]
AccountsReader = Annotated[Context, Depends(require(Permission.ACCOUNTS_READ))]
AccountsAdmin = Annotated[Context, Depends(require(Permission.ACCOUNTS_ADMIN))]
KeyOwner = Annotated[Context, Depends(require(Permission.KEYS_OWN))]
ContextReader = Annotated[Context, Depends(require(Permission.CONTEXT_READ))]
ContextWriter = Annotated[Context, Depends(require(Permission.CONTEXT_WRITE))]
Public = Depends(public)


@dataclass(frozen=True)
class RouteGuard:
    """What one API route (method + path) checks before it runs."""

    method: str
    path: str
    public: bool
    permissions: frozenset[Permission] | None  # None: the route checks nothing


def _calls(dep: Dependant) -> list[Any]:
    out = [dep.call]
    for sub in dep.dependencies:
        out.extend(_calls(sub))
    return out


def route_guards(app: FastAPI) -> list[RouteGuard]:
    """List every API route of the app with the permission it checks (for tests and docs)."""
    guards = []
    for ctx in iter_route_contexts(app.routes):
        route = ctx.original_route
        if not isinstance(route, APIRoute):
            continue
        calls = _calls(route.dependant)
        perms = [p for c in calls if (p := permission_of(c)) is not None]
        for method in sorted(ctx.methods or ()):
            guards.append(
                RouteGuard(
                    method,
                    str(ctx.path),
                    any(is_public(c) for c in calls),
                    frozenset().union(*perms) if perms else None,
                )
            )
    return guards
