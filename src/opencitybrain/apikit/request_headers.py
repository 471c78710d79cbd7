"""A request's headers as a plain dict, built once per request.

Starlette's ``request.headers.get`` scans the raw header list on every call; a hot route
reads about ten headers (credentials, tenant, Accept, Content-Type, Link, X-Request-ID,
…), so the scans cost more than one dict built once and kept in the ASGI scope.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

_KEY = "citybrain.headers"


def header_map(request: HTTPConnection) -> dict[str, str]:
    """Return the request's headers by lower-case name; the first of a repeated one wins."""
    scope = request.scope
    found: dict[str, str] | None = scope.get(_KEY)
    if found is None:
        found = {k.decode("latin-1"): v.decode("latin-1") for k, v in reversed(scope["headers"])}
        scope[_KEY] = found
    return found
