"""FastLane: lean routes' writes are served directly, with the same answers and errors."""

from __future__ import annotations

from typing import Annotated, ClassVar

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from opencitybrain.apikit.fast_lane import FastLane
from opencitybrain.apikit.lean_route import LeanRoute
from opencitybrain.apikit.problems import install_problem_handlers
from opencitybrain.kernel.errors import Forbidden


class Stack:
    """An inner middleware standing for the stack: it records what passes through it."""

    seen: ClassVar[list[str]] = []

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            Stack.seen.append(f"{scope['method']} {scope['path']}")
        await self.app(scope, receive, send)


async def who(request: Request) -> str:
    token = request.headers.get("authorization", "")
    if token != "Bearer ok":
        raise Forbidden("auth.forbidden", "没有权限", "permission denied")
    return "writer"


def _client(*, prefix_include: str = "") -> TestClient:
    lean = APIRouter(prefix="/v1", route_class=LeanRoute)

    @lean.patch("/things/{thing_id}/attrs/{attr}")
    async def patch(
        thing_id: str, attr: str, request: Request, actor: Annotated[str, Depends(who)]
    ) -> Response:
        body = await request.body()
        assert request.app is not None
        assert request.scope["route"].path.endswith("{attr}")
        return Response(f"{actor}|{thing_id}|{attr}|{body.decode()}", status_code=207)

    @lean.get("/things/{thing_id}")
    async def read(thing_id: str, actor: Annotated[str, Depends(who)]) -> Response:
        return Response(thing_id)

    plain = APIRouter(prefix="/v1")

    @plain.post("/plain")
    async def plain_write() -> dict[str, str]:
        return {"via": "router"}

    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(Stack)
    app.add_middleware(FastLane, api=app)
    app.include_router(lean, prefix=prefix_include)
    app.include_router(plain)
    return TestClient(app)


def test_a_lean_write_is_served_without_the_stack() -> None:
    Stack.seen = []
    res = _client().patch(
        "/v1/things/urn:x:1/attrs/a%20b", content=b"hi", headers={"Authorization": "Bearer ok"}
    )
    assert (res.status_code, res.text) == (207, "writer|urn:x:1|a b|hi")
    assert Stack.seen == []


def test_errors_are_answered_by_the_apps_problem_handlers() -> None:
    Stack.seen = []
    res = _client().patch("/v1/things/t/attrs/a", content=b"{}")
    assert res.status_code == 403
    assert res.headers["content-type"] == "application/problem+json"
    assert res.json()["code"] == "auth.forbidden"
    assert Stack.seen == []


def test_reads_other_routes_and_unknown_paths_take_the_stack() -> None:
    Stack.seen = []
    client = _client()
    assert client.get("/v1/things/t", headers={"Authorization": "Bearer ok"}).text == "t"
    assert client.post("/v1/plain").json() == {"via": "router"}
    # No lean route has that path: the router answers (a redirect to the slash-less one).
    assert client.patch("/v1/things/t/attrs/a/", follow_redirects=False).status_code == 307
    assert Stack.seen == ["GET /v1/things/t", "POST /v1/plain", "PATCH /v1/things/t/attrs/a/"]


def test_a_lean_router_included_under_a_further_prefix_takes_the_stack() -> None:
    Stack.seen = []
    client = _client(prefix_include="/city")
    res = client.patch("/city/v1/things/t/attrs/a", headers={"Authorization": "Bearer ok"})
    assert res.status_code == 207
    assert Stack.seen == ["PATCH /city/v1/things/t/attrs/a"]
