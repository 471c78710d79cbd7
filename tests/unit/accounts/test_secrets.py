from hypothesis import given, settings
from hypothesis import strategies as st

from opencitybrain.accounts.secrets import (
    hash_key_secret,
    hash_password,
    key_secret_matches,
    verify_password,
)


@settings(max_examples=5, deadline=None)
@given(st.text(min_size=12, max_size=64))
def test_password_hash_round_trip(password: str) -> None:
    stored = hash_password(password)
    assert password not in stored
    assert verify_password(password, stored)
    assert not verify_password(password + "x", stored)


def test_same_password_gets_different_salts() -> None:
    assert hash_password("same-password") != hash_password("same-password")


def test_garbage_hashes_never_verify() -> None:
    for bad in ["", "scrypt$", "bcrypt$1$2$3$aa$bb", "scrypt$x$8$1$00$00"]:
        assert not verify_password("pw", bad)


@given(st.text(alphabet="0123456789abcdef", min_size=8, max_size=64))
def test_key_secret_hash(secret: str) -> None:
    assert key_secret_matches(secret, hash_key_secret(secret))
    assert not key_secret_matches(secret + "0", hash_key_secret(secret))
