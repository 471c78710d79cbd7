"""Pick the event bus from its URL: ``memory://`` (in-process) or ``nats://host:port``."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit, urlunsplit

from opencitybrain.kernel.bus import Bus, InProcessBus
from opencitybrain.kernel.errors import InvalidInput

_NATS_OPTIONS = ("stream", "prefix")


async def make_bus(url: str) -> Bus:
    """Return a connected bus for ``url``.

    ``nats://`` URLs may name the stream and a subject prefix in the query, e.g.
    ``nats://127.0.0.1:4222?stream=CITYBRAIN&prefix=staging``.
    """
    parts = urlsplit(url)
    if parts.scheme == "memory":
        return InProcessBus()
    if parts.scheme == "nats":
        # Imported here so the embedded default never loads the NATS client.
        from opencitybrain.adapters.nats_bus import NatsBus

        query = parse_qs(parts.query)
        unknown = set(query) - set(_NATS_OPTIONS)
        if unknown:
            raise InvalidInput(
                "bus.bad_url",
                f"消息总线地址含未知参数 {sorted(unknown)}",
                f"unknown bus URL options {sorted(unknown)}; known: {list(_NATS_OPTIONS)}",
            )
        server = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        stream = query.get("stream", ["CITYBRAIN"])[-1]
        prefix = query.get("prefix", [""])[-1]
        return await NatsBus.connect(server, stream=stream, prefix=prefix)
    raise InvalidInput(
        "bus.unsupported_url",
        f"不支持的消息总线地址类型 {parts.scheme!r}（可用 memory:// 或 nats://）",
        f"unsupported bus URL scheme {parts.scheme!r} (use memory:// or nats://)",
    )
