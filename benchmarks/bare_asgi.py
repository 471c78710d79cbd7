"""The HTTP ceiling of this machine: a bare ASGI app on uvicorn that answers 204 at once.

``python -m benchmarks.bare_asgi PORT``. Same server (uvicorn, httptools, uvloop), same
load generator and connections as the broker's PATCH figure, no framework and no work:
what any Python route here could reach at best. The broker's PATCH is reported against it.
"""

from __future__ import annotations

import sys
from typing import Any

import uvicorn

_NO_CONTENT = {"type": "http.response.start", "status": 204, "headers": []}
_END = {"type": "http.response.body", "body": b""}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Read the request body, answer 204 No Content."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send(_NO_CONTENT)
    await send(_END)


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
