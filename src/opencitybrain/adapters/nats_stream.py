"""JetStream streams for partitioned work: positions in, alert changes out.

The points stream holds one subject per partition (``<prefix>.<p>``); each partition has a
durable pull consumer with ``AckPolicy.ALL``, so a worker acknowledges a whole batch by
its last sequence after it committed the batch's state and alerts, and a worker that
dies leaves everything after its last ack to be redelivered to the next one. Alert
changes go to their own stream with ``Nats-Msg-Id`` set to the change's id, so a change
published again after a crash (within the duplicate window) is dropped by the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec
import nats
from nats.errors import TimeoutError as NatsTimeout
from nats.js import api
from nats.js.errors import NotFoundError

__all__ = [
    "AlertStream",
    "JetStreamConnection",
    "PartitionConsumer",
    "StreamItem",
    "ensure_stream",
]

log = logging.getLogger(__name__)
_WINDOW = 512  # alert publishes in flight at once


class _Identified(Protocol):
    id: str


@dataclass(frozen=True, slots=True)
class StreamItem:
    """A fetched message: its stream sequence and payload."""

    seq: int
    data: bytes


class JetStreamConnection:
    """One NATS connection with its JetStream context."""

    def __init__(self, nc: Any) -> None:
        self.nc = nc
        self.js = nc.jetstream()

    @classmethod
    async def open(cls, url: str) -> JetStreamConnection:
        """Connect (a few quick retries: the server may be starting)."""
        nc = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=3)
        return cls(nc)

    async def close(self) -> None:
        """Flush and close the connection (pending pull requests are abandoned)."""
        with contextlib.suppress(Exception):
            await self.nc.flush(timeout=2)
        with contextlib.suppress(Exception):
            await self.nc.close()

    async def publish(self, subject: str, payload: bytes, msg_id: str | None = None) -> bool:
        """Publish to a stream and wait for its ack; return False if it was a duplicate."""
        headers = {"Nats-Msg-Id": msg_id} if msg_id else None
        ack = await self.js.publish(subject, payload, headers=headers)
        return not bool(ack.duplicate)


async def ensure_stream(
    conn: JetStreamConnection,
    name: str,
    subjects: list[str],
    *,
    duplicate_window_s: float = 600.0,
    max_age_s: float = 24 * 3600.0,
) -> None:
    """Create the stream if it does not exist (file storage, limits retention)."""
    try:
        await conn.js.stream_info(name)
    except NotFoundError:
        await conn.js.add_stream(
            api.StreamConfig(
                name=name,
                subjects=subjects,
                storage=api.StorageType.FILE,
                retention=api.RetentionPolicy.LIMITS,
                duplicate_window=duplicate_window_s,
                max_age=max_age_s,
            )
        )


class PartitionConsumer:
    """A partition's durable pull consumer (ack-all: the last ack covers the batch)."""

    def __init__(self, conn: JetStreamConnection, psub: Any) -> None:
        self._conn = conn
        self._psub = psub
        self._pending: dict[int, Any] = {}

    @classmethod
    async def bind(
        cls,
        conn: JetStreamConnection,
        stream: str,
        subject: str,
        durable: str,
        *,
        ack_wait_s: float = 30.0,
        max_ack_pending: int = 200_000,
    ) -> PartitionConsumer:
        """Create or bind the durable consumer of one partition's subject."""
        config = api.ConsumerConfig(
            durable_name=durable,
            filter_subject=subject,
            ack_policy=api.AckPolicy.ALL,
            deliver_policy=api.DeliverPolicy.ALL,
            ack_wait=ack_wait_s,
            max_ack_pending=max_ack_pending,
        )
        psub = await conn.js.pull_subscribe(subject, durable=durable, stream=stream, config=config)
        return cls(conn, psub)

    async def fetch(self, max_messages: int, timeout_s: float) -> Sequence[StreamItem]:
        """Return up to ``max_messages`` (fewer, or none, after ``timeout_s``)."""
        try:
            msgs = await self._psub.fetch(max_messages, timeout=timeout_s)
        except (NatsTimeout, TimeoutError):  # nats-py raises either when nothing came
            return []
        out = []
        for m in msgs:
            seq = int(m.metadata.sequence.stream)
            self._pending[seq] = m
            out.append(StreamItem(seq, m.data))
        return out

    async def ack_through(self, seq: int) -> None:
        """Acknowledge every delivered message up to ``seq`` (waits for the server)."""
        msg = self._pending.get(seq)
        if msg is None:
            return
        await msg.ack_sync()
        for s in [s for s in self._pending if s <= seq]:
            del self._pending[s]


class AlertStream:
    """Publish alert changes to a stream, deduplicated by the server on the change's id."""

    def __init__(self, conn: JetStreamConnection, subject_prefix: str) -> None:
        self._conn = conn
        self._prefix = subject_prefix
        self.published = 0
        self.duplicates = 0

    async def publish(self, opened: Sequence[_Identified], closed: Sequence[_Identified]) -> None:
        """Publish ``<prefix>.opened`` / ``.closed`` with ids ``<alert id>:opened|closed``.

        Publishes are pipelined (up to ``_WINDOW`` awaiting their acks at once), openings
        before closings; every ack is in before this returns, so the caller may checkpoint.
        """
        for kind, alerts in (("opened", opened), ("closed", closed)):  # opens land first
            subject = f"{self._prefix}.{kind}"
            for i in range(0, len(alerts), _WINDOW):
                window = alerts[i : i + _WINDOW]
                fresh = await asyncio.gather(
                    *(
                        self._conn.publish(subject, msgspec.json.encode(a), f"{a.id}:{kind}")
                        for a in window
                    )
                )
                new = sum(fresh)
                self.published += new
                self.duplicates += len(fresh) - new
