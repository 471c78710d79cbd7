"""A notification receiver for the benchmarks: ``python -m benchmarks.notify_receiver PORT``.

A tiny asyncio HTTP/1.1 server (keep-alive, Content-Length bodies; no framework, so the
receiver costs little next to the broker it measures). Every POST is a notification: it
counts one POST and the entities in its ``data``. ``GET /wait?entities=N&timeout=S``
answers with ``{"posts", "entities"}`` once N entities arrived or S seconds passed, so a
benchmark waits for deliveries without polling. Prints ``ready`` once it listens.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

from tests.conftest import free_port


class _Tally:
    """Count notifications and notified entities; wake waiters on each arrival."""

    def __init__(self) -> None:
        self.posts = 0
        self.entities = 0
        self.changed = asyncio.Condition()

    def snapshot(self) -> bytes:
        """Return the tallies as JSON."""
        return json.dumps({"posts": self.posts, "entities": self.entities}).encode()


async def _handle(
    tally: _Tally, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    # HTTP/1.1 with keep-alive, as much of it as a notifier and httpx use: Content-Length
    # bodies, no chunking. POST counts a notification; GET /wait?entities=N&timeout=S
    # answers once N entities were notified (or S seconds passed) with the tallies.
    try:
        while True:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            method, target, _ = head[0].split(" ", 2)
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            body = await reader.readexactly(length) if length else b""
            if method == "POST":
                notified = len(json.loads(body).get("data", ()))
                async with tally.changed:
                    tally.posts += 1
                    tally.entities += notified
                    tally.changed.notify_all()
                writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
            else:
                query = parse_qs(urlsplit(target).query)
                want = int(query.get("entities", ["0"])[0])
                timeout = float(query.get("timeout", ["0"])[0])
                async with tally.changed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            tally.changed.wait_for(lambda n=want: tally.entities >= n), timeout
                        )
                    payload = tally.snapshot()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def _receive(port: int) -> None:
    tally = _Tally()
    server = await asyncio.start_server(
        lambda r, w: _handle(tally, r, w), "127.0.0.1", port, backlog=256
    )
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


def start_receiver() -> tuple[str, subprocess.Popen[str]]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.notify_receiver", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready", "the receiver did not start"
    return f"http://127.0.0.1:{port}", proc


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m benchmarks.notify_receiver PORT")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_receive(int(sys.argv[1])))
