"""Tests for saving and loading generated divisions."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import shapely

from opencitybrain.geo.divisions_cache import (
    divisions_key,
    load_divisions,
    load_or_build_divisions,
    save_divisions,
)

from .nanchang_data import nanchang_counties_aligned, nanchang_divisions, nanchang_roads


def test_round_trip_is_exact(tmp_path: Path) -> None:
    original = nanchang_divisions()
    path = tmp_path / "divisions.npz"
    save_divisions(original, path)
    start = time.perf_counter()
    loaded = load_divisions(path)
    elapsed = time.perf_counter() - start
    assert loaded is not None
    assert elapsed < 1.0  # ~15 ms measured
    assert loaded.counts() == original.counts()
    for level in ("county", "street", "community"):
        before, after = original.regions(level), loaded.regions(level)
        assert [(r.code, r.name_zh, r.level, r.parent_code) for r in before] == [
            (r.code, r.name_zh, r.level, r.parent_code) for r in after
        ]
        assert all(
            shapely.equals_exact(a.geometry, b.geometry, tolerance=0.0)
            for a, b in zip(before, after, strict=True)
        )
    for name in ("code", "community", "col", "row", "split", "lon", "lat"):
        np.testing.assert_array_equal(getattr(loaded.grids, name), getattr(original.grids, name))
    assert loaded.projection.epsg == original.projection.epsg


def test_key_tracks_every_input() -> None:
    counties, roads = nanchang_counties_aligned(), nanchang_roads()
    key = divisions_key(counties, roads, 0)
    assert key == divisions_key(counties, roads, 0)
    assert key != divisions_key(counties, roads, 1)
    assert key != divisions_key(counties, roads[:-1], 0)
    assert key != divisions_key(counties[1:], roads, 0)
    nudged = [*roads[:-1], roads[-1] + 1e-9]
    assert key != divisions_key(counties, nudged, 0)


def test_load_or_build_uses_the_cache_only_for_the_same_inputs(tmp_path: Path) -> None:
    counties, roads = nanchang_counties_aligned(), nanchang_roads()
    path = tmp_path / "nanchang.npz"
    built = load_or_build_divisions(path, counties, roads, seed=0)
    assert path.exists()
    assert built.cache_key == divisions_key(counties, roads, 0)
    start = time.perf_counter()
    again = load_or_build_divisions(path, counties, roads, seed=0)
    assert time.perf_counter() - start < 1.0
    assert again.cache_key == built.cache_key
    np.testing.assert_array_equal(again.grids.code, built.grids.code)
    assert load_divisions(path, expected_key="0" * 64) is None
    # Another seed is another key: the file is rebuilt and replaced.
    reseeded = load_or_build_divisions(path, counties, roads, seed=2)
    assert reseeded.cache_key == divisions_key(counties, roads, 2)
    assert load_divisions(path, expected_key=built.cache_key) is None


def test_missing_or_corrupt_files_load_as_none(tmp_path: Path) -> None:
    assert load_divisions(tmp_path / "absent.npz") is None
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip file")
    assert load_divisions(broken) is None
    whole = tmp_path / "whole.npz"
    save_divisions(nanchang_divisions(), whole)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert load_divisions(truncated) is None
    partial = tmp_path / "partial.npz"
    np.savez(partial, meta=np.array('{"version": 1}'))
    assert load_divisions(partial) is None
