"""The catalogue store: its port and the SQL implementation (SQLite and PostgreSQL).

A resource's current version lives in ``catalog_resources`` and every version, the
current one included, in ``catalog_versions``; both change in one transaction, together
with the resource's tags and search terms. Writes carry the version they replace, so two
concurrent revisions cannot both win.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import sqlalchemy as sa

from opencitybrain.catalog.codec import resource_doc, resource_from_doc
from opencitybrain.catalog.model import Resource
from opencitybrain.catalog.search import SearchQuery, SearchResult
from opencitybrain.catalog.store_search import run_search
from opencitybrain.catalog.tables import CURRENT, resources, tags, terms, versions
from opencitybrain.kernel.errors import Conflict

# Rows per INSERT of search terms: well under SQLite's and psycopg's parameter limits.
_CHUNK = 2000


class CatalogStore(Protocol):
    """Persist resources, their versions, tags and search terms."""

    def next_sequence(self, class_code: str) -> int:
        """Return the next free sequence number under a classification code."""
        ...

    def add(self, resource: Resource, weights: Mapping[str, float]) -> None:
        """Insert a new resource (version 1); raise Conflict if its code is taken."""
        ...

    def add_many(self, items: Sequence[tuple[Resource, Mapping[str, float]]]) -> None:
        """Insert new resources in one transaction (bulk loads); all or none."""
        ...

    def replace(self, resource: Resource, weights: Mapping[str, float]) -> None:
        """Store a new version; raise Conflict unless it follows the current one."""
        ...

    def get(self, resource_id: str) -> Resource | None:
        """Return a resource's current version by id, or None."""
        ...

    def get_by_code(self, code: str) -> Resource | None:
        """Return a resource's current version by resource code, or None."""
        ...

    def versions(self, resource_id: str) -> list[Resource]:
        """Return every version of a resource, oldest first."""
        ...

    def version(self, resource_id: str, version: int) -> Resource | None:
        """Return one version of a resource, or None."""
        ...

    def codes(self, *, include_withdrawn: bool, limit: int, offset: int) -> list[str]:
        """Return resource codes in code order."""
        ...

    def count_by_department(self) -> dict[str, int]:
        """Return how many active resources each department provides."""
        ...

    def search(self, query: SearchQuery) -> SearchResult:
        """Answer a search with its facets."""
        ...


def _row(r: Resource) -> dict[str, Any]:
    return {
        "id": r.id,
        "code": r.code,
        "class_code": r.spec.classification.code,
        "sequence": int(r.code.rsplit("/", 1)[1]),
        "version": r.version,
        "status": r.status.value,
        "department_id": r.spec.department_id,
        "domain": r.spec.domain.value,
        "sharing_type": r.spec.sharing_type.value,
        "open_type": r.spec.open_type.value,
        "level": r.level.value,
        "name_zh": r.spec.name_zh,
        "published_at": r.published_at,
        "updated_at": r.updated_at,
    }


