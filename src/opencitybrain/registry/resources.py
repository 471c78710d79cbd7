"""The golden records as catalogue resources of the big-data bureau, rows kept per build.

Each registry (一人一档, 一企一档, 一车一档) is a 有条件共享 resource of the bureau, whose
fields are the golden record's attributes with their masking types and classification
levels. The resources are published when missing by :meth:`GoldenShelf.ensure` (the
platform calls it as it starts serving: publishing is async and needs the bureau to
exist), and after every build the golden records are upserted by ``golden_id`` as the
resource's rows through the catalogue's row writer port, so grants, masking and audit
apply to them as to any resource (``/api/v1/sharing/resources/{id}/rows``). A golden
record a later build no longer has keeps its row with ``current = false`` and every
attribute empty (the row writer upserts; it never deletes).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from opencitybrain.catalog.load_ports import Landed, RowWriter, arrow_type
from opencitybrain.catalog.model import (
    Classification,
    DataType,
    Domain,
    FieldSpec,
    Level,
    Masking,
    Resource,
    ResourceFormat,
    ResourceSpec,
    SharingMethod,
    SharingType,
    Status,
    UpdateCycle,
)
from opencitybrain.catalog.rows import ResourceRows
from opencitybrain.catalog.rules import uscc_check_char
from opencitybrain.catalog.search import SearchQuery
from opencitybrain.catalog.service import CatalogService
from opencitybrain.kernel.errors import NotFound
from opencitybrain.kernel.events import Context
from opencitybrain.registry.store import KINDS, BuildFiles, Kind

log = logging.getLogger(__name__)

BUREAU = "bureau"
KEY = ("golden_id",)
CURRENT = "current"
_CTX = Context.system("registry")
S, INT, DATE = DataType.STRING, DataType.INTEGER, DataType.DATE
G, IMP, CORE = Level.GENERAL, Level.IMPORTANT, Level.CORE


def _f(name: str, zh: str, kind: DataType = S, level: Level = G, mask: Masking = Masking.NONE,
       ident: bool = False) -> FieldSpec:  # fmt: skip
    return FieldSpec(name, zh, kind, level, mask, ident)


_COMMON = (
    _f("records", "归集记录数", INT),
    _f("sources", "来源部门数", INT),
    _f("conflicts", "待核实冲突数", INT),
    _f("updated_build", "最近变更批次", INT),
    _f(CURRENT, "现行主档", DataType.BOOLEAN),
)

# Each kind's resource fields: the golden record's attributes, masked and levelled.
RESOURCE_FIELDS: dict[Kind, tuple[FieldSpec, ...]] = {
    "people": (
        _f("golden_id", "公民身份号码", DataType.CITIZEN_ID, CORE, Masking.ID_NUMBER, True),
        _f("name", "姓名", S, IMP, Masking.NAME),
        _f("sex", "性别", INT),
        _f("birth_date", "出生日期", DATE, IMP),
        _f("address", "住址", S, IMP, Masking.ADDRESS),
        *_COMMON,
    ),
    "companies": (
        _f("golden_id", "统一社会信用代码", DataType.USCC, G, Masking.NONE, True),
        _f("name", "名称", S),
        _f("address", "住所", S, IMP, Masking.ADDRESS),
        _f("rep_id_number", "法定代表人证件号码", S, CORE, Masking.ID_NUMBER),
        *_COMMON,
    ),
    "vehicles": (
        _f("golden_id", "号牌号码", DataType.PLATE, IMP, Masking.PLATE, True),
        _f("owner_code", "所有人证件号码", S, CORE, Masking.ID_NUMBER),
        _f("name", "所有人", S, IMP, Masking.NAME),
        _f("address", "住所地址", S, IMP, Masking.ADDRESS),
        *_COMMON,
    ),
}

# (classification, name_zh, name_en, domain, abstract)
_ABOUT: dict[Kind, tuple[Classification, str, str, Domain, str]] = {
    "people": (Classification("1", "01", "900"), "人口基础库（一人一档）",
               "Population registry (one record per person)", Domain.POPULATION,
               "由公安、卫健、民政、人社、教育等部门数据比对归集的人口主档：每人一条，"
               "姓名、性别、出生日期、住址取自最权威或最新的来源。"),
    "companies": (Classification("1", "02", "900"), "法人基础库（一企一档）",
                  "Legal entity registry (one record per company)", Domain.LEGAL_ENTITY,
                  "按统一社会信用代码归集的企业主档：名称、住所和法定代表人。"),
    "vehicles": (Classification("2", "04", "900"), "车辆基础库（一车一档）",
                 "Vehicle registry (one record per vehicle)", Domain.TRANSPORT,
                 "按号牌号码归集的机动车主档：所有人及其证件号码和住址。"),
}  # fmt: skip


def bureau_code(city_code: str, department: str = BUREAU) -> str:
    """Return the bureau's demo unified social credit code (机关: 11 + region + org code)."""
    first17 = f"11{city_code[:6]:0<6}MB0000{len(department):03d}"[:17]
    return first17 + uscc_check_char(first17)


def resource_spec(kind: Kind, department: str = BUREAU, city_code: str = "360100") -> ResourceSpec:
    """Return the catalogue resource of a registry kind (有条件共享, the bureau's)."""
    classification, zh, en, domain, abstract = _ABOUT[kind]
    return ResourceSpec(
        classification=classification,
        name_zh=zh,
        name_en=en,
        department_id=department,
        provider_code=bureau_code(city_code, department),
        abstract=abstract,
        format=ResourceFormat.DATABASE,
        fields=RESOURCE_FIELDS[kind],
        sharing_type=SharingType.CONDITIONAL,
        domain=domain,
        update_cycle=UpdateCycle.DAILY,
        sharing_condition="按业务事项申请，限定信息项、用途和期限；取消脱敏须说明理由",
        sharing_methods=(SharingMethod.API,),
        tags=("基础库", "主档"),
    )


