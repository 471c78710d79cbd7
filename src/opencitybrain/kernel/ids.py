"""Identifier helpers: sortable, URL-safe, collision-resistant ids."""

from __future__ import annotations

import os
import random
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]  # every 10-bit group, as 2 chars
_SHIFTS = tuple(range(120, -1, -10))


# Ids must not collide, but they are not secrets (secrets come from new_secret). A
# generator seeded from the OS, reseeded in every forked child, serves them: os.urandom
# is a system call that lets other threads take the interpreter on each id (measured: a
# PATCH makes two ids, and each handed the group-commit writer its whole time slice).
_rng = random.Random()  # noqa: S311 - uniqueness, not secrecy
os.register_at_fork(after_in_child=_rng.seed)


def new_id() -> str:
    """Return a new ULID-style id: 48-bit millisecond time + 80 random bits, 26 chars."""
    # Wall time only orders ids; it is not domain time, so no Clock here.
    value = (int(time.time() * 1000) << 80) | _rng.getrandbits(80)  # noqa: TID251
    return encode_id(value)


def encode_id(value: int) -> str:
    """Return a 128-bit number as 26 Crockford base32 characters, most significant first."""
    # 26 characters hold 130 bits (two leading zeros): thirteen 10-bit groups, each two
    # characters from a table of all 1,024 pairs. 1.6 µs against 4.5 µs for the standard
    # library's base32 (pure Python in 3.11) and a translation; every event takes an id.
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in _SHIFTS])


def new_secret(nbytes: int = 32) -> str:
    """Return a new URL-safe random secret."""
    return os.urandom(nbytes).hex()
