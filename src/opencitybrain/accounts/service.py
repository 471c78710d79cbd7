"""Accounts use cases: the org tree, users, sign-in, tokens and API keys."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta

from opencitybrain.accounts.model import (
    ApiKey,
    AuthMethod,
    Department,
    DepartmentKind,
    Permission,
    Principal,
    Role,
    User,
    check_department_id,
    check_password,
    check_username,
    permissions_of,
)
from opencitybrain.accounts.secrets import (
    hash_key_secret,
    hash_password,
    key_secret_matches,
    verify_password,
)
from opencitybrain.accounts.store import AccountStore
from opencitybrain.accounts.tokens import AccessToken, TokenSigner
from opencitybrain.kernel.clock import Clock
from opencitybrain.kernel.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from opencitybrain.kernel.events import Context
from opencitybrain.kernel.ids import new_id, new_secret

KEY_PREFIX = "cbk_"
CACHE_S = 5.0
_PRINCIPALS_MAX = 10_000
TOUCH_S = 60.0
_DUMMY_HASH = hash_password("dummy-password-for-timing")


def allowed(ctx: Context, permission: Permission) -> bool:
    """Tell whether the context's roles grant the permission (the system may do anything)."""
    if "system" in ctx.roles:
        return True
    roles = {Role(r) for r in ctx.roles if r in Role._value2member_map_}
    return permission in permissions_of(roles)


def ensure(ctx: Context, permission: Permission) -> None:
    """Raise Forbidden unless the context holds the permission."""
    if not allowed(ctx, permission):
        raise Forbidden(
            "auth.forbidden", f"没有权限：{permission.value}", f"permission denied: {permission}"
        )


def _bad_credentials() -> Unauthenticated:
    return Unauthenticated("auth.bad_credentials", "用户名或密码错误", "wrong username or password")


