"""Uploaded attachments on the local disk: ``<root>/<ab>/<ref>`` and a JSON record beside it.

The file's name on disk is its reference (random, never the uploader's name), so nothing
a client sends becomes a path. Writes go to a temporary name and are renamed into place,
so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from opencitybrain.operations.attachments import REF_RE, StoredFile


class LocalFileStore:
    """Attachments under a folder (``data_dir/attachments`` in the platform)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, ref: str) -> Path:
        if not REF_RE.match(ref):
            raise ValueError(f"not an attachment reference: {ref!r}")
        return self.root / ref[4:6] / ref

    def put(self, meta: StoredFile, data: bytes) -> None:
        """Write the file, then its record (both atomically)."""
        path = self._path(meta.ref)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "ref": meta.ref, "media_type": meta.media_type, "size": meta.size, "name": meta.name,
            "sha256": meta.sha256, "uploaded_by": meta.uploaded_by,
            "uploaded_at": meta.uploaded_at.isoformat(),
        }  # fmt: skip
        for target, content in ((path, data), (path.with_suffix(".json"), _dump(record))):
            tmp = target.with_name(target.name + ".tmp")
            tmp.write_bytes(content)
            os.replace(tmp, target)

    def meta(self, ref: str) -> StoredFile | None:
        """Return the record of a stored file, or None."""
        try:
            doc = json.loads(self._path(ref).with_suffix(".json").read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        return StoredFile(
            doc["ref"], doc["media_type"], int(doc["size"]), doc.get("name"), doc["sha256"],
            doc["uploaded_by"], datetime.fromisoformat(doc["uploaded_at"]),
        )  # fmt: skip

    def read(self, ref: str) -> bytes:
        """Return a stored file's bytes."""
        return self._path(ref).read_bytes()


def _dump(record: dict[str, object]) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode()
