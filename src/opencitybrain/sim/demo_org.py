"""Seed the demo city's org tree and users (idempotent; new passwords returned once)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from opencitybrain.accounts.model import DepartmentKind, Role
from opencitybrain.accounts.service import AccountService
from opencitybrain.kernel.errors import NotFound
from opencitybrain.kernel.events import Context

ROOT_ID = "city"
BUREAU_ID = "bureau"

# (id, name_zh, name_en): the departments (委办局) the seeds name or imply.
DEPARTMENTS: tuple[tuple[str, str, str], ...] = (
    ("command-centre", "城市运行管理指挥中心", "City Operations Command Centre"),
    ("public-security", "公安局", "Public Security Bureau"),
    ("transport", "交通运输局", "Transport Bureau"),
    ("health", "卫生健康委员会", "Health Commission"),
    ("urban-management", "城市管理局", "Urban Management Bureau"),
    ("market-regulation", "市场监督管理局", "Market Regulation Bureau"),
    ("civil-affairs", "民政局", "Civil Affairs Bureau"),
    ("social-security", "人力资源和社会保障局", "Human Resources and Social Security Bureau"),
    ("education", "教育局", "Education Bureau"),
    ("emergency", "应急管理局", "Emergency Management Bureau"),
)


@dataclass(frozen=True)
class DemoCounty:
    """A county-level division of the demo city."""

    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class Credential:
    """A demo account's sign-in, shown once when it is created."""

    username: str
    role: Role
    department_id: str
    secret: str
    kind: str = "password"  # or "api_key"


def district_id(code: str) -> str:
    """Return the department id of a district government."""
    return f"district-{code}"


def _users(counties: Sequence[DemoCounty]) -> list[tuple[str, str, str, Role]]:
    first = district_id(counties[0].code) if counties else BUREAU_ID
    return [
        ("admin", "大数据局管理员 Bureau admin", BUREAU_ID, Role.BUREAU_ADMIN),
        ("operator", "指挥中心值班员 Operator", "command-centre", Role.OPERATOR),
        ("transport-staff", "交通局工作人员 Transport staff", "transport", Role.DEPARTMENT_STAFF),
        ("health-staff", "卫健委工作人员 Health staff", "health", Role.DEPARTMENT_STAFF),
        ("grid-worker", "网格员 Grid worker", first, Role.GRID_WORKER),
        ("citizen", "市民 Citizen", BUREAU_ID, Role.CITIZEN),
    ]


def seed_demo_org(
    accounts: AccountService,
    city_code: str,
    city_name_zh: str,
    city_name_en: str,
    counties: Sequence[DemoCounty],
) -> list[Credential]:
    """Create whatever of the demo org tree and users is missing; return new credentials."""
    ctx = Context.system("demo-seed")
    have = {d.id for d in accounts.departments()}

    def dept(
        did: str, zh: str, en: str, kind: DepartmentKind, parent: str | None, region: str | None
    ) -> None:
        if did not in have:
            accounts.create_department(ctx, did, zh, en, kind, parent, region)
            have.add(did)

    dept(
        ROOT_ID,
        f"{city_name_zh}人民政府",
        f"{city_name_en} Municipal Government",
        DepartmentKind.CITY,
        None,
        city_code,
    )
    dept(
        BUREAU_ID,
        f"{city_name_zh}大数据管理局",
        f"{city_name_en} Big Data Bureau",
        DepartmentKind.BUREAU,
        ROOT_ID,
        city_code,
    )
    for did, zh, en in DEPARTMENTS:
        dept(
            did,
            f"{city_name_zh}{zh}",
            f"{city_name_en} {en}",
            DepartmentKind.DEPARTMENT,
            ROOT_ID,
            city_code,
        )
    for county in counties:
        dept(
            district_id(county.code),
            f"{county.name_zh}人民政府",
            f"{county.name_en} Government",
            DepartmentKind.DISTRICT,
            ROOT_ID,
            county.code,
        )

    created: list[Credential] = []
    for username, display, dept_id, role in _users(counties):
        try:
            accounts.find_user(username)
            continue
        except NotFound:
            pass
        password = secrets.token_urlsafe(12)
        accounts.create_user(ctx, username, display, dept_id, frozenset({role}), password)
        created.append(Credential(username, role, dept_id, password))
    try:
        app_user = accounts.find_user("demo-app")
    except NotFound:
        app_user = accounts.create_user(
            ctx, "demo-app", "示例应用 Demo app", "transport", frozenset({Role.APP})
        )
        _, key = accounts.create_api_key(ctx, app_user.id, "demo app key")
        created.append(Credential("demo-app", Role.APP, "transport", key, kind="api_key"))
    return created
