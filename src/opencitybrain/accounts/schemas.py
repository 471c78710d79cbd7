"""Request and response bodies of the accounts API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from opencitybrain.accounts.model import (
    ROLE_NAMES,
    ApiKey,
    Department,
    DepartmentKind,
    Role,
    User,
    permissions_of,
)
from opencitybrain.apikit.bodies import StrictBody


class DepartmentOut(BaseModel):
    """A department as the API shows it."""

    id: str
    name_zh: str
    name_en: str
    kind: DepartmentKind
    parent_id: str | None
    region_code: str | None

    @classmethod
    def of(cls, d: Department) -> DepartmentOut:
        """Build from the domain object."""
        return cls(
            id=d.id,
            name_zh=d.name_zh,
            name_en=d.name_en,
            kind=d.kind,
            parent_id=d.parent_id,
            region_code=d.region_code,
        )


class DepartmentIn(StrictBody):
    """A new department."""

    id: str = Field(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")
    name_zh: str = Field(min_length=1, max_length=200, pattern=r"[^\s]")
    name_en: str = Field(min_length=1, max_length=200, pattern=r"[^\s]")
    kind: DepartmentKind
    parent_id: str | None = Field(None, max_length=64)
    region_code: str | None = Field(None, pattern=r"^\d{6}(\d{3}){0,3}$")


class UserOut(BaseModel):
    """A user as the API shows it (never any secret)."""

    id: str
    username: str
    display_name: str
    department_id: str
    roles: list[Role]
    is_active: bool
    created_at: datetime

    @classmethod
    def of(cls, u: User) -> UserOut:
        """Build from the domain object."""
        return cls(
            id=u.id,
            username=u.username,
            display_name=u.display_name,
            department_id=u.department_id,
            roles=sorted(u.roles),
            is_active=u.is_active,
            created_at=u.created_at,
        )


class UserIn(StrictBody):
    """A new user."""

    username: str = Field(min_length=3, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$")
    display_name: str = Field(min_length=1, max_length=200, pattern=r"[^\s]")
    department_id: str = Field(min_length=2, max_length=64)
    roles: list[Role] = Field(min_length=1, max_length=len(Role))
    password: str | None = Field(None, min_length=12, max_length=256)


class UserPatch(StrictBody):
    """A change to a user."""

    is_active: bool


class MeOut(BaseModel):
    """The caller: who, which department, which roles and permissions."""

    id: str
    username: str
    display_name: str
    department: DepartmentOut
    roles: list[Role]
    role_names: dict[str, list[str]]
    permissions: list[str]
    auth_method: str

    @classmethod
    def of(cls, user: User, dept: Department, method: str) -> MeOut:
        """Build from the user, its department and how it signed in."""
        return cls(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            department=DepartmentOut.of(dept),
            roles=sorted(user.roles),
            role_names={r.value: list(ROLE_NAMES[r]) for r in sorted(user.roles)},
            permissions=sorted(p.value for p in permissions_of(user.roles)),
            auth_method=method,
        )


class ApiKeyOut(BaseModel):
    """An API key's public record."""

    id: str
    user_id: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, k: ApiKey) -> ApiKeyOut:
        """Build from the domain object."""
        return cls(
            id=k.id,
            user_id=k.user_id,
            name=k.name,
            created_at=k.created_at,
            expires_at=k.expires_at,
            revoked_at=k.revoked_at,
            last_used_at=k.last_used_at,
        )


class ApiKeyIn(StrictBody):
    """A request for a new API key."""

    name: str = Field(min_length=1, max_length=200, pattern=r"[^\s]")
    ttl_days: int | None = Field(None, ge=1, le=3650)


class ApiKeyCreated(ApiKeyOut):
    """A new key, with the secret shown this one time."""

    key: str = Field(description="完整密钥，仅显示一次 / the full key, shown only once")
    client_id: str = Field(description="OAuth2 client_id (the key id)")
    client_secret: str = Field(description="OAuth2 client_secret (shown only once)")


class TokenOut(BaseModel):
    """An OAuth2 token response."""

    access_token: str
    token_type: str
    expires_in: int