class AccountService:
    """Manage the org tree and users, and turn credentials into principals."""

    def __init__(self, store: AccountStore, clock: Clock, signer: TokenSigner) -> None:
        self._store = store
        self._clock = clock
        self._signer = signer
        # Every request authenticates: user and key records are cached briefly, so a
        # request costs no database read. Changes made here take effect at once; changes
        # made by another worker process within CACHE_S seconds.
        self._users: dict[str, tuple[float, User | None]] = {}
        self._keys: dict[str, tuple[float, tuple[ApiKey, str] | None]] = {}
        self._touched: dict[str, float] = {}
        # The principal a token gave, with the user record it was built from: reused
        # while that record is the one cached (a changed user is a new record).
        self._principals: dict[str, tuple[User, Principal]] = {}

    # --- org tree -------------------------------------------------------------------

    def create_department(
        self,
        ctx: Context,
        dept_id: str,
        name_zh: str,
        name_en: str,
        kind: DepartmentKind,
        parent_id: str | None = None,
        region_code: str | None = None,
    ) -> Department:
        """Add a node to the org tree under an existing parent."""
        ensure(ctx, Permission.ACCOUNTS_ADMIN)
        check_department_id(dept_id)
        if parent_id is not None and self._store.get_department(parent_id) is None:
            raise NotFound("accounts.no_parent", "上级部门不存在", f"no parent {parent_id!r}")
        if not name_zh.strip() or not name_en.strip():
            raise InvalidInput("accounts.no_name", "部门名称不能为空", "department names required")
        dept = Department(
            dept_id, name_zh.strip(), name_en.strip(), kind, parent_id, region_code, self._now()
        )
        self._store.add_department(dept)
        return dept

    def departments(self) -> list[Department]:
        """Return the whole org tree as a list ordered by id."""
        return self._store.list_departments()

    def department(self, dept_id: str) -> Department:
        """Return one department or raise NotFound."""
        dept = self._store.get_department(dept_id)
        if dept is None:
            raise NotFound("accounts.no_department", "部门不存在", f"no department {dept_id!r}")
        return dept

    # --- users ----------------------------------------------------------------------

    def create_user(
        self,
        ctx: Context,
        username: str,
        display_name: str,
        department_id: str,
        roles: frozenset[Role],
        password: str | None = None,
    ) -> User:
        """Add a user to a department; only the bureau may grant the admin role."""
        ensure(ctx, Permission.ACCOUNTS_ADMIN)
        check_username(username)
        if not roles:
            raise InvalidInput("accounts.no_roles", "至少需要一个角色", "at least one role")
        self.department(department_id)
        pw_hash = hash_password(check_password(password)) if password is not None else None
        user = User(
            new_id(),
            username,
            display_name.strip() or username,
            department_id,
            roles,
            True,
            self._now(),
        )
        self._store.add_user(user, pw_hash)
        return user

    def users(self, ctx: Context, department_id: str | None = None) -> list[User]:
        """List users (needs accounts:read)."""
        ensure(ctx, Permission.ACCOUNTS_READ)
        return self._store.list_users(department_id)

    def user(self, user_id: str) -> User:
        """Return one user or raise NotFound."""
        user = self._store.get_user(user_id)
        if user is None:
            raise NotFound("accounts.no_user", "用户不存在", f"no user {user_id!r}")
        return user

    def set_active(self, ctx: Context, user_id: str, active: bool) -> User:
        """Enable or disable a user (disabling also stops its keys and tokens)."""
        ensure(ctx, Permission.ACCOUNTS_ADMIN)
        found = self._store.set_user_active(user_id, active)
        self._users.pop(user_id, None)
        if not found:
            raise NotFound("accounts.no_user", "用户不存在", f"no user {user_id!r}")
        return self.user(user_id)

    def set_password(self, ctx: Context, user_id: str, password: str) -> None:
        """Set a user's password (its own, or anyone's with accounts:admin)."""
        if user_id != ctx.actor:
            ensure(ctx, Permission.ACCOUNTS_ADMIN)
        pw_hash = hash_password(check_password(password))
        if not self._store.set_password_hash(user_id, pw_hash):
            raise NotFound("accounts.no_user", "用户不存在", f"no user {user_id!r}")

    def find_user(self, username: str) -> User:
        """Return a user by username or raise NotFound."""
        found = self._store.find_login(username)
        if found is None:
            raise NotFound("accounts.no_user", "用户不存在", f"no user {username!r}")
        return found[0]

    # --- authentication -------------------------------------------------------------

    def sign_in(self, username: str, password: str) -> Principal:
        """Return the principal for a username and password, or raise Unauthenticated."""
        found = self._store.find_login(username)
        if found is None or found[1] is None:
            verify_password(password, _DUMMY_HASH)  # same work either way: no user probing
            raise _bad_credentials()
        user, pw_hash = found
        if not verify_password(password, pw_hash or "") or not user.is_active:
            raise _bad_credentials()
        return self._principal(user, AuthMethod.PASSWORD)

    def issue_token(self, principal: Principal) -> AccessToken:
        """Return a bearer token for the principal."""
        return self._signer.issue(principal, self._now())

    def from_token(self, token: str) -> Principal:
        """Return the principal of a bearer token if it and its user are still valid."""
        principal = self._signer.verify(token, self._now())
        user = self._user(principal.user_id)
        if user is None or not user.is_active:
            raise Unauthenticated("auth.user_inactive", "用户已停用", "user is disabled")
        known = self._principals.get(token)
        if known is not None and known[0] is user:
            return known[1]
        fresh = replace(principal, roles=user.roles, department_id=user.department_id)
        if len(self._principals) >= _PRINCIPALS_MAX:
            self._principals.clear()  # rare; rebuilding one costs a dataclass copy
        self._principals[token] = (user, fresh)
        return fresh

    def create_api_key(
        self, ctx: Context, user_id: str, name: str, ttl_days: int | None = None
    ) -> tuple[ApiKey, str]:
        """Create a key for a user (own keys, or any with accounts:admin); return it once."""
        ensure(ctx, Permission.KEYS_OWN)
        if user_id != ctx.actor:
            ensure(ctx, Permission.ACCOUNTS_ADMIN)
        self.user(user_id)
        if ttl_days is not None and not 1 <= ttl_days <= 3650:
            raise InvalidInput("accounts.bad_ttl", "有效期须为 1–3650 天", "ttl_days 1–3650")
        now = self._now()
        key = ApiKey(
            id=new_id().lower(),
            user_id=user_id,
            name=name.strip() or "key",
            created_at=now,
            expires_at=now + timedelta(days=ttl_days) if ttl_days else None,
            revoked_at=None,
            last_used_at=None,
        )
        secret = new_secret(24)
        self._store.add_api_key(key, hash_key_secret(secret))
        return key, f"{KEY_PREFIX}{key.id}.{secret}"

    def api_keys(self, ctx: Context, user_id: str) -> list[ApiKey]:
        """List a user's keys (own, or any with accounts:admin)."""
        ensure(ctx, Permission.KEYS_OWN)
        if user_id != ctx.actor:
            ensure(ctx, Permission.ACCOUNTS_ADMIN)
        return self._store.list_api_keys(user_id)

    def revoke_api_key(self, ctx: Context, key_id: str) -> None:
        """Revoke a key (own, or any with accounts:admin)."""
        found = self._store.get_api_key(key_id)
        if found is None:
            raise NotFound("accounts.no_key", "密钥不存在", f"no key {key_id!r}")
        ensure(ctx, Permission.KEYS_OWN)
        if found[0].user_id != ctx.actor:
            ensure(ctx, Permission.ACCOUNTS_ADMIN)
        self._store.revoke_api_key(key_id, self._now())
        self._keys.pop(key_id, None)

    def from_api_key(self, presented: str) -> Principal:
        """Return the principal of a presented ``cbk_<id>.<secret>`` key."""
        return self._check_key(presented, AuthMethod.API_KEY)

    def client_credentials(self, client_id: str, client_secret: str) -> Principal:
        """Return the principal of an OAuth2 client (client id = key id, secret = key secret)."""
        return self._check_key(
            f"{KEY_PREFIX}{client_id}.{client_secret}", AuthMethod.CLIENT_CREDENTIALS
        )

    def _check_key(self, presented: str, method: AuthMethod) -> Principal:
        bad = Unauthenticated("auth.bad_key", "API 密钥无效", "invalid API key")
        if not presented.startswith(KEY_PREFIX) or "." not in presented:
            raise bad
        key_id, _, secret = presented[len(KEY_PREFIX) :].partition(".")
        found = self._key(key_id)
        if found is None or not key_secret_matches(secret, found[1]):
            raise bad
        key, _ = found
        now = self._now()
        if not key.usable_at(now):
            raise Unauthenticated(
                "auth.key_expired", "API 密钥已过期或已吊销", "key expired or revoked"
            )
        user = self._user(key.user_id)
        if user is None or not user.is_active:
            raise Unauthenticated("auth.user_inactive", "用户已停用", "user is disabled")
        if time.monotonic() - self._touched.get(key.id, -TOUCH_S) >= TOUCH_S:
            self._touched[key.id] = time.monotonic()  # last use is kept to the minute
            self._store.touch_api_key(key.id, now)
        return self._principal(user, method)

    def _user(self, user_id: str) -> User | None:
        hit = self._users.get(user_id)
        if hit is not None and time.monotonic() - hit[0] < CACHE_S:
            return hit[1]
        user = self._store.get_user(user_id)
        self._users[user_id] = (time.monotonic(), user)
        return user

    def _key(self, key_id: str) -> tuple[ApiKey, str] | None:
        hit = self._keys.get(key_id)
        if hit is not None and time.monotonic() - hit[0] < CACHE_S:
            return hit[1]
        found = self._store.get_api_key(key_id)
        self._keys[key_id] = (time.monotonic(), found)
        return found

    def _principal(self, user: User, method: AuthMethod) -> Principal:
        return Principal(user.id, user.username, user.department_id, user.roles, method)

    def _now(self) -> datetime:
        return self._clock.now()
