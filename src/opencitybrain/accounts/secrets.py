"""Password and API-key hashing (stdlib only; secrets are never stored in clear)."""

from __future__ import annotations

import hashlib
import hmac
import os

_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    """Return an scrypt hash string of the password with a fresh salt."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Tell whether the password matches the stored scrypt hash."""
    try:
        scheme, n, r, p, salt_hex, digest_hex = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            password.encode(),
            salt=bytes.fromhex(salt_hex),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(digest_hex) // 2,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)


def hash_key_secret(secret: str) -> str:
    """Return the SHA-256 of a high-entropy API-key secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def key_secret_matches(secret: str, stored_hash: str) -> bool:
    """Tell, in constant time, whether an API-key secret matches its stored hash."""
    return hmac.compare_digest(hash_key_secret(secret), stored_hash)
