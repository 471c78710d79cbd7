"""Edge detection: the per-slot fast path answers exactly as the general (key, point) path."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from opencitybrain.apps.fleet.alerts import transitions


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[int], list[bool], list[int]]:
    """Draw a batch sorted by slot (points per slot), where the condition holds, prior keys."""
    slots = sorted(draw(st.lists(st.integers(0, 5), min_size=1, max_size=30)))
    held = draw(st.lists(st.booleans(), min_size=len(slots), max_size=len(slots)))
    prior = draw(st.lists(st.integers(0, 7), unique=True, max_size=6))
    return slots, held, prior


@settings(max_examples=300, deadline=None)
@given(batches())
def test_slot_keys_take_the_fast_path_with_the_same_answer(
    batch: tuple[list[int], list[bool], list[int]],
) -> None:
    slot_list, held, prior_list = batch
    slots = np.asarray(slot_list, dtype=np.int64)
    first = np.ones(len(slots), dtype=np.bool_)
    first[1:] = slots[1:] != slots[:-1]
    last = np.ones(len(slots), dtype=np.bool_)
    last[:-1] = first[1:]
    first_of_slot = np.full(8, -1, dtype=np.int64)
    first_of_slot[slots[first]] = np.flatnonzero(first)
    point = np.flatnonzero(held)
    prior = np.asarray(prior_list, dtype=np.int64)
    fast = transitions(first, last, first_of_slot, point, slots[point], prior, 1)
    # The same keys spread over two keys per slot (sub-key 0) take the general path.
    general = transitions(first, last, first_of_slot, point, slots[point] * 2, prior * 2, 2)
    np.testing.assert_array_equal(fast.open_pair, general.open_pair)
    np.testing.assert_array_equal(fast.close_point, general.close_point)
    np.testing.assert_array_equal(fast.close_key * 2, general.close_key)