class SqlCatalogStore:
    """Keep the catalogue in the platform's SQL database."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def next_sequence(self, class_code: str) -> int:
        """Return the next free sequence number under a classification code."""
        stmt = sa.select(sa.func.max(resources.c.sequence)).where(
            resources.c.class_code == class_code
        )
        with self._engine.connect() as conn:
            top = conn.execute(stmt).scalar()
        return int(top or 0) + 1

    def add(self, resource: Resource, weights: Mapping[str, float]) -> None:
        """Insert a new resource (version 1); raise Conflict if its code is taken."""
        self.add_many([(resource, weights)])

    def add_many(self, items: Sequence[tuple[Resource, Mapping[str, float]]]) -> None:
        """Insert new resources in one transaction (bulk loads); all or none."""
        try:
            with self._engine.begin() as conn:
                for resource, weights in items:
                    doc = resource_doc(resource)
                    conn.execute(resources.insert().values(_row(resource)))
                    self._version(conn, resource, doc)
                    self._index(conn, resource, weights)
        except sa.exc.IntegrityError as exc:
            codes = ", ".join(r.code for r, _ in items[:3]) + ("…" if len(items) > 3 else "")
            raise Conflict(
                "catalog.code_taken",
                f"资源代码已被使用：{codes}",
                f"a resource code is taken: {codes}",
            ) from exc

    def replace(self, resource: Resource, weights: Mapping[str, float]) -> None:
        """Store a new version; raise Conflict unless it follows the current one."""
        doc = resource_doc(resource)
        with self._engine.begin() as conn:
            res = conn.execute(
                resources.update()
                .where(resources.c.id == resource.id, resources.c.version == resource.version - 1)
                .values(_row(resource))
            )
            if res.rowcount != 1:
                raise Conflict(
                    "catalog.stale_version",
                    "资源已被他人修改，请刷新后重试",
                    "the resource changed meanwhile; reload and retry",
                )
            self._version(conn, resource, doc)
            conn.execute(tags.delete().where(tags.c.resource_id == resource.id))
            conn.execute(terms.delete().where(terms.c.resource_id == resource.id))
            self._index(conn, resource, weights)

    @staticmethod
    def _version(conn: sa.Connection, r: Resource, doc: dict[str, Any]) -> None:
        conn.execute(
            versions.insert().values(
                resource_id=r.id,
                version=r.version,
                change=r.change.value,
                changed_at=r.updated_at,
                changed_by=r.changed_by,
                doc=doc,
            )
        )

    @staticmethod
    def _index(conn: sa.Connection, r: Resource, weights: Mapping[str, float]) -> None:
        if r.spec.tags:
            conn.execute(
                tags.insert(), [{"resource_id": r.id, "tag": t} for t in dict.fromkeys(r.spec.tags)]
            )
        rows = [{"term": t, "resource_id": r.id, "weight": w} for t, w in weights.items()]
        for i in range(0, len(rows), _CHUNK):
            conn.execute(terms.insert(), rows[i : i + _CHUNK])

    def get(self, resource_id: str) -> Resource | None:
        """Return a resource's current version by id, or None."""
        return self._one(
            sa.select(versions.c.doc).select_from(CURRENT).where(resources.c.id == resource_id)
        )

    def get_by_code(self, code: str) -> Resource | None:
        """Return a resource's current version by resource code, or None."""
        return self._one(
            sa.select(versions.c.doc).select_from(CURRENT).where(resources.c.code == code)
        )

    def _one(self, stmt: sa.Select[Any]) -> Resource | None:
        with self._engine.connect() as conn:
            doc = conn.execute(stmt).scalar()
        return resource_from_doc(doc) if doc is not None else None

    def versions(self, resource_id: str) -> list[Resource]:
        """Return every version of a resource, oldest first."""
        stmt = (
            sa.select(versions.c.doc)
            .where(versions.c.resource_id == resource_id)
            .order_by(versions.c.version)
        )
        with self._engine.connect() as conn:
            return [resource_from_doc(d) for d in conn.execute(stmt).scalars()]

    def version(self, resource_id: str, version: int) -> Resource | None:
        """Return one version of a resource, or None."""
        return self._one(
            sa.select(versions.c.doc).where(
                versions.c.resource_id == resource_id, versions.c.version == version
            )
        )

    def codes(self, *, include_withdrawn: bool, limit: int, offset: int) -> list[str]:
        """Return resource codes in code order."""
        stmt = sa.select(resources.c.code).order_by(resources.c.code).limit(limit).offset(offset)
        if not include_withdrawn:
            stmt = stmt.where(resources.c.status == "active")
        with self._engine.connect() as conn:
            return [str(c) for c in conn.execute(stmt).scalars()]

    def count_by_department(self) -> dict[str, int]:
        """Return how many active resources each department provides."""
        stmt = (
            sa.select(resources.c.department_id, sa.func.count())
            .where(resources.c.status == "active")
            .group_by(resources.c.department_id)
        )
        with self._engine.connect() as conn:
            return {str(d): int(n) for d, n in conn.execute(stmt)}

    def search(self, query: SearchQuery) -> SearchResult:
        """Answer a search with its facets."""
        # One transaction: on PostgreSQL (read committed) each statement still sees its
        # own snapshot, but never a half-written resource, since writes are atomic.
        with self._engine.connect() as conn:
            return run_search(conn, query)
