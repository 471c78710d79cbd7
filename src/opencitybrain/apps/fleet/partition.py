"""Partitioning the position stream by vehicle, and the ports a partition worker uses.

A vehicle's points always go to the same partition (CRC-32 of the device id modulo the
partition count), so one worker holds all of a vehicle's state and its alerts are
computed by exactly one process. The transport (NATS JetStream) lives in
``adapters/nats_stream.py``; this module names what the worker needs from it.
"""

from __future__ import annotations

import os
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import msgspec

from opencitybrain.apps.fleet.alerts import Alert

__all__ = [
    "AlertSink",
    "Checkpoint",
    "CheckpointStore",
    "FileCheckpoints",
    "PointSource",
    "StreamMessage",
    "partition_lines",
    "partition_of",
    "points_subject",
]

SUBJECT_PREFIX = "city.fleet.points"


def partition_of(device_id: str, partitions: int) -> int:
    """Return the partition of a device: stable across processes and restarts."""
    return zlib.crc32(device_id.encode()) % partitions


def points_subject(partition: int, prefix: str = SUBJECT_PREFIX) -> str:
    """Return the stream subject of a partition, e.g. ``city.fleet.points.3``."""
    return f"{prefix}.{partition}"


def partition_lines(messages: Iterable[dict[str, Any]], partitions: int) -> dict[int, bytes]:
    """Split position messages by partition into JSON-lines payloads (one per partition).

    A message without a string ``device_id`` goes to partition 0, where the worker's
    validation quarantines it with its reason.
    """
    lines: dict[int, list[bytes]] = defaultdict(list)
    encode = msgspec.json.encode
    for m in messages:
        device = m.get("device_id")
        p = partition_of(device, partitions) if isinstance(device, str) else 0
        lines[p].append(encode(m))
    return {p: b"\n".join(rows) for p, rows in lines.items()}


class StreamMessage(Protocol):
    """One message of a partition: its stream sequence and JSON-lines positions."""

    @property
    def seq(self) -> int:
        """Return the message's stream sequence."""
        ...

    @property
    def data(self) -> bytes:
        """Return the payload."""
        ...


class PointSource(Protocol):
    """A partition's durable consumer: messages after the last ack, redelivered if unacked."""

    async def fetch(self, max_messages: int, timeout_s: float) -> Sequence[StreamMessage]:
        """Return the next messages (none after ``timeout_s``)."""
        ...

    async def ack_through(self, seq: int) -> None:
        """Acknowledge every message up to and including ``seq``."""
        ...


class AlertSink(Protocol):
    """Where alert changes go; must drop a change it already holds (same id, same kind)."""

    async def publish(self, opened: Sequence[Alert], closed: Sequence[Alert]) -> None:
        """Publish alert changes (idempotent per alert id and change)."""
        ...


class Checkpoint(msgspec.Struct, frozen=True):
    """A partition's committed progress: last stream sequence, event-time watermark, state."""

    seq: int = 0
    watermark: float = 0.0
    state: bytes | None = None


class CheckpointStore(Protocol):
    """Durable per-partition checkpoints."""

    def load(self, partition: int) -> Checkpoint:
        """Return the partition's checkpoint (an empty one if none)."""
        ...

    def save(self, partition: int, checkpoint: Checkpoint) -> None:
        """Store the checkpoint durably before returning."""
        ...


class FileCheckpoints:
    """Checkpoints as msgpack files, written atomically (temp file, fsync, rename)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def _path(self, partition: int) -> Path:
        return self.folder / f"partition-{partition}.ckpt"

    def load(self, partition: int) -> Checkpoint:
        """Return the partition's checkpoint (an empty one if none)."""
        path = self._path(partition)
        if not path.is_file():
            return Checkpoint()
        return msgspec.msgpack.decode(path.read_bytes(), type=Checkpoint)

    def save(self, partition: int, checkpoint: Checkpoint) -> None:
        """Store the checkpoint: a crash leaves the old or the new file, never half."""
        path = self._path(partition)
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            f.write(msgspec.msgpack.encode(checkpoint))
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
