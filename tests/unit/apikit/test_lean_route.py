"""LeanRoute: same answers as FastAPI's solver for the shapes it takes; refuses the rest."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.testclient import TestClient

from opencitybrain.apikit.auth import api_key_scheme, bearer_scheme
from opencitybrain.apikit.lean_route import LeanRoute
from opencitybrain.apikit.request_headers import header_map


async def tenant(request: Request) -> str:
    return request.headers.get("x-tenant", "none")


async def pair(request: Request, who: Annotated[str, Depends(tenant)]) -> str:
    return f"{who}/{request.method}"


async def creds(
    bearer: Annotated[str | None, Depends(bearer_scheme)] = None,
    key: Annotated[str | None, Depends(api_key_scheme)] = None,
) -> str:
    return f"{bearer!r}|{key!r}"


def sync_dep(request: Request) -> str:
    return "sync"


def _app(router: APIRouter) -> TestClient:
    app = FastAPI()
    app.include_router(router)
    return TestClient(app)


def test_path_params_request_and_nested_dependencies_are_resolved() -> None:
    router = APIRouter(route_class=LeanRoute)

    @router.patch("/things/{thing_id}/parts/{part}")
    async def patch(
        thing_id: str, part: str, request: Request, who: Annotated[str, Depends(pair)]
    ) -> Response:
        body = await request.body()
        return Response(f"{thing_id}|{part}|{who}|{body.decode()}", status_code=207)

    res = _app(router).patch(
        "/things/urn:x:1/parts/a%20b", content=b"hi", headers={"x-tenant": "t1"}
    )
    assert (res.status_code, res.text) == (207, "urn:x:1|a b|t1/PATCH|hi")


def test_routes_it_cannot_resolve_are_refused_at_start() -> None:
    router = APIRouter(route_class=LeanRoute)
    with pytest.raises(TypeError, match="query"):

        @router.get("/q")
        async def with_query(limit: int = 10) -> Response:
            return Response()

    with pytest.raises(TypeError, match="async"):

        @router.get("/s")
        async def with_sync(value: Annotated[str, Depends(sync_dep)]) -> Response:
            return Response(value)

    with pytest.raises(TypeError, match="str"):

        @router.get("/n/{n}")
        async def with_int(n: int) -> Response:
            return Response()

    with pytest.raises(TypeError, match="Response"):

        @router.get("/d")
        async def returns_dict() -> dict[str, int]:
            return {}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer abc.def"},
        {"Authorization": "bearer   abc "},
        {"Authorization": "Basic dXNlcjpwdw=="},
        {"Authorization": "Bearer"},
        {"X-API-Key": "cbk_1.secret"},
        {"X-API-Key": ""},
        {"Authorization": "Bearer t", "X-API-Key": "cbk_2.s"},
    ],
)
def test_credentials_are_read_as_fastapi_reads_them(headers: dict[str, str]) -> None:
    # LeanRoute reads the bearer token and API key from the request's header dict, not
    # through the security schemes; the values must be the ones the schemes give.
    lean = APIRouter(route_class=LeanRoute)
    plain = APIRouter()

    @lean.patch("/lean")
    async def lean_route(who: Annotated[str, Depends(creds)]) -> Response:
        return Response(who)

    @plain.patch("/plain")
    async def plain_route(who: Annotated[str, Depends(creds)]) -> Response:
        return Response(who)

    app = FastAPI()
    app.include_router(lean)
    app.include_router(plain)
    client = TestClient(app)
    assert (
        client.patch("/lean", headers=headers).text == client.patch("/plain", headers=headers).text
    )


def test_a_repeated_header_reads_as_its_first_value() -> None:
    scope = {
        "type": "http",
        "headers": [(b"link", b"<a>"), (b"x-purpose", b"p"), (b"link", b"<b>")],
    }
    headers = header_map(Request(scope))
    assert headers == {"link": "<a>", "x-purpose": "p"}
    assert header_map(Request(scope)) is headers  # built once per request
