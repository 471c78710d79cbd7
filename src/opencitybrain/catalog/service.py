"""Catalogue use cases: publish, revise, withdraw, read versions, search.

Each change makes a new version (old ones stay readable) and is announced on the bus as
``city.catalog.resource.<published|revised|withdrawn>`` with the caller's Context.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from opencitybrain.accounts.model import Department, Permission, Role
from opencitybrain.accounts.service import AccountService, ensure
from opencitybrain.catalog.model import (
    SPACES,
    Change,
    Resource,
    ResourceSpec,
    Status,
    blank,
    code_of_slug,
    effective_level,
    label_zh,
    resource_code,
)
from opencitybrain.catalog.rules import validate_spec
from opencitybrain.catalog.search import SearchQuery, SearchResult, check_query
from opencitybrain.catalog.store import CatalogStore
from opencitybrain.catalog.text import weigh
from opencitybrain.kernel.bus import Bus
from opencitybrain.kernel.clock import Clock
from opencitybrain.kernel.errors import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
)
from opencitybrain.kernel.events import CloudEvent, Context
from opencitybrain.kernel.ids import new_id

SOURCE = "/catalog"
# Publishers racing for the next sequence under one classification: the loser of each
# insert sees the code taken and takes the next number.
_CODE_RETRIES = 32


def _not_found(what: str) -> NotFound:
    return NotFound("catalog.no_resource", f"资源 {what} 不存在", f"no resource {what!r}")


def index_weights(r: Resource, dept: Department) -> dict[str, float]:
    """Return the search terms of a resource version and their weights (titles weigh most)."""
    s = r.spec
    return weigh(
        [
            (s.name_zh, 5.0, True),
            (s.name_en, 5.0, False),
            (" ".join(s.tags), 3.0, True),
            (" ".join(f"{f.name_zh} {f.name.replace('_', ' ')}" for f in s.fields), 2.0, False),
            (s.abstract, 1.0, False),
            (f"{dept.name_zh} {dept.name_en}", 1.0, False),
            (f"{label_zh(s.domain)} {s.domain.value}", 1.0, False),
            (r.code.replace("/", " "), 1.0, False),
        ]
    )


class CatalogService:
    """Keep the government resource catalogue: versioned, searchable, announced."""

    def __init__(self, store: CatalogStore, accounts: AccountService, clock: Clock, bus: Bus):
        self._store = store
        self._accounts = accounts
        self._clock = clock
        self._bus = bus

    # --- changes ----------------------------------------------------------------------

    async def publish(self, ctx: Context, spec: ResourceSpec, note: str = "") -> Resource:
        """Publish a new resource for a department; its code is generated here."""
        dept = self._check_write(ctx, spec)
        now = self._clock.now()
        for _ in range(_CODE_RETRIES):
            seq = await asyncio.to_thread(self._store.next_sequence, spec.classification.code)
            resource = Resource(
                id=new_id(),
                code=resource_code(spec.classification, seq),
                version=1,
                status=Status.ACTIVE,
                spec=spec,
                level=effective_level(spec),
                published_at=now,
                updated_at=now,
                changed_by=ctx.actor,
                change=Change.PUBLISHED,
                note=note[:500],
            )
            try:
                await asyncio.to_thread(self._store.add, resource, index_weights(resource, dept))
            except Conflict:
                continue
            await self._announce(ctx, resource)
            return resource
        raise Conflict("catalog.busy", "资源代码分配冲突，请重试", "code allocation raced; retry")

    async def revise(
        self,
        ctx: Context,
        resource_id: str,
        spec: ResourceSpec,
        *,
        expected_version: int | None = None,
        note: str = "",
    ) -> Resource:
        """Replace a resource's metadata with a new version (code and provider stay)."""
        current = self.get(ctx, resource_id)
        self._check_current(current, expected_version)
        fixed = [
            FieldError(name, "cannot change on revision / 修订时不可更改")
            for name, same in (
                ("classification", spec.classification == current.spec.classification),
                ("department_id", spec.department_id == current.spec.department_id),
            )
            if not same
        ]
        if fixed:
            raise InvalidInput(
                "catalog.fixed_field",
                "资源分类和提供部门决定资源代码，不可修改；请发布新资源",
                "classification and provider make the code and cannot change; publish anew",
                tuple(fixed),
            )
        dept = self._check_write(ctx, spec)
        resource = replace(
            current,
            version=current.version + 1,
            spec=spec,
            level=effective_level(spec),
            updated_at=self._clock.now(),
            changed_by=ctx.actor,
            change=Change.REVISED,
            note=note[:500],
        )
        await asyncio.to_thread(self._store.replace, resource, index_weights(resource, dept))
        await self._announce(ctx, resource)
        return resource

    async def withdraw(
        self, ctx: Context, resource_id: str, reason: str, *, expected_version: int | None = None
    ) -> Resource:
        """Withdraw a resource from the catalogue (its versions stay readable)."""
        current = self.get(ctx, resource_id)
        self._check_current(current, expected_version)
        if blank(reason):
            raise InvalidInput(
                "catalog.no_reason",
                "撤销资源须说明理由",
                "withdrawing needs a reason",
                (FieldError("reason", "required / 必填"),),
            )
        dept = self._check_write(ctx, current.spec)
        resource = replace(
            current,
            version=current.version + 1,
            status=Status.WITHDRAWN,
            updated_at=self._clock.now(),
            changed_by=ctx.actor,
            change=Change.WITHDRAWN,
            note=reason.strip(SPACES)[:500],
        )
        await asyncio.to_thread(self._store.replace, resource, index_weights(resource, dept))
        await self._announce(ctx, resource)
        return resource

    def _check_current(self, current: Resource, expected_version: int | None) -> None:
        if current.status is Status.WITHDRAWN:
            raise Conflict("catalog.withdrawn", "资源已撤销", "the resource has been withdrawn")
        if expected_version is not None and expected_version != current.version:
            raise Conflict(
                "catalog.stale_version",
                f"资源当前版本为 {current.version}，不是 {expected_version}",
                f"the resource is at version {current.version}, not {expected_version}",
            )

    def _check_write(self, ctx: Context, spec: ResourceSpec) -> Department:
        """Check the caller may publish for the spec's department; validate the spec."""
        ensure(ctx, Permission.CATALOG_PUBLISH)
        anywhere = bool({"system", Role.BUREAU_ADMIN.value} & ctx.roles)
        if not anywhere and ctx.department != spec.department_id:
            raise Forbidden(
                "catalog.other_department",
                "只能为本部门发布或修改资源",
                "you may publish only for your own department",
            )
        # An unknown provider is a missing thing (404), as a missing parent department is
        # for accounts; it is checked before the metadata rules.
        try:
            dept = self._accounts.department(spec.department_id)
        except NotFound:
            raise NotFound(
                "catalog.no_department",
                "提供部门不存在",
                f"no department {spec.department_id[:64]!r}",
            ) from None
        validate_spec(spec)
        return dept

    async def _announce(self, ctx: Context, r: Resource) -> None:
        event = CloudEvent(
            type=f"city.catalog.resource.{r.change.value}",
            source=SOURCE,
            time=r.updated_at,
            subject=r.code,
            data={
                "id": r.id,
                "code": r.code,
                "version": r.version,
                "status": r.status.value,
                "department_id": r.department_id,
                "name_zh": r.spec.name_zh,
                "sharing_type": r.spec.sharing_type.value,
                "level": r.level.value,
            },
            context=ctx,
        )
        await self._bus.publish(event)

    # --- reads ------------------------------------------------------------------------

    def get(self, ctx: Context, resource_id: str) -> Resource:
        """Return a resource's current version by id or raise NotFound."""
        ensure(ctx, Permission.CATALOG_READ)
        found = self._store.get(resource_id)
        if found is None:
            raise _not_found(resource_id)
        return found

    def find(self, ctx: Context, ref: str) -> Resource:
        """Return a resource by id, resource code or slug, or raise NotFound."""
        ensure(ctx, Permission.CATALOG_READ)
        code = ref if "/" in ref else code_of_slug(ref)
        found = self._store.get_by_code(code) if code else None
        found = found or self._store.get(ref)
        if found is None:
            raise _not_found(ref)
        return found

    def versions(self, ctx: Context, resource_id: str) -> list[Resource]:
        """Return every version of a resource, oldest first."""
        ensure(ctx, Permission.CATALOG_READ)
        found = self._store.versions(resource_id)
        if not found:
            raise _not_found(resource_id)
        return found

    def version(self, ctx: Context, resource_id: str, version: int) -> Resource:
        """Return one version of a resource or raise NotFound."""
        ensure(ctx, Permission.CATALOG_READ)
        found = self._store.version(resource_id, version)
        if found is None:
            raise NotFound(
                "catalog.no_version",
                f"资源 {resource_id} 没有第 {version} 版",
                f"resource {resource_id!r} has no version {version}",
            )
        return found

    def search(self, ctx: Context, query: SearchQuery) -> SearchResult:
        """Search the catalogue in Chinese or English, with filters and facets."""
        ensure(ctx, Permission.CATALOG_READ)
        return self._store.search(check_query(query))

    def codes(
        self, ctx: Context, *, include_withdrawn: bool = False, limit: int = 1000, offset: int = 0
    ) -> list[str]:
        """Return resource codes in code order."""
        ensure(ctx, Permission.CATALOG_READ)
        return self._store.codes(include_withdrawn=include_withdrawn, limit=limit, offset=offset)

    def providers(self, ctx: Context) -> list[tuple[Department, int]]:
        """Return every department with the number of active resources it provides."""
        ensure(ctx, Permission.CATALOG_READ)
        counts = self._store.count_by_department()
        return [(d, counts.get(d.id, 0)) for d in self._accounts.departments()]

    def provider(self, ctx: Context, dept_id: str) -> tuple[Department, int]:
        """Return one department and its number of active resources, or raise NotFound."""
        ensure(ctx, Permission.CATALOG_READ)
        dept = self._accounts.department(dept_id)
        return dept, self._store.count_by_department().get(dept.id, 0)
