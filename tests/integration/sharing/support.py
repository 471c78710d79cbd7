"""A sensitive resource of the health department in the demo city, with rows loaded."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pyarrow as pa
from fastapi.testclient import TestClient

from opencitybrain.catalog.model import (
    Classification,
    DataType,
    FieldSpec,
    Level,
    Masking,
    OpenType,
)
from opencitybrain.catalog.rows import ResourceRows, Row
from opencitybrain.catalog.service import CatalogService
from opencitybrain.kernel.events import Context
from tests.support import DemoCity
from tests.unit.catalog.samples import spec

FIELDS = (
    FieldSpec("record_id", "记录编号", DataType.STRING),
    FieldSpec("name", "姓名", DataType.STRING, Level.IMPORTANT, Masking.NAME),
    FieldSpec(
        "id_number", "公民身份号码", DataType.CITIZEN_ID, Level.CORE, Masking.ID_NUMBER,
        is_identifier=True,
    ),
    FieldSpec("mobile", "手机", DataType.MOBILE, Level.IMPORTANT, Masking.MOBILE),
    FieldSpec("address", "住址", DataType.STRING, Level.IMPORTANT, Masking.ADDRESS),
    FieldSpec("bank_card", "银行卡号", DataType.STRING, Level.CORE, Masking.BANK_CARD),
    FieldSpec("district", "区县", DataType.STRING),
)  # fmt: skip

# Values distinctive enough that finding one in a response body means it leaked.
ROWS: list[Row] = [
    {
        "record_id": f"H{i:03d}", "name": f"欧阳锋{'甲乙丙丁戊'[i]}",
        "id_number": f"3601021977070{i}123X", "mobile": f"1357924680{i}",
        "address": f"江西省南昌市西湖区抚河北路七七七号{i}栋二单元",
        "bank_card": f"62220277770000{i}88", "district": "西湖区" if i % 2 else "东湖区",
    }
    for i in range(5)
]  # fmt: skip
SENSITIVE = ("name", "id_number", "mobile", "address", "bank_card")
SECRETS = [str(r[f]) for r in ROWS for f in SENSITIVE]


@dataclass(frozen=True)
class Loaded:
    """The resource's id."""

    resource_id: str


def load_sensitive(demo: DemoCity, client: TestClient, seq: str) -> Loaded:
    """Publish a conditional health resource and load the rows into it."""
    catalog = demo.platform.services.get(CatalogService)
    s = spec(
        fields=FIELDS, department_id="health", name_zh=f"健康随访人员{seq}",
        name_en=f"Health follow-up {seq}", open_type=OpenType.CONDITIONAL,
        open_condition="仅用于公共卫生统计，不得用于识别个人",
    )  # fmt: skip
    s = replace(s, classification=Classification("3", "09", "009", seq))
    resource = client.portal.call(catalog.publish, Context.system("test"), s)  # type: ignore[union-attr]
    rows = demo.platform.services.get(ResourceRows)  # type: ignore[type-abstract]
    rows.upsert(resource.id, FIELDS, ("record_id",), pa.Table.from_pylist(ROWS))  # type: ignore[attr-defined]
    return Loaded(resource.id)
