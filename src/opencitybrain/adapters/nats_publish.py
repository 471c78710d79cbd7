"""Pipelined JetStream publishing: send a batch without waiting, then collect every ack.

Each message asks JetStream to reply on ``<inbox>.<index>``; one subscription counts the
replies. This avoids a future and a token per message (what nats-py's ``publish_async``
does), which roughly halves the cost of a publish in Python.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from opencitybrain.kernel.errors import Unavailable

# Keep at most this many publishes unacknowledged, so a huge batch cannot flood the
# outgoing buffer; resume once half of them have been acknowledged.
WINDOW = 4096

Message = tuple[str, bytes, dict[str, str]]


class _Acks:
    """Track which messages of a batch JetStream has answered, and how."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.unanswered = set(range(total))
        self.sent = 0
        self.errors: list[str] = []
        self.done = asyncio.Event()
        self.room = asyncio.Event()

    def outstanding(self) -> int:
        """Return how many sent messages still await their reply."""
        return self.sent - (self.total - len(self.unanswered))

    async def on_reply(self, msg: Any) -> None:
        """Record one reply: a stored message, or an error (JetStream's, or no stream)."""
        index = int(msg.subject.rpartition(".")[2])
        if index not in self.unanswered:
            return
        self.unanswered.discard(index)
        data: bytes = msg.data
        if not data or b'"error"' in data:
            status = (msg.headers or {}).get("Status", "unknown")
            self.errors.append(data.decode(errors="replace") or f"status {status}")
        if not self.unanswered:
            self.done.set()
        if self.outstanding() <= WINDOW // 2:
            self.room.set()


async def publish_pipelined(
    nc: Any, stream: str, messages: Sequence[Message], ack_timeout_s: float
) -> None:
    """Publish ``messages`` to JetStream ``stream`` and wait until all are stored."""
    if not messages:
        return
    acks = _Acks(len(messages))
    inbox = nc.new_inbox()
    sub = await nc.subscribe(f"{inbox}.*", cb=acks.on_reply)
    try:
        for index, (subject, payload, headers) in enumerate(messages):
            headers["Nats-Expected-Stream"] = stream
            await nc.publish(subject, payload, reply=f"{inbox}.{index}", headers=headers)
            acks.sent = index + 1
            if acks.outstanding() >= WINDOW:
                acks.room.clear()
                await asyncio.wait_for(acks.room.wait(), ack_timeout_s)
        await asyncio.wait_for(acks.done.wait(), ack_timeout_s)
    except TimeoutError:
        pass  # whatever is still unanswered is reported below
    finally:
        await sub.unsubscribe()
    failed = len(acks.unanswered) + len(acks.errors)
    if failed:
        first = acks.errors[0] if acks.errors else "no reply in time"
        raise Unavailable(
            "bus.publish_failed",
            f"{len(messages)} 个事件中有 {failed} 个未被确认",
            f"{failed} of {len(messages)} events were not stored ({first})",
        )
