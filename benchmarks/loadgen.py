"""A lean HTTP/1.1 load generator: keep-alive connections over raw asyncio streams.

httpx spends more CPU per request than a small route costs the server, so on a 2-core
machine it would measure itself. This client writes prepared requests and reads each
response's headers and body, nothing more: one request in flight per connection.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Load:
    """What a load run measured: requests per second and each request's latency (s)."""

    rate: float
    latencies: list[float]


def request_bytes(method: str, path: str, headers: Mapping[str, str], body: bytes = b"") -> bytes:
    """Return one HTTP/1.1 request, ready to write."""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head += f"Content-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


async def _connection(
    port: int, requests: Sequence[bytes], count: int, latencies: list[float]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for i in range(count):
            started = time.perf_counter()
            writer.write(requests[i % len(requests)])
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 2"):
                raise RuntimeError(f"{head.splitlines()[0]!r}: {body[:300]!r}")
            latencies.append(time.perf_counter() - started)
    finally:
        writer.close()


async def run_load(port: int, requests: Sequence[bytes], total: int, connections: int) -> Load:
    """Send ``total`` requests over ``connections`` keep-alive connections (round robin)."""
    latencies: list[float] = []
    per = max(1, total // connections)
    started = time.perf_counter()
    await asyncio.gather(
        *(
            _connection(port, requests[k::connections] or requests, per, latencies)
            for k in range(connections)
        )
    )
    return Load(len(latencies) / (time.perf_counter() - started), latencies)
