"""A route class for hot paths: dependencies resolved directly, no general solver.

FastAPI's dependency solver handles every kind of parameter, caching and scopes; for a
route whose parameters are only path strings, the request and async dependencies of the
same shape (the permission check, a service lookup) that generality cost a small write
about as much as the write itself. :class:`LeanRoute` builds, once per route, a resolver
that calls those dependencies in order, and refuses at start-up any route that needs more
than it can resolve, so a route cannot silently lose a check. The OpenAPI description,
the permission-walking test and the exception handlers see the same route as before.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from fastapi.security.base import SecurityBase

from opencitybrain.apikit.request_headers import header_map

Resolver = Callable[[Request], Awaitable[Any]]


def _is_async(call: Any) -> bool:
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(
        getattr(call, "__call__", None)  # noqa: B004 - security schemes are callable objects
    )


def _direct_credentials(scheme: SecurityBase) -> Callable[[Request], str | None] | None:
    """Return a reader equal to a bearer or API-key header scheme, from the header dict."""
    if isinstance(scheme, OAuth2PasswordBearer) and not scheme.auto_error:

        def bearer(request: Request) -> str | None:
            authorization = header_map(request).get("authorization")
            kind, _, token = (authorization or "").partition(" ")
            return token.strip() if authorization and kind.lower() == "bearer" else None

        return bearer
    if isinstance(scheme, APIKeyHeader) and not scheme.auto_error:
        name = scheme.model.name.lower()
        return lambda request: header_map(request).get(name) or None
    return None


def _resolver(dep: Dependant, where: str) -> Resolver:
    """Return an async function giving the dependency's value for a request."""
    if dep.query_params or dep.header_params or dep.cookie_params or dep.body_params:
        raise TypeError(f"{where}: LeanRoute resolves no query, header, cookie or body params")
    call = dep.call
    if isinstance(call, SecurityBase):  # a credentials reader: called with the request
        scheme = call
        direct = _direct_credentials(scheme)
        if direct is not None:
            read = direct

            async def header_credentials(request: Request) -> Any:
                return read(request)

            return header_credentials

        async def credentials(request: Request) -> Any:
            return await scheme(request)

        return credentials
    if call is None or not _is_async(call):
        raise TypeError(f"{where}: LeanRoute needs async dependencies ({call!r})")
    for p in dep.path_params:
        if p.field_info.annotation is not str:
            raise TypeError(f"{where}: LeanRoute path parameter {p.name} must be a str")
    path = [(p.name, p.alias) for p in dep.path_params]
    subs = [(s.name, _resolver(s, where)) for s in dep.dependencies if s.name is not None]
    if len(subs) != len(dep.dependencies):
        raise TypeError(f"{where}: LeanRoute needs every dependency bound to a parameter")
    request_name = dep.request_param_name

    async def resolve(request: Request) -> Any:
        params = request.path_params
        kwargs: dict[str, Any] = {name: params[alias] for name, alias in path}
        if request_name is not None:
            kwargs[request_name] = request
        for name, sub in subs:
            kwargs[name] = await sub(request)
        return await call(**kwargs)

    return resolve


class LeanRoute(APIRoute):
    """An APIRoute whose endpoint returns a Response and whose dependencies resolve directly."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Return the handler: resolve path params, the request and the dependencies; call."""
        where = f"{sorted(self.methods or ())} {self.path}"
        if inspect.signature(self.endpoint).return_annotation not in (Response, "Response"):
            raise TypeError(f"{where}: a LeanRoute endpoint must be annotated -> Response")
        resolve = _resolver(self.dependant, where)

        async def handler(request: Request) -> Response:
            response: Response = await resolve(request)
            return response

        return handler
