"""Block data use cases: sum a resource's rows up by place and time, drill down, scoped.

Each resource's rows come from its Parquet snapshot (the catalogue's ``ResourceRows``
port). The snapshot is read and located once per version (its file's mtime and size: a
new load writes a new snapshot) and kept in memory as Arrow, with its summary (the rows
grouped once by every place and category, ``store.Summary``) from which every block query
without a time window is cut; results are cached per (resource, version, query), so a new
load refreshes all three and nothing stale is served.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from opencitybrain.blocks.h3cells import h3_column
from opencitybrain.blocks.locate import (
    DoorPlates,
    Gazetteer,
    Placement,
    PointLocator,
    geojson_points,
    locate,
)
from opencitybrain.blocks.model import (
    ADMIN_LEVELS,
    LEVEL_COLUMN,
    Block,
    BlockQuery,
    BlockResult,
    RegionScope,
    child_level,
    level_of,
    parent_code,
)
from opencitybrain.blocks.store import CITY_KEY, BlockEngine, GroupPlan, Summary
from opencitybrain.blocks.summary import cut as cut_summary
from opencitybrain.kernel.errors import NotFound

log = logging.getLogger(__name__)

# Snapshot path of a resource's current rows, or None (the catalogue's rows port).
Snapshots = Callable[[str], Path | None]
# Department id → (region code, parent department id), to find a caller's area.
DepartmentTree = Callable[[], Mapping[str, tuple[str | None, str | None]]]

MAX_RESULTS = 512
MAX_TABLES = 8
CITY_WIDE = RegionScope()


@dataclass(frozen=True, slots=True)
class _Located:
    version: str
    table: pa.Table
    placement: Placement
    summary: Summary | None


class BlockService:
    """Aggregate resources by region, grid and H3 cell; cache per snapshot version."""

    def __init__(
        self,
        snapshots: Snapshots,
        engine: BlockEngine,
        *,
        points: PointLocator | None = None,
        gazetteer: Gazetteer | None = None,
        addresses: DoorPlates | None = None,
        departments: DepartmentTree | None = None,
        summaries: bool = True,
    ) -> None:
        """Serve blocks of the snapshots' rows; ``summaries=False`` scans rows for every
        query (the path the summaries replace, kept to compare them with). ``addresses``
        (the city's standard-address book) takes addresses down to communities and grids."""
        self._summaries = summaries
        self._snapshots = snapshots
        self._engine = engine
        self._points = points
        self._gazetteer = gazetteer
        self._addresses = addresses
        self._departments = departments
        self._placements: dict[str, Placement] = {}
        self._tables: OrderedDict[str, _Located] = OrderedDict()
        self._results: OrderedDict[tuple[str, str, BlockQuery], BlockResult] = OrderedDict()
        self._lock = threading.RLock()
        self._loading: dict[str, threading.Lock] = {}

    def place(self, resource_id: str, placement: Placement) -> None:
        """Say which fields place a resource's rows (else they are inferred from names)."""
        with self._lock:
            self._placements[resource_id] = placement
            self.invalidate(resource_id)

    def invalidate(self, resource_id: str) -> None:
        """Forget a resource's located rows and results (a load event calls this)."""
        with self._lock:
            self._tables.pop(resource_id, None)
            for key in [k for k in self._results if k[0] == resource_id]:
                del self._results[key]

    def scope_of(self, department_id: str) -> RegionScope:
        """Return a department's area: its region code or its nearest ancestor's."""
        if self._departments is None:
            return RegionScope()
        tree = self._departments()
        seen: set[str] = set()
        current: str | None = department_id
        while current is not None and current not in seen:
            seen.add(current)
            region, parent = tree.get(current, (None, None))
            if region and len(region) == 6 and region.endswith("00"):
                return RegionScope()  # a prefecture city's own code: all of it
            if region:
                return RegionScope(region)
            current = parent
        return RegionScope()

    def _version(self, resource_id: str) -> tuple[Path, str] | None:
        path = self._snapshots(resource_id)
        if path is None or not path.exists():
            return None
        stat = path.stat()
        return path, f"{stat.st_mtime_ns:x}-{stat.st_size:x}"

    def located(self, resource_id: str) -> tuple[str, pa.Table]:
        """Return the resource's current version and its rows with their places.

        A resource with no rows loaded yet (or none the rows port knows) is NotFound here;
        ``aggregate`` answers it with no blocks, as the rows port reads it as empty.
        """
        found = self._version(resource_id)
        if found is None:
            raise NotFound(
                "blocks.no_rows",
                f"资源 {resource_id} 尚无数据",
                f"resource {resource_id} has no rows loaded",
            )
        path, version = found
        with self._lock:
            held = self._tables.get(resource_id)
            if held is not None and held.version == version:
                self._tables.move_to_end(resource_id)
                return version, held.table
            placement = self._placements.get(resource_id)
            gate = self._loading.setdefault(resource_id, threading.Lock())
        # One reader per resource locates a new version; other resources' queries (and
        # their cached answers) do not wait for it.
        with gate:
            with self._lock:
                held = self._tables.get(resource_id)
                if held is not None and held.version == version:
                    return version, held.table
            placement = placement or Placement.infer(self._engine.fields(path))
            table = locate(
                self._engine.read(path), placement, points=self._points,
                gazetteer=self._gazetteer, addresses=self._addresses,
            )  # fmt: skip
            summary = self._engine.summarise(table) if self._summaries else None
            log.info(
                "blocks: located %s rows of %s (version %s), summary %s bytes",
                table.num_rows, resource_id, version, summary.nbytes if summary else 0,
            )  # fmt: skip
            with self._lock:
                self._tables[resource_id] = _Located(version, table, placement, summary)
                self._tables.move_to_end(resource_id)
                while len(self._tables) > MAX_TABLES:
                    self._tables.popitem(last=False)
                for key in [k for k in self._results if k[0] == resource_id and k[1] != version]:
                    del self._results[key]
            return version, table

    def _with_h3(self, resource_id: str, version: str, table: pa.Table, res: int) -> pa.Table:
        column = f"_h3_{res}"
        if column in table.column_names:
            return table
        held = self._tables[resource_id]
        placement = held.placement
        if placement.lon and placement.lat:
            cells = h3_column(table[placement.lon], table[placement.lat], res)
        elif placement.geometry:
            cells = h3_column(*geojson_points(table[placement.geometry]), res)
        else:
            cells = pa.nulls(table.num_rows, pa.string())
        # Only rows placed in the city count, as at every other level.
        cells = pc.if_else(pc.equal(table["_county"], ""), pa.scalar(None, pa.string()), cells)
        table = table.append_column(column, cells)
        self._tables[resource_id] = replace(held, table=table)
        return table

    def aggregate(self, query: BlockQuery, scope: RegionScope = CITY_WIDE) -> BlockResult:
        """Return the query's blocks within the caller's scope (cached per version)."""
        query = scope.clip(query)
        if self._version(query.resource_id) is None:
            return BlockResult(query, (), "", 0, 0)
        version, table = self.located(query.resource_id)
        key = (query.resource_id, version, query)
        with self._lock:
            hit = self._results.get(key)
            if hit is not None:
                self._results.move_to_end(key)
                return replace(hit, cached=True)
            if query.level == "h3":
                table = self._with_h3(query.resource_id, version, table, query.h3_resolution)
            held = self._tables.get(query.resource_id)
            summary = held.summary if held is not None and held.version == version else None
        result = self._compute(query, version, table, summary)
        with self._lock:
            self._results[key] = result
            while len(self._results) > MAX_RESULTS:
                self._results.popitem(last=False)
        return result

    def _compute(
        self, query: BlockQuery, version: str, table: pa.Table, summary: Summary | None
    ) -> BlockResult:
        if query.level == "city":
            key = CITY_KEY
        elif query.level == "h3":
            key = f"_h3_{query.h3_resolution}"
        else:
            key = LEVEL_COLUMN[query.level]
        within_level = level_of(query.within)
        window = query.window
        plan = GroupPlan(
            key=key,
            rows_key=f"{query.resource_id}@{version}",
            metric=query.metric,
            prefix_column=LEVEL_COLUMN.get(within_level),
            prefix=query.within,
            by=query.by,
            time_field=window.field if window else None,
            start=window.start if window else None,
            end=window.end if window else None,
            bucket=window.bucket if window else None,
        )
        cut = summary.table_for(plan) if summary is not None else None
        if summary is not None and cut is not None:
            # Every place's groups were summed up once per version: cut them by region.
            grouped = cut_summary(summary, _with_city(cut, key), plan)
        else:
            grouped = self._engine.group(_with_city(table, key), plan)
        blocks = tuple(
            Block("" if query.level == "city" else k, _number(v), c, b)
            for k, c, b, v in grouped.rows
        )
        return BlockResult(query, blocks, version, grouped.in_scope, grouped.unlocated)

    def drill(self, code: str) -> dict[str, object]:
        """Return where a region sits: its level, parent and the level of its children."""
        level = level_of(code)
        return {
            "code": code,
            "level": level,
            "parent": parent_code(code),
            "children_level": child_level(level),
            "path": [code[:w] for w in (6, 9, 12, 15) if len(code) >= w],
        }

    def levels(self) -> tuple[str, ...]:
        """Return the levels one may aggregate to."""
        return (*ADMIN_LEVELS, "h3")


def _with_city(table: pa.Table, key: str) -> pa.Table:
    """Return the table with the city's block (rows placed anywhere in it) if grouped by it."""
    if key != CITY_KEY:
        return table
    inside = pc.not_equal(table["_county"], "")
    return table.append_column(CITY_KEY, pc.if_else(inside, "city", ""))


def _number(value: object) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal | float):
        return float(value)
    return float(str(value)) if isinstance(value, str) and value else None


def gazetteer_of(
    city_name: str, regions: Mapping[str, str], streets: Mapping[str, str]
) -> Gazetteer:
    """Return a gazetteer from county names → codes and street full names → codes."""
    return Gazetteer(city_name, dict(regions), dict(streets))
