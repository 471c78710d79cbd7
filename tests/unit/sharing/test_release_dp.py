"""Differential privacy releases: OpenDP noise, its scale per query, parameter checks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pytest

from opencitybrain.catalog.model import (
    Change,
    DataType,
    FieldSpec,
    Level,
    Masking,
    Resource,
    Status,
)
from opencitybrain.kernel.errors import InvalidInput
from opencitybrain.sharing.release_dp import OVERALL, laplace, release_dp
from opencitybrain.sharing.release_model import DpSpec, KAnonSpec, check_dp, check_kanon
from tests.unit.catalog.samples import spec as sample_spec

FIELDS = (
    FieldSpec("person_id", "人员编号", DataType.STRING),
    FieldSpec("name", "姓名", DataType.STRING, Level.IMPORTANT, Masking.NAME),
    FieldSpec("id_number", "身份号码", DataType.CITIZEN_ID, Level.CORE, Masking.ID_NUMBER, True),
    FieldSpec("mobile", "手机", DataType.MOBILE),
    FieldSpec("county", "区县", DataType.STRING),
    FieldSpec("income", "收入", DataType.DECIMAL),
    FieldSpec("birth_date", "出生日期", DataType.DATE),
)


def resource(fields: tuple[FieldSpec, ...]) -> Resource:
    now = datetime(2026, 11, 22, tzinfo=UTC)
    s = sample_spec(fields=fields)
    return Resource("r1", "101001001/000001", 1, Status.ACTIVE, s, Level.CORE, now, now, "u",
                    Change.PUBLISHED)  # fmt: skip


def _people(n: int, seed: int = 3) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table({
        "county": rng.choice(["东湖区", "西湖区", "青山湖区"], n, p=[0.5, 0.3, 0.2]),
        "income": rng.uniform(0, 20_000, n),
    })  # fmt: skip


def test_noise_is_present_and_within_a_statistical_bound() -> None:
    # Laplace(b) exceeds t·b with probability e^-t: 40 draws over 12·b fail with p < 1e-3.
    exact = np.full(40, 1000.0)
    noisy, scale = laplace(exact, 1.0, 0.5)
    assert scale == 2.0
    assert not np.array_equal(noisy, exact)
    assert np.all(np.abs(noisy - exact) < 12 * scale)
    assert len(set(noisy.tolist())) > 30  # draws differ from one another


def test_counts_and_sums_per_category_with_epsilon_split_and_recorded() -> None:
    t = _people(20_000)
    spec = DpSpec(1.0, group_by="county", value_field="income", lower=0, upper=20_000)
    r = release_dp(t, spec)
    assert [q["query"] for q in r.queries] == ["count", "sum", "count by county", "sum by county"]
    assert all(q["epsilon"] == 0.25 for q in r.queries)
    assert r.epsilon_spent == pytest.approx(1.0)
    assert r.queries[1]["sensitivity"] == 20_000
    assert r.queries[1]["scale"] == 80_000
    assert r.categories_from_data
    rows = {row["group"]: row for row in r.table.to_pylist()}
    assert set(rows) == {OVERALL, "东湖区", "西湖区", "青山湖区"}
    exact = {c: int(v) for c, v in zip(*np.unique(t.column("county").to_numpy(False),
                                                   return_counts=True), strict=True)}  # fmt: skip
    # Count scale 4: |noise| < 60 fails with p = e^-15.
    assert abs(rows[OVERALL]["count"] - 20_000) < 60
    for c, n in exact.items():
        assert abs(rows[c]["count"] - n) < 60
        assert isinstance(rows[c]["count"], int)
    # Mean within a bound: sum noise scale 80,000 → |noise| < 1.2M w.p. 1 - e^-15.
    true_mean = float(np.mean(t.column("income").to_numpy()))
    assert abs(rows[OVERALL]["mean"] - true_mean) < 1_200_000 / 20_000 + 1
    assert rows[OVERALL]["sum"] == round(rows[OVERALL]["sum"], 2)


def test_declared_categories_are_used_and_cost_no_disclosure() -> None:
    t = _people(500)
    r = release_dp(t, DpSpec(2.0, group_by="county", categories=("东湖区", "湾里区")))
    assert not r.categories_from_data
    assert r.table.column("group").to_pylist() == [OVERALL, "东湖区", "湾里区"]
    assert r.table.column_names == ["group", "count"]
    assert len(r.queries) == 2
    assert r.queries[0]["epsilon"] == 1.0


def test_counts_never_go_below_zero() -> None:
    r = release_dp(pa.table({"county": pa.array([], pa.string())}), DpSpec(0.1, group_by="county",
                   categories=tuple(f"c{i}" for i in range(50))))  # fmt: skip
    assert min(r.table.column("count").to_pylist()) >= 0


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        (DpSpec(0.0), "release.bad_epsilon"),
        (DpSpec(-1.0), "release.bad_epsilon"),
        (DpSpec(10.5), "release.bad_epsilon"),
        (DpSpec(float("nan")), "release.bad_epsilon"),
        (DpSpec(1.0, value_field="income"), "release.bad_bounds"),
        (DpSpec(1.0, value_field="income", lower=5, upper=5), "release.bad_bounds"),
        (DpSpec(1.0, value_field="income", lower=0, upper=float("inf")), "release.bad_bounds"),
        (DpSpec(1.0, value_field="county", lower=0, upper=1), "release.not_numeric"),
        (DpSpec(1.0, group_by="nope"), "release.unknown_field"),
        (DpSpec(1.0, group_by="mobile"), "release.identifier"),
        (DpSpec(1.0, lower=0, upper=1), "release.bounds_without_field"),
    ],
)
def test_bad_dp_parameters_are_refused(spec: DpSpec, code: str) -> None:
    r = resource(fields=FIELDS)
    with pytest.raises(InvalidInput) as exc:
        check_dp(r, spec)
    assert exc.value.code == code


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        (KAnonSpec(("county",), 1), "release.bad_k"),
        (KAnonSpec(("id_number",), 5), "release.identifier"),
        (KAnonSpec(("name",), 5), "release.identifier"),
        (KAnonSpec(("county",), 5, fields=("mobile",)), "release.identifier"),
        (KAnonSpec(("nope",), 5), "release.unknown_field"),
        (KAnonSpec((), 5), "release.bad_qi"),
        (KAnonSpec(("county", "county"), 5), "release.bad_qi"),
        (KAnonSpec(("county",), 5, 0.9), "release.bad_suppression"),
        (KAnonSpec(("county",), 5, fields=("county",)), "release.bad_fields"),
    ],
)
def test_bad_kanon_parameters_are_refused(spec: KAnonSpec, code: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        check_kanon(resource(fields=FIELDS), spec)
    assert exc.value.code == code


def test_good_parameters_pass() -> None:
    r = resource(fields=FIELDS)
    assert set(check_kanon(r, KAnonSpec(("county", "birth_date"), 5, fields=("income",)))) == {
        "county", "birth_date", "income"}  # fmt: skip
    spec = DpSpec(1.0, group_by="county", value_field="income", lower=0, upper=1e5)
    assert set(check_dp(r, replace(spec))) == {"county", "income"}
