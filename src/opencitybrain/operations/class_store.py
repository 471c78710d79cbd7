"""The class table's store: versioned rows and an audit trail of every change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa

from opencitybrain.kernel.errors import Conflict
from opencitybrain.operations.classes import CaseClass, class_from_dict
from opencitybrain.operations.tables import class_audit, classes


@dataclass(frozen=True, slots=True)
class StoredClass:
    """A class with its version and who changed it last."""

    case_class: CaseClass
    version: int
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True, slots=True)
class ClassChange:
    """One audited change of a class."""

    code: str
    version: int
    change: str  # created | updated | deactivated
    doc: dict[str, Any] | None
    actor: str
    at: datetime


class ClassStore(Protocol):
    """Persist the class table, versioned and audited."""

    def all(self) -> list[StoredClass]:
        """Return every class, ordered by code."""
        ...

    def get(self, code: str) -> StoredClass | None:
        """Return one class or None."""
        ...

    def put(
        self, case_class: CaseClass, actor: str, at: datetime, expected_version: int | None
    ) -> StoredClass:
        """Create (expected None) or replace (expected = stored version) a class, audited."""
        ...

    def seed(self, rows: Sequence[CaseClass], actor: str, at: datetime) -> int:
        """Insert the classes that are missing; return how many were added."""
        ...

    def history(self, code: str) -> list[ClassChange]:
        """Return the audited changes of a class, oldest first."""
        ...


def _stored(r: sa.Row[Any]) -> StoredClass:
    return StoredClass(class_from_dict(dict(r.doc)), r.version, r.updated_at, r.updated_by)


class SqlClassStore:
    """Keep the class table in the platform's SQL database."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def all(self) -> list[StoredClass]:
        """Return every class, ordered by code."""
        with self._engine.connect() as conn:
            return [_stored(r) for r in conn.execute(classes.select().order_by(classes.c.code))]

    def get(self, code: str) -> StoredClass | None:
        """Return one class or None."""
        with self._engine.connect() as conn:
            row = conn.execute(classes.select().where(classes.c.code == code)).first()
        return _stored(row) if row else None

    def put(
        self, case_class: CaseClass, actor: str, at: datetime, expected_version: int | None
    ) -> StoredClass:
        """Create (expected None) or replace (expected = stored version) a class, audited."""
        doc = case_class.to_dict()
        values = {"doc": doc, "updated_at": at, "updated_by": actor}
        try:
            with self._engine.begin() as conn:
                if expected_version is None:
                    version, change = 1, "created"
                    conn.execute(classes.insert().values(code=case_class.code, version=1, **values))
                else:
                    version = expected_version + 1
                    change = "updated" if case_class.active else "deactivated"
                    res = conn.execute(
                        classes.update()
                        .where(classes.c.code == case_class.code)
                        .where(classes.c.version == expected_version)
                        .values(version=version, **values)
                    )
                    if res.rowcount != 1:
                        raise _stale(case_class.code)
                conn.execute(
                    class_audit.insert().values(
                        code=case_class.code,
                        version=version,
                        change=change,
                        doc=doc,
                        actor=actor,
                        at=at,
                    )
                )
        except sa.exc.IntegrityError as exc:
            raise Conflict(
                "classes.exists",
                f"分类 {case_class.code} 已存在",
                f"class {case_class.code} exists",
            ) from exc
        return StoredClass(case_class, version, at, actor)

    def seed(self, rows: Sequence[CaseClass], actor: str, at: datetime) -> int:
        """Insert the classes that are missing; return how many were added."""
        have = {s.case_class.code for s in self.all()}
        added = 0
        for row in rows:
            if row.code not in have:
                try:
                    self.put(row, actor, at, None)
                except Conflict as exc:  # another worker seeded it a moment ago
                    if exc.code != "classes.exists":
                        raise
                    continue
                added += 1
        return added

    def history(self, code: str) -> list[ClassChange]:
        """Return the audited changes of a class, oldest first."""
        stmt = class_audit.select().where(class_audit.c.code == code).order_by(class_audit.c.id)
        with self._engine.connect() as conn:
            return [
                ClassChange(r.code, r.version, r.change, r.doc, r.actor, r.at)
                for r in conn.execute(stmt)
            ]


def _stale(code: str) -> Conflict:
    return Conflict(
        "classes.changed",
        f"分类 {code} 已被他人修改（或不存在），请刷新后重试",
        f"class {code} was changed by someone else (or does not exist); reload and retry",
    )
