"""Fixtures for sharing: the catalogue on each SQL engine, loaded resources, the services."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa

from opencitybrain.adapters.duckdb_rows import DuckRows
from opencitybrain.catalog.model import (
    Classification,
    DataType,
    FieldSpec,
    Level,
    Masking,
    Resource,
    SharingType,
)
from opencitybrain.catalog.rows import Row
from opencitybrain.catalog.service import CatalogService
from opencitybrain.kernel.clock import ManualClock
from opencitybrain.sharing.access import GovernedReader
from opencitybrain.sharing.audit import CheckpointSigner
from opencitybrain.sharing.audit_store import SqlAuditStore
from opencitybrain.sharing.service import SharingService
from opencitybrain.sharing.store import SqlSharingStore
from opencitybrain.sharing.trail import AuditTrail
from opencitybrain.worktime import WorkCalendar
from tests.integration.catalog.conftest import (  # noqa: F401 - fixtures used by name
    RecordingBus,
    bus,
    catalog,
    clock,
    engine,
    staff,
)
from tests.unit.catalog.samples import spec

SECRET = "test-platform-secret-" + "x" * 20
POLICE = staff("public-security")
TRANSPORT = staff("transport")
MARKET = staff("market-regulation")

FIELDS = (
    FieldSpec("person_id", "人员编号", DataType.STRING),
    FieldSpec("name", "姓名", DataType.STRING, Level.IMPORTANT, Masking.NAME),
    FieldSpec(
        "id_number", "公民身份号码", DataType.CITIZEN_ID, Level.CORE, Masking.ID_NUMBER,
        is_identifier=True,
    ),
    FieldSpec("mobile", "手机", DataType.MOBILE, Level.IMPORTANT, Masking.MOBILE),
    FieldSpec("address", "住址", DataType.STRING, Level.IMPORTANT, Masking.ADDRESS),
    FieldSpec("district", "区县", DataType.STRING),
    FieldSpec("age", "年龄", DataType.INTEGER),
)  # fmt: skip

_PEOPLE = [("段誉", "东湖区"), ("王语嫣", "西湖区"), ("萧峰", "东湖区"), ("虚竹子", "青山湖区"),
           ("阿朱", "东湖区")]  # fmt: skip
ROWS: list[Row] = [
    {
        "person_id": f"P{i:04d}", "name": n, "id_number": f"36010219900101{i:03d}X",
        "mobile": f"1391234{i:04d}", "address": f"江西省南昌市东湖区八一大道{i}号院三栋",
        "district": d, "age": 20 + i,
    }
    for i, (n, d) in enumerate(_PEOPLE, start=1)
]  # fmt: skip


@dataclass
class World:
    """The services under test and the resources they share."""

    catalog: CatalogService
    sharing: SharingService
    reader: GovernedReader
    trail: AuditTrail
    audit_store: SqlAuditStore
    rows: DuckRows
    clock: ManualClock
    bus: RecordingBus
    conditional: Resource
    unconditional: Resource
    closed: Resource


async def _publish(svc: CatalogService, seq: str, sharing: SharingType) -> Resource:
    s = spec(
        fields=FIELDS,
        sharing_type=sharing,
        sharing_condition="" if sharing is SharingType.UNCONDITIONAL else "依法申请",
    )
    s = replace(s, classification=Classification("1", "01", "001", seq), name_zh=f"人口{seq}")
    return await svc.publish(POLICE, s)


@pytest.fixture
def world(
    engine: sa.Engine,  # noqa: F811 - the catalogue tests' fixtures
    catalog: CatalogService,  # noqa: F811
    clock: ManualClock,  # noqa: F811
    bus: RecordingBus,  # noqa: F811
    tmp_path: Path,
) -> World:
    """Return the sharing services with three loaded resources (有条件, 无条件, 不予)."""
    rows = DuckRows(tmp_path / "analytics")
    kinds = (SharingType.CONDITIONAL, SharingType.UNCONDITIONAL, SharingType.NONE)
    resources = [asyncio.run(_publish(catalog, f"10{n}", t)) for n, t in enumerate(kinds, start=1)]
    for r in resources:
        rows.upsert(r.id, FIELDS, ("person_id",), pa.Table.from_pylist(ROWS))
    audit_store = SqlAuditStore(engine)
    trail = AuditTrail(audit_store, CheckpointSigner(SECRET), clock, every=10)
    store = SqlSharingStore(engine)
    calendar = WorkCalendar.china(provisional_through=2027)
    sharing = SharingService(store, trail, catalog, calendar, clock, bus)
    reader = GovernedReader(rows, store, trail, catalog, clock, SECRET)
    return World(catalog, sharing, reader, trail, audit_store, rows, clock, bus, *resources)
