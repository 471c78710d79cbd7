"""The accounts store: its port and the SQL implementation (SQLite and PostgreSQL).

Engines come from ``adapters.sql.make_engine``, which hands back aware UTC datetimes on
both engines.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa

from opencitybrain.accounts.model import ApiKey, Department, DepartmentKind, Role, User
from opencitybrain.accounts.tables import api_keys, departments, users
from opencitybrain.kernel.errors import Conflict


class AccountStore(Protocol):
    """Persist departments, users and API keys."""

    def add_department(self, dept: Department) -> None:
        """Insert a department; raise Conflict if its id exists."""
        ...

    def get_department(self, dept_id: str) -> Department | None:
        """Return a department or None."""
        ...

    def list_departments(self) -> list[Department]:
        """Return every department, ordered by id."""
        ...

    def add_user(self, user: User, password_hash: str | None) -> None:
        """Insert a user; raise Conflict if the username exists."""
        ...

    def get_user(self, user_id: str) -> User | None:
        """Return a user by id or None."""
        ...

    def find_login(self, username: str) -> tuple[User, str | None] | None:
        """Return a user and its password hash by username, or None."""
        ...

    def list_users(self, department_id: str | None = None) -> list[User]:
        """Return users, optionally of one department, ordered by username."""
        ...

    def set_user_active(self, user_id: str, active: bool) -> bool:
        """Enable or disable a user; return False if there is no such user."""
        ...

    def set_password_hash(self, user_id: str, password_hash: str) -> bool:
        """Replace a user's password hash; return False if there is no such user."""
        ...

    def add_api_key(self, key: ApiKey, secret_hash: str) -> None:
        """Insert an API key record."""
        ...

    def get_api_key(self, key_id: str) -> tuple[ApiKey, str] | None:
        """Return a key record and its secret hash, or None."""
        ...

    def list_api_keys(self, user_id: str) -> list[ApiKey]:
        """Return a user's keys, newest first."""
        ...

    def revoke_api_key(self, key_id: str, at: datetime) -> bool:
        """Mark a key revoked; return False if there is no such key."""
        ...

    def touch_api_key(self, key_id: str, at: datetime) -> None:
        """Record the last use of a key."""
        ...


def _dept(row: sa.Row[Any]) -> Department:
    return Department(
        id=row.id,
        name_zh=row.name_zh,
        name_en=row.name_en,
        kind=DepartmentKind(row.kind),
        parent_id=row.parent_id,
        region_code=row.region_code,
        created_at=row.created_at,
    )


def _user(row: sa.Row[Any]) -> User:
    return User(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        department_id=row.department_id,
        roles=frozenset(Role(r) for r in row.roles),
        is_active=bool(row.is_active),
        created_at=row.created_at,
    )


def _key(row: sa.Row[Any]) -> ApiKey:
    return ApiKey(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


class SqlAccountStore:
    """Keep accounts in the platform's SQL database."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def _insert(self, stmt: sa.Insert, what_zh: str, what_en: str) -> None:
        try:
            with self._engine.begin() as conn:
                conn.execute(stmt)
        except sa.exc.IntegrityError as exc:
            raise Conflict(
                "accounts.already_exists",
                f"{what_zh}已存在，或引用了不存在的记录",
                f"the {what_en} exists already or refers to a missing record",
            ) from exc

    def add_department(self, dept: Department) -> None:
        """Insert a department; raise Conflict if its id exists."""
        stmt = departments.insert().values(
            id=dept.id,
            name_zh=dept.name_zh,
            name_en=dept.name_en,
            kind=dept.kind.value,
            parent_id=dept.parent_id,
            region_code=dept.region_code,
            created_at=dept.created_at,
        )
        self._insert(stmt, "部门", "department")

    def get_department(self, dept_id: str) -> Department | None:
        """Return a department or None."""
        with self._engine.connect() as conn:
            row = conn.execute(departments.select().where(departments.c.id == dept_id)).first()
        return _dept(row) if row else None

    def list_departments(self) -> list[Department]:
        """Return every department, ordered by id."""
        with self._engine.connect() as conn:
            rows = conn.execute(departments.select().order_by(departments.c.id)).all()
        return [_dept(r) for r in rows]

    def add_user(self, user: User, password_hash: str | None) -> None:
        """Insert a user; raise Conflict if the username exists."""
        stmt = users.insert().values(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            department_id=user.department_id,
            roles=sorted(r.value for r in user.roles),
            password_hash=password_hash,
            is_active=user.is_active,
            created_at=user.created_at,
        )
        self._insert(stmt, "用户", "user")

    def get_user(self, user_id: str) -> User | None:
        """Return a user by id or None."""
        with self._engine.connect() as conn:
            row = conn.execute(users.select().where(users.c.id == user_id)).first()
        return _user(row) if row else None

    def find_login(self, username: str) -> tuple[User, str | None] | None:
        """Return a user and its password hash by username, or None."""
        with self._engine.connect() as conn:
            row = conn.execute(users.select().where(users.c.username == username)).first()
        return (_user(row), row.password_hash) if row else None

    def list_users(self, department_id: str | None = None) -> list[User]:
        """Return users, optionally of one department, ordered by username."""
        stmt = users.select().order_by(users.c.username)
        if department_id is not None:
            stmt = stmt.where(users.c.department_id == department_id)
        with self._engine.connect() as conn:
            rows: Sequence[sa.Row[Any]] = conn.execute(stmt).all()
        return [_user(r) for r in rows]

    def set_user_active(self, user_id: str, active: bool) -> bool:
        """Enable or disable a user; return False if there is no such user."""
        with self._engine.begin() as conn:
            res = conn.execute(users.update().where(users.c.id == user_id).values(is_active=active))
        return res.rowcount > 0

    def set_password_hash(self, user_id: str, password_hash: str) -> bool:
        """Replace a user's password hash; return False if there is no such user."""
        with self._engine.begin() as conn:
            res = conn.execute(
                users.update().where(users.c.id == user_id).values(password_hash=password_hash)
            )
        return res.rowcount > 0

    def add_api_key(self, key: ApiKey, secret_hash: str) -> None:
        """Insert an API key record."""
        stmt = api_keys.insert().values(
            id=key.id,
            user_id=key.user_id,
            name=key.name,
            secret_hash=secret_hash,
            created_at=key.created_at,
            expires_at=key.expires_at,
            revoked_at=key.revoked_at,
            last_used_at=key.last_used_at,
        )
        self._insert(stmt, "密钥", "API key")

    def get_api_key(self, key_id: str) -> tuple[ApiKey, str] | None:
        """Return a key record and its secret hash, or None."""
        with self._engine.connect() as conn:
            row = conn.execute(api_keys.select().where(api_keys.c.id == key_id)).first()
        return (_key(row), row.secret_hash) if row else None

    def list_api_keys(self, user_id: str) -> list[ApiKey]:
        """Return a user's keys, newest first."""
        stmt = (
            api_keys.select()
            .where(api_keys.c.user_id == user_id)
            .order_by(api_keys.c.created_at.desc(), api_keys.c.id.desc())
        )
        with self._engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [_key(r) for r in rows]

    def revoke_api_key(self, key_id: str, at: datetime) -> bool:
        """Mark a key revoked; return False if there is no such key."""
        with self._engine.begin() as conn:
            res = conn.execute(
                api_keys.update()
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
        return res.rowcount > 0

    def touch_api_key(self, key_id: str, at: datetime) -> None:
        """Record the last use of a key."""
        with self._engine.begin() as conn:
            conn.execute(api_keys.update().where(api_keys.c.id == key_id).values(last_used_at=at))
