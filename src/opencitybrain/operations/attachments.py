"""Files attached to case steps: photos, scans, short videos and voice recordings.

A file is uploaded first (``POST /api/v1/operations/attachments``), checked and stored,
and its reference (``att-`` + 32 hex digits) is then named in a report's or an action's
``attachments``. The type is read from the file's first bytes (magic numbers), never from
its name or the type the client declares: a renamed executable is refused whatever it is
called. A step that names an ``att-`` reference must match what was stored (type and
size); references of another form (an Open311 ``media_url``, a source's own store) are
kept as they are, as before uploads existed.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from opencitybrain.kernel.clock import Clock
from opencitybrain.kernel.errors import (
    CityBrainError,
    ErrorKind,
    FieldError,
    InvalidInput,
    NotFound,
)
from opencitybrain.kernel.events import Context
from opencitybrain.operations.model import Attachment

MAX_BYTES = 20 * 1024 * 1024
REF_PREFIX = "att-"
REF_RE = re.compile(r"^att-[0-9a-f]{32}$")
MEDIA_TYPES = (
    "image/jpeg", "image/png", "image/webp", "image/heic", "application/pdf", "video/mp4",
    "audio/mpeg", "audio/amr", "audio/wav",
)  # fmt: skip
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"mif1", b"msf1"}


def sniff(head: bytes) -> str | None:
    """Return the media type the first bytes of a file show, or None if not one we take."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"#!AMR"):
        return "audio/amr"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp":
        return "image/heic" if head[8:12] in _HEIC_BRANDS else "video/mp4"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    return None


@dataclass(frozen=True, slots=True)
class StoredFile:
    """What is kept beside an uploaded file."""

    ref: str
    media_type: str
    size: int
    name: str | None
    sha256: str
    uploaded_by: str
    uploaded_at: datetime

    def attachment(self) -> Attachment:
        """Return the reference a step carries."""
        return Attachment(self.ref, self.media_type, self.size, self.name)


class FileStore(Protocol):
    """Where uploaded files live (the local disk under data_dir by default)."""

    def put(self, meta: StoredFile, data: bytes) -> None:
        """Store a file and what is known about it."""

    def meta(self, ref: str) -> StoredFile | None:
        """Return what is known about a stored file, or None."""

    def read(self, ref: str) -> bytes:
        """Return a stored file's bytes."""


def too_large(size: int | None = None) -> CityBrainError:
    """Return the error for a file over the limit."""
    got = f"（{size} 字节）" if size is not None else ""
    got_en = f" ({size} bytes)" if size is not None else ""
    return CityBrainError(
        "attachment.too_large",
        f"附件过大{got}，最大 {MAX_BYTES // (1024 * 1024)} MB",
        f"the attachment is too large{got_en}; at most {MAX_BYTES // (1024 * 1024)} MB",
        ErrorKind.TOO_LARGE,
        (FieldError("file", f"at most {MAX_BYTES} bytes"),),
    )


def clean_name(name: str | None) -> str | None:
    """Return a file name safe to show and to send back (no path, no control characters)."""
    if not name:
        return None
    base = re.split(r"[\\/]", name)[-1]
    kept = "".join(ch for ch in base if ch.isprintable()).strip()
    return kept[:200] or None


class AttachmentDesk:
    """Take uploads in (checked), hand them back, and check the references steps carry."""

    def __init__(self, store: FileStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def upload(self, ctx: Context, data: bytes, name: str | None) -> StoredFile:
        """Check and store an uploaded file; return its record."""
        if len(data) > MAX_BYTES:
            raise too_large(len(data))
        if not data:
            raise InvalidInput(
                "attachment.empty", "附件为空", "the attachment is empty",
                (FieldError("file", "at least one byte"),),
            )  # fmt: skip
        media_type = sniff(data[:32])
        if media_type is None:
            raise CityBrainError(
                "attachment.bad_type",
                "不支持的附件类型（按文件内容判断）；可上传 JPEG、PNG、WebP、HEIC 图片，PDF，"
                "MP4 视频，MP3、AMR、WAV 录音",
                "unsupported attachment type (judged by the file's content); allowed: "
                + ", ".join(MEDIA_TYPES),
                ErrorKind.UNSUPPORTED_MEDIA,
                (FieldError("file", "one of " + ", ".join(MEDIA_TYPES)),),
            )
        meta = StoredFile(
            REF_PREFIX + uuid.uuid4().hex, media_type, len(data),
            clean_name(name), hashlib.sha256(data).hexdigest(), ctx.actor, self.clock.now(),
        )  # fmt: skip
        self.store.put(meta, data)
        return meta

    def get(self, ref: str) -> tuple[StoredFile, bytes]:
        """Return a stored file and its bytes, or raise NotFound."""
        meta = self.store.meta(ref) if REF_RE.match(ref) else None
        if meta is None:
            raise NotFound(
                "attachment.not_found", f"附件 {ref} 不存在", f"attachment {ref} not found"
            )
        return meta, self.store.read(ref)

    def check(self, attachments: tuple[Attachment, ...]) -> tuple[Attachment, ...]:
        """Refuse an uploaded reference that was never stored or does not match its file."""
        for i, att in enumerate(attachments):
            if not att.ref.startswith(REF_PREFIX):
                continue
            meta = self.store.meta(att.ref) if REF_RE.match(att.ref) else None
            if meta is None or (meta.media_type, meta.size) != (att.media_type, att.size):
                raise InvalidInput(
                    "attachment.unknown_ref",
                    f"附件 {att.ref} 未上传或与上传的文件不符",
                    f"attachment {att.ref} was not uploaded or does not match the uploaded file",
                    (FieldError(f"attachments[{i}]", "a ref, media_type and size as uploaded"),),
                )
        return attachments
