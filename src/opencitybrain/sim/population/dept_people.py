"""The departments that keep records of people: who each one covers and what it adds.

Public security registers everyone (常住人口); health keeps archives for most residents;
civil affairs for a share of adults; social security for insured adults (with their
employer's credit code); education for pupils and students (with a guardian's ID).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from opencitybrain.sim.population.people import HEAD
from opencitybrain.sim.population.schemas import CIVIL, EDUCATION, HEALTH, HUKOU, SOCIAL
from opencitybrain.sim.population.tables import finish
from opencitybrain.sim.population.words import SCHOOLS

I64 = npt.NDArray[np.int64]
Tables = dict[str, tuple[pa.Table, pa.Table]]


def ages(people: pa.Table, as_of: date) -> I64:
    """Return each person's age in whole years on ``as_of``."""
    birth = people["birth_date"].to_numpy().astype(np.int64)
    today = as_of.year * 10000 + as_of.month * 100 + as_of.day
    return np.asarray((today - birth) // 10000, dtype=np.int64)


def random_days(rng: np.random.Generator, n: int, first: date, last: date) -> I64:
    """Return random days between ``first`` and ``last`` as YYYYMMDD integers."""
    a = np.datetime64(first.isoformat(), "D")
    span = (np.datetime64(last.isoformat(), "D") - a).astype(np.int64)
    d = a + rng.integers(0, max(1, int(span)), size=n)
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dd = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    return np.asarray(y * 10000 + m * 100 + dd, dtype=np.int64)


def _frame(rng: np.random.Generator, people: pa.Table, rows: I64, as_of: date) -> pa.Table:
    """Return the canonical columns of the chosen people, with a record date."""
    picked = people.take(pa.array(rows))
    return pa.table(
        {
            "person_id": picked["person_id"],
            "id_number": picked["id_number"],
            "name": picked["name"],
            "sex": picked["sex"],
            "birth_date": picked["birth_date"],
            "address": picked["address"],
            "previous_address": picked["previous_address"],
            "updated": pa.array(random_days(rng, len(rows), date(2012, 1, 1), as_of)),
        }
    )


def people_departments(
    rng: np.random.Generator,
    people: pa.Table,
    employers: pa.Array,
    county_names: Mapping[str, str],
    as_of: date,
    rates: Mapping[str, float],
) -> Tables:
    """Return each people department's table and ground truth, keyed by source name."""
    n = people.num_rows
    age = ages(people, as_of)
    out: Tables = {}

    # Public security: everyone, with household number, relation and ethnicity code.
    # Each department lists its people in its own (random) order.
    rows = rng.permutation(n).astype(np.int64)
    frame = _frame(rng, people, rows, as_of)
    at = pa.array(rows)
    household = pc.binary_join_element_wise(
        people["county_code"].take(at),
        pc.utf8_lpad(pc.cast(people["household_id"].take(at), pa.string()), width=8, padding="0"),
        "",
    )
    ethnic = np.where(rng.random(n) < 0.97, "01", rng.choice(["02", "03", "05", "08"], size=n))
    frame = frame.append_column("HH", household)
    frame = frame.append_column("YHZGX", people["relation"].take(at))
    frame = frame.append_column("MZ", pa.array(ethnic))
    out[HUKOU.source] = finish(rng, HUKOU, frame, key_prefix="RK", rates=rates)

    # Health: most residents, with a phone number and blood type.
    rows = rng.permutation(np.flatnonzero(rng.random(n) < 0.85)).astype(np.int64)
    frame = _frame(rng, people, rows, as_of)
    frame = frame.append_column("phone", people["phone"].take(pa.array(rows)))
    blood = rng.choice(["A", "B", "O", "AB"], size=len(rows), p=[0.28, 0.24, 0.38, 0.1])
    frame = frame.append_column("blood_type", pa.array(blood))
    out[HEALTH.source] = finish(rng, HEALTH, frame, key_prefix="JK", rates=rates)

    # Civil affairs: a share of adults, with marital status (GB/T 2261.2).
    rows = rng.permutation(np.flatnonzero((age >= 18) & (rng.random(n) < 0.4))).astype(np.int64)
    frame = _frame(rng, people, rows, as_of)
    status = np.where(
        age[rows] < 24,
        "10",
        rng.choice(["10", "20", "30", "40"], size=len(rows), p=[0.1, 0.78, 0.05, 0.07]),
    )
    frame = frame.append_column("hyzk", pa.array(status))
    out[CIVIL.source] = finish(rng, CIVIL, frame, key_prefix="MZ", rates=rates)

    # Social security: insured adults, each with an employer's credit code.
    insured = (age >= 16) & (rng.random(n) < np.where(age < 60, 0.7, 0.55))
    rows = rng.permutation(np.flatnonzero(insured)).astype(np.int64)
    frame = _frame(rng, people, rows, as_of)
    if len(employers):
        employer = employers.take(pa.array(rng.integers(0, len(employers), size=len(rows))))
    else:
        employer = pa.nulls(len(rows), pa.string())
    frame = frame.append_column("AAB001", employer)
    state = np.where(age[rows] >= 60, "4", np.where(rng.random(len(rows)) < 0.92, "1", "2"))
    frame = frame.append_column("AAC008", pa.array(state))
    out[SOCIAL.source] = finish(rng, SOCIAL, frame, key_prefix="36", rates=rates)

    # Education: pupils and students, with school and the household head as guardian.
    rows = rng.permutation(
        np.flatnonzero((age >= 3) & (age <= 22) & (rng.random(n) < 0.95))
    ).astype(np.int64)
    frame = _frame(rng, people, rows, as_of)
    heads = np.flatnonzero(people["relation"].to_numpy(zero_copy_only=False) == HEAD)
    household = people["household_id"].to_numpy()
    guardian = people["id_number"].take(pa.array(heads[household[rows]]))
    frame = frame.append_column("jhrsfzh", guardian)
    codes = pa.array(list(county_names))
    county = pc.index_in(people["county_code"].take(pa.array(rows)), value_set=codes)
    school = pc.binary_join_element_wise(
        pa.array(list(county_names.values())).take(county),
        pa.array(SCHOOLS).take(pa.array(rng.integers(0, len(SCHOOLS), size=len(rows)))),
        "",
    )
    frame = frame.append_column("xxmc", school)
    out[EDUCATION.source] = finish(rng, EDUCATION, frame, key_prefix="X", rates=rates)
    return out
