from datetime import timedelta

import pytest

from opencitybrain.accounts.model import AuthMethod, DepartmentKind, Permission, Role
from opencitybrain.accounts.service import AccountService
from opencitybrain.kernel.clock import ManualClock
from opencitybrain.kernel.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
)

from .conftest import PASSWORD, ctx_of


def test_sign_in_and_token_round_trip(accounts: AccountService) -> None:
    principal = accounts.sign_in("staff", PASSWORD)
    assert principal.method is AuthMethod.PASSWORD
    assert principal.department_id == "transport"
    assert Permission.CITY_READ in principal.permissions
    assert Permission.ACCOUNTS_ADMIN not in principal.permissions
    token = accounts.issue_token(principal)
    back = accounts.from_token(token.access_token)
    assert back.user_id == principal.user_id
    assert back.roles == frozenset({Role.DEPARTMENT_STAFF})


@pytest.mark.parametrize(("user", "pw"), [("staff", "wrong-password-x"), ("nobody", PASSWORD)])
def test_wrong_credentials_are_refused_alike(accounts: AccountService, user: str, pw: str) -> None:
    with pytest.raises(Unauthenticated) as err:
        accounts.sign_in(user, pw)
    assert err.value.code == "auth.bad_credentials"


def test_token_expires_on_the_platform_clock(accounts: AccountService, clock: ManualClock) -> None:
    token = accounts.issue_token(accounts.sign_in("staff", PASSWORD))
    clock.advance(599)
    accounts.from_token(token.access_token)
    clock.advance(2)
    with pytest.raises(Unauthenticated) as err:
        accounts.from_token(token.access_token)
    assert err.value.code == "auth.token_expired"


def test_tampered_token_is_refused(accounts: AccountService) -> None:
    token = accounts.issue_token(accounts.sign_in("citizen", PASSWORD)).access_token
    head, payload, sig = token.split(".")
    with pytest.raises(Unauthenticated):
        accounts.from_token(f"{head}.{payload}.{sig[::-1]}")
    with pytest.raises(Unauthenticated):
        accounts.from_token("not-a-jwt")


def test_disabled_user_loses_password_token_and_keys(accounts: AccountService) -> None:
    admin = ctx_of(accounts, "admin")
    staff = accounts.find_user("staff")
    token = accounts.issue_token(accounts.sign_in("staff", PASSWORD)).access_token
    _, key = accounts.create_api_key(ctx_of(accounts, "staff"), staff.id, "mine")
    assert accounts.from_token(token) is accounts.from_token(token)  # kept between requests
    accounts.set_active(admin, staff.id, False)
    with pytest.raises(Unauthenticated):
        accounts.sign_in("staff", PASSWORD)
    with pytest.raises(Unauthenticated):
        accounts.from_token(token)
    with pytest.raises(Unauthenticated):
        accounts.from_api_key(key)
    accounts.set_active(admin, staff.id, True)  # the kept principal was dropped with the user
    assert accounts.from_token(token).user_id == staff.id


def test_api_key_life_cycle(accounts: AccountService, clock: ManualClock) -> None:
    staff_ctx = ctx_of(accounts, "staff")
    record, key = accounts.create_api_key(staff_ctx, staff_ctx.actor, "sensor gateway", ttl_days=1)
    assert key.startswith("cbk_")
    assert record.id in key
    principal = accounts.from_api_key(key)
    assert principal.method is AuthMethod.API_KEY
    listed = accounts.api_keys(staff_ctx, staff_ctx.actor)
    assert [k.id for k in listed] == [record.id]
    assert listed[0].last_used_at is not None
    secret = key.partition(".")[2]
    assert accounts.client_credentials(record.id, secret).method is AuthMethod.CLIENT_CREDENTIALS
    with pytest.raises(Unauthenticated):
        accounts.client_credentials(record.id, secret + "x")
    clock.advance(timedelta(days=1, seconds=1).total_seconds())
    with pytest.raises(Unauthenticated) as err:
        accounts.from_api_key(key)
    assert err.value.code == "auth.key_expired"


def test_revoked_key_is_refused(accounts: AccountService) -> None:
    staff_ctx = ctx_of(accounts, "staff")
    record, key = accounts.create_api_key(staff_ctx, staff_ctx.actor, "k")
    accounts.revoke_api_key(staff_ctx, record.id)
    with pytest.raises(Unauthenticated):
        accounts.from_api_key(key)
    with pytest.raises(NotFound):
        accounts.revoke_api_key(staff_ctx, "nope")


@pytest.mark.parametrize("bad", ["", "cbk_", "cbk_abc", "xyz.abc", "cbk_.secret"])
def test_malformed_keys_are_refused(accounts: AccountService, bad: str) -> None:
    with pytest.raises(Unauthenticated):
        accounts.from_api_key(bad)


def test_only_the_bureau_administers(accounts: AccountService) -> None:
    staff_ctx = ctx_of(accounts, "staff")
    admin_ctx = ctx_of(accounts, "admin")
    with pytest.raises(Forbidden):
        accounts.create_user(staff_ctx, "mallory", "M", "transport", frozenset({Role.BUREAU_ADMIN}))
    with pytest.raises(Forbidden):
        accounts.create_department(staff_ctx, "rogue", "流氓", "Rogue", DepartmentKind.DEPARTMENT)
    citizen = accounts.find_user("citizen")
    with pytest.raises(Forbidden):
        accounts.create_api_key(staff_ctx, citizen.id, "not mine")
    with pytest.raises(Forbidden):
        accounts.users(ctx_of(accounts, "citizen"))
    # The bureau may act for others.
    accounts.create_api_key(admin_ctx, citizen.id, "issued by bureau")


def test_bad_input_is_refused_with_codes(accounts: AccountService) -> None:
    admin = ctx_of(accounts, "admin")
    with pytest.raises(InvalidInput) as err:
        accounts.create_user(admin, "Bad Name", "x", "transport", frozenset({Role.CITIZEN}))
    assert err.value.code == "accounts.bad_username"
    with pytest.raises(InvalidInput) as err:
        accounts.create_user(admin, "shorty", "x", "transport", frozenset({Role.CITIZEN}), "short")
    assert err.value.code == "accounts.weak_password"
    with pytest.raises(NotFound):
        accounts.create_user(admin, "ghost", "x", "no-such-dept", frozenset({Role.CITIZEN}))
    with pytest.raises(Conflict):
        accounts.create_user(admin, "staff", "dup", "transport", frozenset({Role.CITIZEN}))
    with pytest.raises(NotFound):
        accounts.create_department(admin, "orphan", "孤", "Orphan", DepartmentKind.STREET, "nope")
    with pytest.raises(Conflict):
        accounts.create_department(admin, "transport", "重复", "Dup", DepartmentKind.DEPARTMENT)


def test_password_change(accounts: AccountService) -> None:
    staff_ctx = ctx_of(accounts, "staff")
    accounts.set_password(staff_ctx, staff_ctx.actor, "a-brand-new-password")
    with pytest.raises(Unauthenticated):
        accounts.sign_in("staff", PASSWORD)
    assert accounts.sign_in("staff", "a-brand-new-password").username == "staff"
    with pytest.raises(Forbidden):
        accounts.set_password(staff_ctx, accounts.find_user("admin").id, "x" * 20)
