"""HTTP routes of accounts: sign-in and tokens, the org tree, users and API keys."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request

from opencitybrain.accounts.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    DepartmentIn,
    DepartmentOut,
    MeOut,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)
from opencitybrain.accounts.service import AccountService
from opencitybrain.apikit.auth import (
    AccountsAdmin,
    AccountsReader,
    KeyOwner,
    Public,
    principal_of,
    require,
)
from opencitybrain.apikit.problems import CONFLICT_RESPONSE, PROBLEM_RESPONSES
from opencitybrain.apikit.services import registry
from opencitybrain.kernel.errors import InvalidInput, Unauthenticated
from opencitybrain.kernel.events import Context

router = APIRouter(prefix="/api/v1", tags=["accounts 账户"], responses=PROBLEM_RESPONSES)
Authenticated = Annotated[Context, Depends(require())]


async def _accounts(request: Request) -> AccountService:
    return registry(request).get(AccountService)


Accounts = Annotated[AccountService, Depends(_accounts)]


def _basic_client(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        raw = base64.b64decode(header[6:], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    cid, sep, secret = raw.partition(":")
    return (cid, secret) if sep else None


@router.post("/auth/token", dependencies=[Public], response_model=TokenOut)
def token(
    request: Request,
    accounts: Accounts,
    grant_type: Annotated[str, Form(max_length=32)],
    username: Annotated[str | None, Form(max_length=64)] = None,
    password: Annotated[str | None, Form(max_length=256)] = None,
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=256)] = None,
    scope: Annotated[str | None, Form(max_length=500)] = None,
) -> TokenOut:
    """Exchange a password (users) or client credentials (apps) for a bearer token."""
    if grant_type == "password":
        if not username or not password:
            raise Unauthenticated("auth.bad_credentials", "用户名或密码错误", "wrong credentials")
        principal = accounts.sign_in(username, password)
    elif grant_type == "client_credentials":
        basic = _basic_client(request)
        cid, secret = basic if basic else (client_id, client_secret)
        if not cid or not secret:
            raise Unauthenticated("auth.bad_client", "客户端凭证无效", "invalid client credentials")
        principal = accounts.client_credentials(cid, secret)
    else:
        raise InvalidInput(
            "oauth.unsupported_grant_type",
            "不支持的授权类型（支持 password、client_credentials）",
            "unsupported grant_type (password, client_credentials)",
        )
    issued = accounts.issue_token(principal)
    return TokenOut(
        access_token=issued.access_token, token_type=issued.token_type, expires_in=issued.expires_in
    )


@router.get("/auth/me", response_model=MeOut)
def me(request: Request, ctx: Authenticated, accounts: Accounts) -> MeOut:
    """Return who the caller is."""
    principal = principal_of(request)
    user = accounts.user(principal.user_id)
    return MeOut.of(user, accounts.department(user.department_id), principal.method.value)


@router.get("/departments", response_model=list[DepartmentOut])
def departments(ctx: AccountsReader, accounts: Accounts) -> list[DepartmentOut]:
    """List the org tree: the bureau, departments, districts and streets."""
    return [DepartmentOut.of(d) for d in accounts.departments()]


@router.get("/departments/{dept_id}", response_model=DepartmentOut)
def department(dept_id: str, ctx: AccountsReader, accounts: Accounts) -> DepartmentOut:
    """Return one department."""
    return DepartmentOut.of(accounts.department(dept_id))


@router.post(
    "/departments", response_model=DepartmentOut, status_code=201, responses=CONFLICT_RESPONSE
)
def create_department(body: DepartmentIn, ctx: AccountsAdmin, accounts: Accounts) -> DepartmentOut:
    """Add a department or district to the org tree."""
    dept = accounts.create_department(
        ctx, body.id, body.name_zh, body.name_en, body.kind, body.parent_id, body.region_code
    )
    return DepartmentOut.of(dept)


@router.get("/users", response_model=list[UserOut])
def users(
    ctx: AccountsReader, accounts: Accounts, department_id: str | None = None
) -> list[UserOut]:
    """List users, optionally of one department."""
    return [UserOut.of(u) for u in accounts.users(ctx, department_id)]


@router.get("/users/{user_id}", response_model=UserOut)
def user(user_id: str, ctx: AccountsReader, accounts: Accounts) -> UserOut:
    """Return one user."""
    return UserOut.of(accounts.user(user_id))


@router.post("/users", response_model=UserOut, status_code=201, responses=CONFLICT_RESPONSE)
def create_user(body: UserIn, ctx: AccountsAdmin, accounts: Accounts) -> UserOut:
    """Add a user with roles to a department."""
    created = accounts.create_user(
        ctx,
        body.username,
        body.display_name,
        body.department_id,
        frozenset(body.roles),
        body.password,
    )
    return UserOut.of(created)


@router.patch("/users/{user_id}", response_model=UserOut)
def patch_user(user_id: str, body: UserPatch, ctx: AccountsAdmin, accounts: Accounts) -> UserOut:
    """Enable or disable a user."""
    return UserOut.of(accounts.set_active(ctx, user_id, body.is_active))


@router.get("/users/{user_id}/api-keys", response_model=list[ApiKeyOut])
def api_keys(user_id: str, ctx: KeyOwner, accounts: Accounts) -> list[ApiKeyOut]:
    """List a user's API keys (own keys, or any for the bureau)."""
    return [ApiKeyOut.of(k) for k in accounts.api_keys(ctx, user_id)]


@router.post("/users/{user_id}/api-keys", response_model=ApiKeyCreated, status_code=201)
def create_api_key(
    user_id: str, body: ApiKeyIn, ctx: KeyOwner, accounts: Accounts
) -> ApiKeyCreated:
    """Create an API key; the secret is shown this one time only."""
    key, plaintext = accounts.create_api_key(ctx, user_id, body.name, body.ttl_days)
    secret = plaintext.partition(".")[2]
    return ApiKeyCreated(
        **ApiKeyOut.of(key).model_dump(), key=plaintext, client_id=key.id, client_secret=secret
    )


@router.delete("/api-keys/{key_id}", status_code=204)
def revoke_api_key(key_id: str, ctx: KeyOwner, accounts: Accounts) -> None:
    """Revoke an API key."""
    accounts.revoke_api_key(ctx, key_id)
