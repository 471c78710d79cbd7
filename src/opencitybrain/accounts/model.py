"""Accounts domain: departments, users, roles, permissions and the authenticated principal."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from opencitybrain.kernel.errors import FieldError, InvalidInput


class DepartmentKind(StrEnum):
    """Kinds of node in the city's org tree."""

    CITY = "city"  # 市人民政府: the root of the tree
    BUREAU = "bureau"  # 大数据局: runs the platform
    DEPARTMENT = "department"  # 委办局
    DISTRICT = "district"  # 区县
    STREET = "street"  # 街道


class Role(StrEnum):
    """Roles a user may hold."""

    BUREAU_ADMIN = "bureau_admin"
    DEPARTMENT_STAFF = "department_staff"
    OPERATOR = "operator"
    GRID_WORKER = "grid_worker"
    CITIZEN = "citizen"
    APP = "app"


class Permission(StrEnum):
    """Permissions that routes and services check."""

    CITY_READ = "city:read"
    CLOCK_READ = "clock:read"
    CLOCK_CONTROL = "clock:control"
    ACCOUNTS_READ = "accounts:read"
    ACCOUNTS_ADMIN = "accounts:admin"
    KEYS_OWN = "keys:own"
    CASES_READ = "cases:read"
    CASES_REPORT = "cases:report"
    CASES_DISPATCH = "cases:dispatch"
    CASES_HANDLE = "cases:handle"
    CASES_VERIFY = "cases:verify"
    CASES_SUPERVISE = "cases:supervise"
    CASES_CLASSES = "cases:classes"
    CONTEXT_READ = "context:read"
    CONTEXT_WRITE = "context:write"
    CATALOG_READ = "catalog:read"
    CATALOG_PUBLISH = "catalog:publish"
    CATALOG_LOAD = "catalog:load"  # rows into the department's own resources
    FLEET_READ = "fleet:read"
    FLEET_INGEST = "fleet:ingest"
    FLEET_ADMIN = "fleet:admin"
    SHARING_REQUEST = "sharing:request"
    SHARING_DECIDE = "sharing:decide"
    SHARING_READ = "sharing:read"
    AUDIT_READ = "audit:read"
    BLOCKS_READ = "blocks:read"
    REGISTRY_READ = "registry:read"
    REGISTRY_REVIEW = "registry:review"


ROLE_NAMES: dict[Role, tuple[str, str]] = {
    Role.BUREAU_ADMIN: ("大数据局管理员", "Big-data bureau administrator"),
    Role.DEPARTMENT_STAFF: ("委办局工作人员", "Department staff"),
    Role.OPERATOR: ("指挥中心值班员", "Command-centre operator"),
    Role.GRID_WORKER: ("网格员", "Grid worker"),
    Role.CITIZEN: ("市民", "Citizen"),
    Role.APP: ("应用", "Application"),
}

_BASE = frozenset({Permission.CITY_READ, Permission.CLOCK_READ})
_LIVE = frozenset({Permission.CONTEXT_READ, Permission.CONTEXT_WRITE})
# Citizens see the city through apps and services, not the raw live state.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.BUREAU_ADMIN: frozenset(Permission),
    Role.DEPARTMENT_STAFF: _BASE | _LIVE | {Permission.ACCOUNTS_READ, Permission.KEYS_OWN},
    Role.OPERATOR: _BASE | _LIVE | {Permission.ACCOUNTS_READ, Permission.KEYS_OWN},
    Role.GRID_WORKER: _BASE | {Permission.CONTEXT_READ, Permission.KEYS_OWN},
    Role.CITIZEN: _BASE,
    Role.APP: _BASE | _LIVE,
}
# The resource catalogue is shared inside government by default: staff, operators and
# apps read it; department staff publish for their own department (the service checks).
_CATALOG_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.DEPARTMENT_STAFF: frozenset(
        {Permission.CATALOG_READ, Permission.CATALOG_PUBLISH, Permission.CATALOG_LOAD}
    ),
    Role.OPERATOR: frozenset({Permission.CATALOG_READ}),
    Role.APP: frozenset({Permission.CATALOG_READ}),
}
for _role, _granted in _CATALOG_GRANTS.items():
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _granted

# Cases (一网统管): grid workers report, handle and verify; the command centre files,
# dispatches and closes; department staff handle their own department's cases (the
# service checks whose case it is); the bureau supervises and edits the class table.
_CASE_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.OPERATOR: frozenset(
        {
            Permission.CASES_READ,
            Permission.CASES_REPORT,
            Permission.CASES_DISPATCH,
            Permission.CASES_VERIFY,
        }
    ),
    Role.DEPARTMENT_STAFF: frozenset({Permission.CASES_READ, Permission.CASES_HANDLE}),
    Role.GRID_WORKER: frozenset(
        {
            Permission.CASES_READ,
            Permission.CASES_REPORT,
            Permission.CASES_HANDLE,
            Permission.CASES_VERIFY,
        }
    ),
    Role.APP: frozenset({Permission.CASES_READ, Permission.CASES_REPORT}),
}
for _role, _cases in _CASE_GRANTS.items():
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _cases

