"""Loading rows into a resource: sources, reports and quarantined rows (pure types).

A load reads a source (a file, or a query on the department's own database), checks every
value against its field's data type, lands the good rows by the resource's key and puts
the bad ones in quarantine with their row number, field and reason. Its report always
reconciles: ``rows_in = inserted + updated + unchanged + quarantined``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from opencitybrain.kernel.errors import FieldError, InvalidInput

MAX_UPLOAD_BYTES = 256 * 1024 * 1024
MAX_ROWS = 5_000_000
MAX_SQL_CHARS = 20_000


class LoadFormat(StrEnum):
    """What a source is."""

    CSV = "csv"
    XLSX = "xlsx"
    JSONL = "jsonl"
    SQL = "sql"

    @classmethod
    def of_filename(cls, name: str) -> LoadFormat:
        """Return the format a file name's extension says, or raise."""
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        found = _EXTENSIONS.get(ext)
        if found is None:
            raise InvalidInput(
                "catalog.load_format",
                "无法识别文件格式（支持 .csv .xlsx .jsonl）",
                "unknown file format (.csv, .xlsx, .jsonl are taken)",
                (FieldError("format", "csv | xlsx | jsonl"),),
            )
        return found


_EXTENSIONS = {
    "csv": LoadFormat.CSV,
    "txt": LoadFormat.CSV,
    "xlsx": LoadFormat.XLSX,
    "jsonl": LoadFormat.JSONL,
    "ndjson": LoadFormat.JSONL,
    "json": LoadFormat.JSONL,
}


class LoadStatus(StrEnum):
    """Whether a load finished."""

    DONE = "done"
    FAILED = "failed"  # nothing landed: the source could not be read at all


@dataclass(frozen=True, slots=True)
class FileSource:
    """A file (its bytes, or its path on the server: read in chunks) and how to read it."""

    name: str
    data: bytes | Path
    format: LoadFormat
    sheet: str | None = None  # XLSX: a sheet name (default: the first)


@dataclass(frozen=True, slots=True)
class SqlSource:
    """A query on the department's own database (a connector)."""

    url: str  # SQLAlchemy URL; never stored or shown with its password
    query: str


Source = FileSource | SqlSource


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """How to map and key a load."""

    key: tuple[str, ...] = ()  # empty: the resource's identifier fields (else every field)
    mapping: dict[str, str] = field(default_factory=dict)  # source column → field name


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A row that did not land: where it was, which field failed, why, and the row itself."""

    row: int  # 1 = the first data row (after the header)
    field: str  # "" when the whole row is bad (e.g. a wrong number of columns)
    reason: str
    raw: dict[str, str | None]


@dataclass(frozen=True, slots=True)
class LoadReport:
    """The outcome of one load, kept in the store."""

    id: str
    resource_id: str
    department_id: str
    actor: str
    format: LoadFormat
    source: str  # a file name, or a connector URL without its password
    key: tuple[str, ...]
    status: LoadStatus
    rows_in: int
    inserted: int
    updated: int
    unchanged: int
    quarantined: int
    started_at: datetime
    finished_at: datetime
    missing_fields: tuple[str, ...] = ()  # fields the source had no column for (left null)
    ignored_columns: tuple[str, ...] = ()  # source columns that name no field
    encoding: str = ""  # CSV: utf-8 or gb18030
    error: str = ""  # FAILED: why

    @property
    def landed(self) -> int:
        """Return the rows that landed (new, changed or already there unchanged)."""
        return self.inserted + self.updated + self.unchanged

    def summary(self) -> str:
        """Return the report in one line, Chinese first."""
        return (
            f"读入 {self.rows_in} 行，入库 {self.landed} 行（新增 {self.inserted}，更新 "
            f"{self.updated}，未变 {self.unchanged}），隔离 {self.quarantined} 行 / "
            f"{self.rows_in} rows in, {self.landed} landed ({self.inserted} inserted, "
            f"{self.updated} updated, {self.unchanged} unchanged), "
            f"{self.quarantined} quarantined"
        )