def as_rows(kind: Kind, golden: pa.Table, retired: pa.Array | None = None) -> pa.Table:
    """Return golden records as the resource's rows, typed per field (plus retired keys)."""
    fields = RESOURCE_FIELDS[kind]
    n = golden.num_rows
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    for f in fields:
        target = arrow_type(f.data_type)
        if f.name == CURRENT:
            columns[f.name] = pa.array([True] * n, pa.bool_())
        elif f.name not in golden.column_names:
            columns[f.name] = pa.nulls(n, target)
        elif f.data_type is DATE:  # YYYYMMDD as an integer
            text = pc.cast(golden[f.name], pa.string())
            stamp = pc.strptime(text, format="%Y%m%d", unit="s", error_is_null=True)
            columns[f.name] = pc.cast(stamp, pa.date32())
        else:
            columns[f.name] = pc.cast(golden[f.name], target)
    rows = pa.table(columns)
    if retired is not None and len(retired):
        gone = {f.name: pa.nulls(len(retired), arrow_type(f.data_type)) for f in fields}
        gone["golden_id"] = pc.cast(retired, pa.string())
        gone[CURRENT] = pa.array([False] * len(retired), pa.bool_())
        rows = pa.concat_tables([rows, pa.table(gone, schema=rows.schema)])
    return rows


class GoldenShelf:
    """Publish the registries as the bureau's resources and keep their rows per build."""

    def __init__(
        self,
        catalog: CatalogService,
        writer: RowWriter,
        rows: ResourceRows,
        marks: Path,
        *,
        department: str = BUREAU,
        city_code: str = "360100",
    ) -> None:
        self.catalog = catalog
        self.writer = writer
        self.rows = rows
        self.marks = marks  # <data>/registry: which build each resource's rows hold
        self.department = department
        self.city_code = city_code
        self._ids: dict[Kind, str] = {}
        self._lock = threading.Lock()

    def resource_id(self, kind: Kind) -> str | None:
        """Return the id of a kind's resource (None: not published yet)."""
        with self._lock:
            if kind in self._ids:
                return self._ids[kind]
        found = self._find(kind)
        if found is not None:
            with self._lock:
                self._ids[kind] = found.id
            return found.id
        return None

    def _find(self, kind: Kind) -> Resource | None:
        """Return the kind's active resource; of two (serving processes racing), the first."""
        name = _ABOUT[kind][1]
        query = SearchQuery(departments=(self.department,), limit=200)
        found = [
            h.resource
            for h in self.catalog.search(_CTX, query).hits
            if h.resource.spec.name_zh == name and h.resource.status is Status.ACTIVE
        ]
        return min(found, key=lambda r: r.code) if found else None

    async def ensure(self) -> dict[Kind, str]:
        """Publish whichever registry resource is missing; return the kinds' resource ids."""
        out: dict[Kind, str] = {}
        for kind in KINDS:
            rid = self.resource_id(kind)
            if rid is None:
                spec = resource_spec(kind, self.department, self.city_code)
                try:
                    published = await self.catalog.publish(
                        _CTX, spec, "基础库主档 / golden records"
                    )
                except NotFound:  # no bureau department yet (a platform before its org)
                    log.warning("registry: no department %s to publish %s", self.department, kind)
                    continue
                first = self._find(kind)
                rid = first.id if first is not None else published.id
                if rid != published.id:  # another process published it first: keep that one
                    await self.catalog.withdraw(_CTX, published.id, "重复发布 / published twice")
                with self._lock:
                    self._ids[kind] = rid
                log.info("registry: published %s as resource %s", kind, rid)
            out[kind] = rid
        return out

    def write(self, kind: Kind, golden: pa.Table, build: int) -> Landed | None:
        """Upsert a build's golden records as the resource's rows (None: no resource yet).

        Keys the resource held as current that the build lacks are retired (their row
        kept with ``current = false`` and no attributes).
        """
        rid = self.resource_id(kind)
        if rid is None:
            log.warning("registry: %s resource not published yet; rows wait for it", kind)
            return None
        retired = self._retired(rid, golden)
        landed = self.writer.upsert(rid, RESOURCE_FIELDS[kind], KEY, as_rows(kind, golden, retired))
        self._mark(kind, build)
        log.info("registry: %s build %s → resource %s: %s", kind, build, rid, landed)
        return landed

    def _retired(self, rid: str, golden: pa.Table) -> pa.Array | None:
        snapshot = self.rows.parquet(rid)
        if snapshot is None:
            return None
        held = pq.read_table(snapshot, columns=["golden_id", CURRENT])
        held = held.filter(pc.fill_null(held[CURRENT], False))
        gone = pc.invert(pc.is_in(held["golden_id"], value_set=golden["golden_id"]))
        return held["golden_id"].filter(gone).combine_chunks()

    def catch_up(self, files: BuildFiles) -> None:
        """Write each kind's current build whose rows the resource does not hold yet.

        A build made where no resource was published (or by another process) reaches the
        resource here; the platform runs this as it starts serving.
        """
        for kind in KINDS:
            build = files.current(kind)
            if build is not None and build.number != self.shared_build(kind):
                self.write(kind, build.golden, build.number)

    def shared_build(self, kind: Kind) -> int:
        """Return the build whose rows the kind's resource holds (0: none)."""
        path = self.marks / kind / "shared.json"
        return int(json.loads(path.read_text())["build"]) if path.is_file() else 0

    def _mark(self, kind: Kind, build: int) -> None:
        path = self.marks / kind / "shared.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"build": build}))
        os.replace(temporary, path)
