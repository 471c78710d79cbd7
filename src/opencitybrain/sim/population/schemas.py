"""Each department's table: its field names and code styles, as its own system writes them.

``fields`` maps a canonical role (``id_number``, ``name``, ``sex``, ``birth_date``,
``address``, ``updated``) to the department's column; ``styles`` says how the role's values
are written. ``as_source`` gives this as plain data, which is what an entity resolver needs
to read the table (the registry takes it without importing the simulator).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TableSchema:
    """One department table: who keeps it, what it describes, and how it writes values."""

    department: str
    table: str
    title_zh: str
    entity: str  # person | company | vehicle
    key: str
    fields: Mapping[str, str]
    styles: Mapping[str, str] = field(default_factory=dict)

    @property
    def source(self) -> str:
        """Return the table's source name, ``department/table``."""
        return f"{self.department}/{self.table}"

    def as_source(self) -> dict[str, Any]:
        """Return the table's description as plain data (source, key, fields, styles)."""
        return {
            "source": self.source,
            "key": self.key,
            "fields": dict(self.fields),
            "styles": dict(self.styles),
        }


HUKOU = TableSchema(
    "public-security", "czrk", "常住人口登记", "person", "RKBH",
    {"id_number": "GMSFHM", "name": "XM", "sex": "XB", "birth_date": "CSRQ",
     "address": "ZZ", "updated": "DJRQ"},
    {"sex": "1/2", "birth_date": "YYYYMMDD", "updated": "YYYYMMDD", "name": "plain",
     "id_number": "upper"},
)  # fmt: skip
HEALTH = TableSchema(
    "health", "resident_health_record", "居民健康档案", "person", "archive_no",
    {"id_number": "id_card", "name": "name", "sex": "gender", "birth_date": "birthday",
     "address": "address", "updated": "created_at"},
    {"sex": "男/女", "birth_date": "YYYY-MM-DD", "updated": "YYYY-MM-DD", "name": "plain",
     "id_number": "upper"},
)  # fmt: skip
CIVIL = TableSchema(
    "civil-affairs", "mz_jmxx", "民政居民信息", "person", "jmbh",
    {"id_number": "sfzh", "name": "xm", "sex": "xb", "birth_date": "csrq",
     "address": "jzdz", "updated": "gxsj"},
    {"sex": "M/F", "birth_date": "YYYY/MM/DD", "updated": "YYYY/MM/DD", "name": "padded",
     "id_number": "upper"},
)  # fmt: skip
SOCIAL = TableSchema(
    "social-security", "ac01", "参保人员信息", "person", "AAC001",
    {"id_number": "AAC002", "name": "AAC003", "sex": "AAC004", "birth_date": "AAC006",
     "address": "AAE006", "updated": "AAE036"},
    {"sex": "1/2", "birth_date": "int", "updated": "int", "name": "plain",
     "id_number": "lower"},
)  # fmt: skip
EDUCATION = TableSchema(
    "education", "xj_xsjbxx", "学生学籍基本信息", "person", "xjh",
    {"id_number": "sfzjh", "name": "xsxm", "sex": "xbm", "birth_date": "csrq",
     "address": "jtzz", "updated": "rxny"},
    {"sex": "男/女", "birth_date": "YYYY.MM.DD", "updated": "YYYY.MM.DD", "name": "plain",
     "id_number": "upper"},
)  # fmt: skip
MARKET = TableSchema(
    "market-regulation", "qy_djxx", "企业登记信息", "company", "djxh",
    {"code": "TYSHXYDM", "name": "QYMC", "address": "ZS", "updated": "HZRQ",
     "rep_id_number": "FDDBRZJHM", "rep_name": "FDDBR"},
    {"updated": "YYYY-MM-DD", "code": "upper"},
)  # fmt: skip
VEHICLES = TableSchema(
    "public-security", "jdc", "机动车登记信息", "vehicle", "xh",
    {"plate": "HPHM", "owner_code": "SFZMHM", "name": "SYR", "address": "ZSXXDZ",
     "updated": "CCDJRQ"},
    {"updated": "YYYY-MM-DD", "owner_code": "upper"},
)  # fmt: skip

PEOPLE_TABLES: tuple[TableSchema, ...] = (HUKOU, HEALTH, CIVIL, SOCIAL, EDUCATION)
ALL_TABLES: tuple[TableSchema, ...] = (*PEOPLE_TABLES, MARKET, VEHICLES)
