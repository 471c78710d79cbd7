"""Identifier helpers: sortable, URL-safe, collision-resistant ids."""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32


def new_id() -> str:
    """Return a new ULID-style id: 48-bit millisecond time + 80 random bits, 26 chars."""
    # Wall time only orders ids; it is not domain time, so no Clock here.
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")  # noqa: TID251
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_secret(nbytes: int = 32) -> str:
    """Return a new URL-safe random secret."""
    return os.urandom(nbytes).hex()
