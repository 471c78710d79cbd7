"""Open data release use cases: a provider releases an extract; anyone reads releases.

The provider department (``sharing:decide``; the bureau too) names a resource, a mode and
its parameters. Rows come from the resource's Parquet snapshot (``ResourceRows.parquet``),
read with pyarrow, only the columns the release needs. The protected table is written as
Parquet, its metadata stored, the release audited on the sharing chain (``released``) and
announced as ``city.sharing.release.published``. A release refused as bad input (unknown
field, k < 2, a QI that is an identifier, epsilon out of range …) is audited too
(``release_refused``), like every refused sharing request.

Only a resource the catalogue states as open may be released: 不予开放 (``closed``) is
refused (403 ``release.not_open``); 有条件开放 (``conditional``) records the resource's open
condition with the release, and the catalogue shows it beside the release.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pyarrow.parquet as pq

from opencitybrain.accounts.model import Permission
from opencitybrain.accounts.service import ensure
from opencitybrain.catalog.model import OpenType, Resource
from opencitybrain.catalog.rows import ResourceRows
from opencitybrain.catalog.service import CatalogService
from opencitybrain.kernel.bus import Bus
from opencitybrain.kernel.clock import Clock
from opencitybrain.kernel.errors import Forbidden, InvalidInput, NotFound
from opencitybrain.kernel.events import CloudEvent, Context
from opencitybrain.kernel.ids import new_id
from opencitybrain.sharing.audit import AuditEntry, AuditKind
from opencitybrain.sharing.release_dp import release_dp
from opencitybrain.sharing.release_kanon import anonymise
from opencitybrain.sharing.release_model import (
    TITLE_MAX,
    DpSpec,
    KAnonSpec,
    Release,
    ReleaseMode,
    ReleaseSpec,
    bad,
    check_dp,
    check_kanon,
)
from opencitybrain.sharing.release_store import ReleaseFiles, ReleaseStore
from opencitybrain.sharing.service import is_bureau
from opencitybrain.sharing.trail import AuditTrail

MAX_ROWS_PAGE = 1_000
MAX_LIST = 200
SOURCE = "/sharing/releases"


def _not_found(release_id: str) -> NotFound:
    return NotFound("release.not_found", "开放数据集不存在", f"no release {release_id[:64]!r}")


def kanon_params(s: KAnonSpec) -> dict[str, object]:
    """Return the stated k-anonymity parameters as stored and shown."""
    return {
        "qi": list(s.qi),
        "k": s.k,
        "max_suppression": s.max_suppression,
        "fields": list(s.fields),
    }


def dp_params(s: DpSpec) -> dict[str, object]:
    """Return the stated DP parameters as stored and shown."""
    return {
        "epsilon": s.epsilon,
        "group_by": s.group_by,
        "value_field": s.value_field,
        "lower": s.lower,
        "upper": s.upper,
        "categories": list(s.categories) if s.categories is not None else None,
        "mechanism": "laplace",
        "split": "epsilon split evenly over the queries",
    }


class ReleaseService:
    """Make and read open data releases."""

    def __init__(
        self,
        catalog: CatalogService,
        rows: ResourceRows,
        store: ReleaseStore,
        files: ReleaseFiles,
        trail: AuditTrail,
        clock: Clock,
        bus: Bus,
    ) -> None:
        self.catalog = catalog
        self.rows = rows
        self.store = store
        self.files = files
        self.trail = trail
        self.clock = clock
        self.bus = bus

    async def release(self, ctx: Context, spec: ReleaseSpec) -> Release:
        """Protect and publish an extract of the caller's department's resource."""
        ensure(ctx, Permission.SHARING_DECIDE)
        try:
            r = await asyncio.to_thread(self._release, ctx, spec)
        except (InvalidInput, NotFound, Forbidden) as exc:
            fields = spec.kanon.qi + spec.kanon.fields if spec.kanon else ()
            self.trail.record(
                AuditEntry(
                    AuditKind.RELEASE_REFUSED,
                    ctx,
                    self.clock.now(),
                    spec.resource_id[:64],
                    fields[:50],
                    detail={"code": exc.code, "mode": spec.mode.value},
                )
            )
            raise
        data = {
            "id": r.id,
            "resource_id": r.resource_id,
            "mode": r.mode.value,
            "row_count": r.row_count,
            "params": r.params,
        }
        event = CloudEvent(
            type="city.sharing.release.published",
            source=SOURCE,
            time=r.created_at,
            subject=r.id,
            data=data,
            context=ctx,
        )
        await self.bus.publish(event)
        return r

    def _resource(self, ctx: Context, resource_id: str) -> Resource:
        resource = self.catalog.get(Context.system("open release"), resource_id)
        if not is_bureau(ctx) and ctx.department != resource.department_id:
            raise Forbidden(
                "release.not_provider",
                "只有提供部门可开放其资源",
                "only the providing department releases its resource",
            )
        return resource

    @staticmethod
    def _openable(resource: Resource) -> dict[str, object]:
        """Return what the resource's open type adds to a release; refuse 不予开放."""
        s = resource.spec
        if s.open_type is OpenType.CLOSED:
            raise Forbidden(
                "release.not_open",
                f"资源「{s.name_zh}」的开放属性为不予开放，不得开放其数据",
                f"resource {resource.code} is not open (open type: closed / 不予开放): "
                "no extract of it may be released",
            )
        extra: dict[str, object] = {"open_type": s.open_type.value}
        if s.open_type is OpenType.CONDITIONAL:
            extra["open_condition"] = s.open_condition
        return extra

    def _release(self, ctx: Context, spec: ReleaseSpec) -> Release:
        if not spec.title.strip() or len(spec.title) > TITLE_MAX:
            raise bad(
                "bad_title",
                "须填写标题（≤200 字）",
                "a title (≤ 200 characters) is needed",
                "title",
                "1–200 characters",
            )
        resource = self._resource(ctx, spec.resource_id)
        extra = self._openable(resource)
        if spec.mode is ReleaseMode.K_ANONYMITY:
            if spec.kanon is None:
                raise bad(
                    "no_params", "缺少 k-匿名参数", "k-anonymity parameters missing", "k", "k, qi"
                )
            fields = check_kanon(resource, spec.kanon)
        else:
            if spec.dp is None:
                raise bad(
                    "no_params", "缺少差分隐私参数", "DP parameters missing", "epsilon", "epsilon"
                )
            fields = check_dp(resource, spec.dp)
        path = self.rows.parquet(resource.id)
        if path is None:
            raise bad(
                "no_rows",
                "该资源尚未加载数据",
                "the resource has no rows loaded",
                "resource_id",
                "a resource with rows",
            )
        table = pq.read_table(path, columns=list(fields))
        now = self.clock.now()
        outcome: dict[str, Any]
        if spec.kanon is not None and spec.mode is ReleaseMode.K_ANONYMITY:
            k = spec.kanon
            res = anonymise(
                table, {q: fields[q].data_type for q in k.qi}, k.k, k.max_suppression, k.fields
            )
            if not res.within_limit:
                raise bad(
                    "too_few_rows",
                    f"数据不足：无法使每组至少 {k.k} 行",
                    f"fewer rows than k={k.k}: no class can reach k",
                    "k",
                    f"at most {table.num_rows} here",
                )
            out, params = res.table, kanon_params(k)
            outcome = {
                "levels": res.levels,
                "level_index": res.level_index,
                "k_achieved": res.k_achieved,
                "suppressed": res.suppressed,
                "released": res.released,
                "classes": res.classes,
                "input_rows": table.num_rows,
            }
        else:
            assert spec.dp is not None
            d = release_dp(table, spec.dp)
            out, params = d.table, dp_params(spec.dp)
            outcome = {
                "queries": d.queries,
                "epsilon_spent": d.epsilon_spent,
                "categories_from_data": d.categories_from_data,
                "rounding": "counts to integers (>= 0), sums and means to 2 decimals",
            }
        r = Release(
            id=new_id(),
            resource_id=resource.id,
            resource_code=resource.code,
            resource_name=resource.spec.name_zh,
            department_id=resource.department_id,
            title=spec.title.strip(),
            mode=spec.mode,
            params=params,
            outcome=outcome,
            columns=tuple(out.column_names),
            row_count=out.num_rows,
            created_at=now,
            created_by=ctx.actor,
            extra=extra,
        )
        self.files.write(r.id, out)
        self.store.add(r)
        self.trail.record(
            AuditEntry(
                AuditKind.RELEASED,
                ctx,
                now,
                resource.id,
                tuple(fields)[:50],
                row_count=r.row_count,
                subject=r.id,
                detail={"mode": r.mode.value, "params": params, **extra},
            )
        )
        return r

    # --- public reads (the open portal) ------------------------------------------------

    def releases(
        self, limit: int = 50, offset: int = 0, resource_id: str | None = None
    ) -> list[Release]:
        """Return releases, newest first (public)."""
        return self.store.recent(min(max(limit, 1), MAX_LIST), max(offset, 0), resource_id)

    def get(self, release_id: str) -> Release:
        """Return a release's metadata (public)."""
        r = self.store.get(release_id)
        if r is None:
            raise _not_found(release_id)
        return r

    def page(
        self, release_id: str, offset: int, limit: int
    ) -> tuple[Release, list[dict[str, Any]]]:
        """Return a release and a page of its rows (public)."""
        r = self.get(release_id)
        if offset < 0 or not 0 <= limit <= MAX_ROWS_PAGE:
            raise bad(
                "bad_page",
                f"分页参数错误（limit 0–{MAX_ROWS_PAGE}）",
                f"limit must be 0–{MAX_ROWS_PAGE}, offset >= 0",
                "limit",
                f"0–{MAX_ROWS_PAGE}",
            )
        return r, self.files.read(r.id, offset, limit)

    def csv(self, release_id: str) -> tuple[Release, str]:
        """Return a release and its whole table as CSV (public)."""
        r = self.get(release_id)
        return r, self.files.csv(r.id)
