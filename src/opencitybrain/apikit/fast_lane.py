"""A direct lane to the small writes of :class:`LeanRoute` routes.

A device's attribute update is a few dozen bytes in and a 204 out, and it is the busiest
request the city serves. Starlette sends every request through its middleware stack
(compression, exception mapping, the dependency exit stack) and then tries each route in
turn; for such a write that walk cost about as much as the write. This ASGI middleware
looks the request up in a table of the app's lean write routes (method, then the route's
own path pattern) and calls the route's handler itself: the same endpoint, the same
permission check, the same exception handlers for errors. Every other request, and a
write whose path no lean route matches, goes on down the stack untouched.

What the lane leaves out, and why that is safe for these routes: compression (their
answers are a status and at most a short 207 list), the dependency exit stack (a
LeanRoute has no ``yield`` dependencies) and the request-validation layer (a LeanRoute
takes no body or query parameters; the endpoint parses its own body).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.routing import iter_route_contexts
from starlette.types import ASGIApp, Receive, Scope, Send

from opencitybrain.apikit.lean_route import LeanRoute

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
Handler = Callable[[Request], Coroutine[Any, Any, Response]]
Lane = tuple[re.Pattern[str], dict[str, Any], LeanRoute, Handler]


class FastLane:
    """Serve the writes of lean routes directly; pass everything else down the stack."""

    def __init__(self, app: ASGIApp, api: FastAPI) -> None:
        self.app = app
        self._api = api
        self._lanes: dict[str, list[Lane]] | None = None

    def _build(self) -> dict[str, list[Lane]]:
        """Index the app's lean write routes by method (routes are all added by now).

        A route included with a prefix or dependencies of its own (which its handler
        would not see) stays on the ordinary path.
        """
        lanes: dict[str, list[Lane]] = {}
        for ctx in iter_route_contexts(self._api.routes):
            route = ctx.original_route
            if not isinstance(route, LeanRoute) or ctx.path != route.path:
                continue
            if len(ctx.dependant.dependencies) != len(route.dependant.dependencies):
                continue
            handler = route.get_route_handler()
            for method in (ctx.methods or set()) & WRITES:
                lanes.setdefault(method, []).append(
                    (route.path_regex, route.param_convertors, route, handler)
                )
        return lanes

    def _match(self, scope: Scope) -> tuple[LeanRoute, Handler, dict[str, Any]] | None:
        lanes = self._lanes
        if lanes is None:
            lanes = self._lanes = self._build()
        path: str = scope["path"]
        for regex, convertors, route, handler in lanes.get(scope["method"], ()):
            found = regex.match(path)
            if found is not None:
                params = {k: convertors[k].convert(v) for k, v in found.groupdict().items()}
                return route, handler, params
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a lean write directly, or pass the request on."""
        if scope["type"] != "http" or scope["method"] not in WRITES or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        hit = self._match(scope)
        if hit is None:
            await self.app(scope, receive, send)
            return
        route, handler, params = hit
        # What routing would have put in the scope, for the endpoint and its dependencies.
        scope["app"] = self._api
        scope["router"] = self._api.router
        scope["endpoint"] = route.endpoint
        scope["route"] = route
        scope["path_params"] = params
        request = Request(scope, receive, send)
        try:
            response = await handler(request)
        except Exception as exc:
            response = await self._problem(request, exc)
        await response(scope, receive, send)

    async def _problem(self, request: Request, exc: Exception) -> Response:
        """Answer an error with the app's own exception handler (the one routing would use)."""
        handlers = self._api.exception_handlers
        for cls in type(exc).__mro__:
            handle = handlers.get(cls)
            if handle is not None:
                answer = handle(request, exc)  # the app's handlers are all async
                response: Response = await answer if inspect.isawaitable(answer) else answer
                return response
        raise exc
