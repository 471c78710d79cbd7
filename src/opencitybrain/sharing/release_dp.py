"""Differentially private counts and sums with OpenDP's Laplace measurement.

The exact aggregates are computed over the whole column at once (numpy); OpenDP then
adds the noise. Neighbouring data sets differ by one row added or removed, so:

- the overall count and the vector of per-category counts each have L1 sensitivity 1
  (one row changes one count by one);
- the overall sum and the vector of per-category sums of a field clamped to
  ``[lower, upper]`` each have L1 sensitivity ``max(|lower|, |upper|)``.

The stated epsilon is split evenly over the queries asked (sequential composition):
count, plus per-category counts when ``group_by`` is given, plus the sum(s) when a
``value_field`` is given; each query is a vector Laplace measurement whose privacy map,
evaluated by OpenDP at the query's sensitivity, must be within its share. Means are the
noisy sum over the noisy count: post-processing, no further budget. Released counts are
rounded to whole numbers (never below 0), sums and means to 2 decimals.

The category set is part of the output: declared categories cost nothing; taken from
the data (the default) they reveal which categories occur at all — documented on the
release (``categories_from_data``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import opendp.prelude as dp
import pyarrow as pa
import pyarrow.compute as pc

from opencitybrain.sharing.release_model import DpSpec

dp.enable_features("contrib")  # floating-point Laplace: OpenDP gates it behind "contrib"
OVERALL = "(全部 / all)"
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class DpResult:
    """The noisy table and the parameters each query ran under."""

    table: pa.Table  # group, count[, sum, mean]
    queries: list[dict[str, object]]  # per query: name, epsilon, sensitivity, scale, mechanism
    epsilon_spent: float
    categories_from_data: bool


def laplace(values: Floats, sensitivity: float, epsilon: float) -> tuple[Floats, float]:
    """Return ``values`` with OpenDP vector Laplace noise for ``epsilon`` at the sensitivity."""
    scale = sensitivity / epsilon
    meas = dp.m.make_laplace(
        dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.l1_distance(T=float), scale
    )
    spent = float(meas.map(float(sensitivity)))  # type: ignore[no-untyped-call]
    if spent > epsilon * (1 + 1e-9):  # pragma: no cover - the map is linear in 1/scale
        raise RuntimeError(f"laplace at scale {scale} spends {spent} > {epsilon}")
    return np.asarray(meas([float(v) for v in values]), dtype=np.float64), scale


def _categories(col: pa.ChunkedArray, declared: tuple[str, ...] | None) -> tuple[list[str], bool]:
    if declared is not None:
        return list(declared), False
    text = col if pa.types.is_string(col.type) else pc.cast(col, pa.string())
    uniq = pc.unique(text.fill_null("")).to_pylist()
    return sorted(str(v) for v in uniq), True


def release_dp(table: pa.Table, spec: DpSpec) -> DpResult:
    """Return noisy counts (overall and per category) and clamped sums/means (module doc)."""
    n = table.num_rows
    queries_n = 1 + (spec.group_by is not None)
    queries_n *= 2 if spec.value_field is not None else 1
    eps = spec.epsilon / queries_n
    queries: list[dict[str, object]] = []

    def run(name: str, exact: Floats, sens: float) -> Floats:
        noisy, scale = laplace(exact, sens, eps)
        queries.append(
            {
                "query": name,
                "epsilon": eps,
                "sensitivity": sens,
                "scale": scale,
                "mechanism": "laplace (OpenDP make_laplace, vector, L1)",
            }
        )
        return noisy

    values: Floats | None = None
    sens_sum = 0.0
    if spec.value_field is not None:
        lo, hi = float(spec.lower or 0.0), float(spec.upper or 0.0)
        raw = pc.cast(table.column(spec.value_field), pa.float64()).to_numpy(zero_copy_only=False)
        values = np.clip(np.nan_to_num(raw.astype(np.float64), nan=lo), lo, hi)  # null -> lower
        sens_sum = max(abs(lo), abs(hi))
    groups = [OVERALL]
    counts = run("count", np.array([float(n)]), 1.0)
    sums = run("sum", np.array([float(values.sum())]), sens_sum) if values is not None else None
    from_data = False
    if spec.group_by is not None:
        cats, from_data = _categories(table.column(spec.group_by), spec.categories)
        col = table.column(spec.group_by)
        text = col if pa.types.is_string(col.type) else pc.cast(col, pa.string())
        idx = pc.index_in(text.fill_null(""), value_set=pa.array(cats, pa.string()))
        code = idx.to_numpy(zero_copy_only=False)
        inside = ~np.isnan(code.astype(np.float64))  # rows outside declared categories drop
        code_i = np.nan_to_num(code.astype(np.float64)).astype(np.int64)
        exact_c: Floats = np.bincount(code_i[inside], minlength=len(cats)).astype(np.float64)
        counts = np.concatenate([counts, run("count by " + spec.group_by, exact_c, 1.0)])
        if values is not None and sums is not None:
            w = values[inside]
            exact_s: Floats = np.bincount(code_i[inside], weights=w, minlength=len(cats)).astype(
                np.float64
            )
            sums = np.concatenate([sums, run("sum by " + spec.group_by, exact_s, sens_sum)])
        groups += cats
    shown = np.maximum(np.rint(counts), 0).astype(np.int64)
    cols: dict[str, object] = {"group": groups, "count": shown.tolist()}
    if sums is not None:
        cols["sum"] = np.round(sums, 2).tolist()
        cols["mean"] = [
            round(float(s) / c, 2) if c > 0 else None for s, c in zip(sums, shown, strict=True)
        ]
    return DpResult(pa.table(cols), queries, eps * len(queries), from_data)