# Key-vehicle supervision: terminals and gateways (apps) send positions; the command
# centre and department staff watch vehicles and alerts; the bureau edits the rules.
_FLEET_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.APP: frozenset({Permission.FLEET_INGEST, Permission.FLEET_READ}),
    Role.OPERATOR: frozenset({Permission.FLEET_READ}),
    Role.DEPARTMENT_STAFF: frozenset({Permission.FLEET_READ}),
}
for _role, _fleet in _FLEET_GRANTS.items():
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _fleet

# Block data and base registries: staff and operators read block figures (of their own
# area, the service narrows) and look up golden records (masked per grant); grid workers
# see their area's figures; the bureau (all permissions) reviews conflicting attributes.
_REGISTRY_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.DEPARTMENT_STAFF: frozenset({Permission.BLOCKS_READ, Permission.REGISTRY_READ}),
    Role.OPERATOR: frozenset({Permission.BLOCKS_READ, Permission.REGISTRY_READ}),
    Role.GRID_WORKER: frozenset({Permission.BLOCKS_READ}),
}
for _role, _registry in _REGISTRY_GRANTS.items():
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _registry

# Governed sharing: department staff request, decide for their own resources and read
# under grants (their own rows unmasked: those who decide on the data see it); apps read
# under their department's grants; the bureau (all permissions) also audits.
_SHARING_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.DEPARTMENT_STAFF: frozenset(
        {
            Permission.SHARING_REQUEST,
            Permission.SHARING_DECIDE,
            Permission.SHARING_READ,
        }
    ),
    Role.APP: frozenset({Permission.SHARING_READ}),
}
for _role, _sharing in _SHARING_GRANTS.items():
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _sharing


def permissions_of(roles: frozenset[Role] | set[Role]) -> frozenset[Permission]:
    """Return the union of the permissions the roles grant."""
    return _permissions(frozenset(roles))


@functools.lru_cache(maxsize=256)  # every request checks them; role sets are few
def _permissions(roles: frozenset[Role]) -> frozenset[Permission]:
    out: set[Permission] = set()
    for role in roles:
        out |= ROLE_PERMISSIONS[role]
    return frozenset(out)


_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
_DEPT_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")


def check_username(username: str) -> str:
    """Return the username if it is well-formed, else raise."""
    if not _USERNAME_RE.match(username):
        raise InvalidInput(
            "accounts.bad_username",
            "用户名须为 3–64 位小写字母、数字或 . _ -",
            "username must be 3–64 chars of a-z, 0-9, . _ -",
            (FieldError("username", "pattern ^[a-z0-9][a-z0-9._-]{2,63}$"),),
        )
    return username


def check_department_id(dept_id: str) -> str:
    """Return the department id if it is well-formed, else raise."""
    if not _DEPT_ID_RE.match(dept_id):
        raise InvalidInput(
            "accounts.bad_department_id",
            "部门编号须为 2–64 位小写字母、数字或 -",
            "department id must be 2–64 chars of a-z, 0-9, -",
            (FieldError("id", "pattern ^[a-z0-9][a-z0-9-]{1,63}$"),),
        )
    return dept_id


def check_password(password: str) -> str:
    """Return the password if it is strong enough, else raise."""
    if len(password) < 12 or len(password) > 256:
        raise InvalidInput(
            "accounts.weak_password",
            "密码长度须为 12–256 个字符",
            "password must be 12–256 characters",
            (FieldError("password", "length 12–256"),),
        )
    return password


@dataclass(frozen=True, slots=True)
class Department:
    """A node of the org tree: the bureau, a department, a district or a street office."""

    id: str
    name_zh: str
    name_en: str
    kind: DepartmentKind
    parent_id: str | None
    region_code: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class User:
    """A person or an application that signs in."""

    id: str
    username: str
    display_name: str
    department_id: str
    roles: frozenset[Role]
    is_active: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key's public record (the secret is never kept, only its hash)."""

    id: str
    user_id: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def usable_at(self, moment: datetime) -> bool:
        """Tell whether the key may be used at ``moment``."""
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or moment < self.expires_at


class AuthMethod(StrEnum):
    """How a principal proved who it is."""

    PASSWORD = "password"  # noqa: S105 - a method name, not a secret
    API_KEY = "api_key"
    CLIENT_CREDENTIALS = "client_credentials"


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of a request."""

    user_id: str
    username: str
    department_id: str
    roles: frozenset[Role]
    method: AuthMethod

    @property
    def permissions(self) -> frozenset[Permission]:
        """Return what this principal may do."""
        return permissions_of(self.roles)
