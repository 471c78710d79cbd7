"""Ids: 26 Crockford base32 characters, ordered by time, unique across forked workers."""

from __future__ import annotations

import os
import re
import time

from hypothesis import given
from hypothesis import strategies as st

from opencitybrain.kernel.ids import encode_id, new_id, new_secret

ID_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_encoding_is_base32_digits_most_significant_first(value: int) -> None:
    digits = [CROCKFORD[(value >> (5 * k)) & 31] for k in range(25, -1, -1)]
    assert encode_id(value) == "".join(digits)


def test_ids_are_crockford_base32_and_unique() -> None:
    ids = [new_id() for _ in range(20_000)]
    assert all(ID_RE.match(i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_ids_sort_by_time() -> None:
    first = new_id()
    time.sleep(0.002)
    assert new_id() > first


def test_a_forked_worker_draws_other_ids_than_its_parent() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a worker process forked by the server
        os.write(write, ",".join(new_id()[10:] for _ in range(50)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as child:
        theirs = set(child.read().split(","))
    ours = {new_id()[10:] for _ in range(50)}  # the random part only
    assert len(theirs) == 50
    assert not ours & theirs


def test_secrets_are_not_ids() -> None:
    assert len(new_secret()) == 64
    assert new_secret() != new_secret()
