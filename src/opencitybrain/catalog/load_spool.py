"""A load's quarantined rows, kept on disk past a few MiB until the report is stored.

A file of a million bad rows must not be a million dicts in memory: each chunk's
quarantined rows are written here as JSON lines (in row order, since chunks come in file
order and each chunk's rows are sorted) and read back one by one when the report and its
quarantine are stored in one transaction.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator

from opencitybrain.catalog.load_model import Quarantined

_IN_MEMORY = 4 << 20


class QuarantineSpool:
    """Quarantined rows written as they come, read back in the same order."""

    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY, mode="w+b")  # noqa: SIM115
        self.count = 0

    def extend(self, rows: Iterable[Quarantined]) -> None:
        """Add quarantined rows (in row order, after those already added)."""
        for q in rows:
            line = json.dumps([q.row, q.field, q.reason, q.raw], ensure_ascii=False)
            self._file.write(line.encode("utf-8") + b"\n")
            self.count += 1

    def __iter__(self) -> Iterator[Quarantined]:
        """Yield the rows in the order they were added."""
        self._file.seek(0)
        for line in self._file:
            row, field, reason, raw = json.loads(line)
            yield Quarantined(int(row), str(field), str(reason), dict(raw))
        self._file.seek(0, 2)

    def __len__(self) -> int:
        """Return how many rows were added."""
        return self.count

    def close(self) -> None:
        """Drop the rows."""
        self._file.close()
