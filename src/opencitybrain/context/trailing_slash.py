"""Accept the NGSI-LD resource URIs as the spec writes them, with a trailing slash.

ETSI GS CIM 009 names its resources ``/entities/``, ``/subscriptions/``,
``/entities/{entityId}/attrs/`` … (clause 6 tables, Annex A: ``POST /ngsi-ld/v1/entities/``),
and clients built from its OpenAPI file (ngsildclient among them) send those paths. The
routes are declared without the slash; redirecting would not do, since the cockpit's
catch-all mount answers first and a redirect costs a round trip. This ASGI middleware
strips one trailing slash from ``/ngsi-ld/v1/…`` paths before routing.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

PREFIX = "/ngsi-ld/v1/"


class NgsiTrailingSlash:
    """Route ``/ngsi-ld/v1/<resource>/`` as ``/ngsi-ld/v1/<resource>``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strip the trailing slash of an NGSI-LD path, then pass the request on."""
        if scope["type"] == "http":
            path: str = scope["path"]
            if path.endswith("/") and path.startswith(PREFIX) and len(path) > len(PREFIX):
                scope = dict(scope)
                scope["path"] = path[:-1]
                raw: bytes | None = scope.get("raw_path")
                if raw is not None and raw.endswith(b"/"):
                    scope["raw_path"] = raw[:-1]
        await self.app(scope, receive, send)
