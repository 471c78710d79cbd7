"""The departments' data: valid codes, consistent people, the dirt model, determinism."""

from __future__ import annotations

import io
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import stdnum.cn.ric as ric
import stdnum.cn.uscc as uscc

from opencitybrain.sim.population import (
    PEOPLE_TABLES,
    Population,
    PopulationSpec,
    generate,
    nanchang_like,
)
from opencitybrain.sim.population.dirt import DEFAULT_RATES, typo
from opencitybrain.sim.population.schemas import CIVIL, HEALTH, HUKOU, MARKET, SOCIAL, VEHICLES

SPEC = PopulationSpec(people=20_000, companies=2_000, vehicles=10_000, seed=11)
NANCHANG_CODES = {"360102", "360103", "360104", "360111", "360112", "360121", "360122",
                  "360123", "360124"}  # fmt: skip


@pytest.fixture(scope="module")
def population() -> Population:
    return generate(nanchang_like(), SPEC)


def test_every_true_id_is_valid_and_matches_the_person(population: Population) -> None:
    people = population.people.to_pylist()
    assert len({p["id_number"] for p in people}) == len(people)
    for p in people:
        number = p["id_number"]
        assert ric.is_valid(number), number
        assert number[:6] in NANCHANG_CODES
        assert number[6:14] == str(p["birth_date"])
        assert int(number[16]) % 2 == (1 if p["sex"] == 1 else 0)  # odd sequence = male


def test_companies_and_vehicles_have_valid_codes(population: Population) -> None:
    for c in population.companies.to_pylist():
        assert uscc.is_valid(c["code"])
        assert c["code"][2:8] == c["county_code"]
        assert ric.is_valid(c["rep_id_number"])
    plates = population.vehicles["plate"].to_pylist()
    assert len(set(plates)) == len(plates)
    assert all(p.startswith("赣A") and len(p) in (7, 8) for p in plates)
    assert any(len(p) == 8 for p in plates)  # new-energy plates are there


def test_each_department_writes_in_its_own_style(population: Population) -> None:
    t = population.tables
    assert set(t[HUKOU.source]["XB"].to_pylist()) == {"1", "2"}
    assert set(t[HEALTH.source]["gender"].to_pylist()) == {"男", "女"}
    assert set(t[CIVIL.source]["xb"].to_pylist()) == {"M", "F"}
    assert t[SOCIAL.source]["AAC006"].type == pa.int32()
    birthdays = [b for b in t[HEALTH.source]["birthday"].to_pylist() if b]
    assert all(len(b) == 10 and b[4] == "-" for b in birthdays)
    assert any("\u3000" in n for n in t[CIVIL.source]["xm"].to_pylist() if n)
    assert not any("X" in (i or "") for i in t[SOCIAL.source]["AAC002"].to_pylist())
    assert any("x" in (i or "") for i in t[SOCIAL.source]["AAC002"].to_pylist())


def test_clean_records_carry_their_persons_values(population: Population) -> None:
    people = population.people.to_pandas().set_index("person_id")
    table = population.tables[HUKOU.source].to_pandas()
    truth = population.truth[HUKOU.source].to_pandas()
    assert list(table["RKBH"]) == list(truth["record_key"])
    clean = truth["dirt"].isna().to_numpy()
    rows = table[clean]
    who = people.loc[truth["entity_id"][clean]]
    assert (rows["GMSFHM"].to_numpy() == who["id_number"].to_numpy()).all()
    assert (rows["XM"].to_numpy() == who["name"].to_numpy()).all()
    assert (rows["ZZ"].astype(str).to_numpy() == who["address"].astype(str).to_numpy()).all()


def test_dirt_share_and_kinds(population: Population) -> None:
    counts: Counter[str] = Counter()
    rows = 0
    for source, truth in population.truth.items():
        rows += truth.num_rows
        counts.update(d for d in truth["dirt"].to_pylist() if d)
        dirty = truth.filter(pa.compute.is_valid(truth["dirt"]))
        assert 0.008 < dirty.num_rows / truth.num_rows < 0.025, source
    expected = sum(DEFAULT_RATES.values())
    assert abs(sum(counts.values()) / rows - expected) < 0.004
    assert set(counts) == set(DEFAULT_RATES)


def test_dirty_ids_fail_their_check(population: Population) -> None:
    for schema in PEOPLE_TABLES:
        table = population.tables[schema.source]
        truth = population.truth[schema.source].to_pylist()
        ids = table[schema.fields["id_number"]].to_pylist()
        for t, number in zip(truth, ids, strict=True):
            if t["dirt"] in ("id_transposed", "id_wrong_check"):
                assert not ric.is_valid(number.upper()), (schema.source, number)
            elif t["dirt"] == "id_missing":
                assert number is None
            elif number is not None:
                assert ric.is_valid(number.upper())
    for schema, column in ((MARKET, "TYSHXYDM"), (VEHICLES, "SFZMHM")):
        table = population.tables[schema.source]
        for t, code in zip(population.truth[schema.source].to_pylist(),
                           table[column].to_pylist(), strict=True):  # fmt: skip
            if t["dirt"] in ("id_transposed", "id_wrong_check"):
                # A vehicle's owner code is a citizen ID (all digits before the check
                # char) or a credit code; a corrupted ID can pass the credit-code check by
                # chance (1 in 31), so each is checked against its own rule.
                is_id = code[:17].isdigit()
                assert not (ric.is_valid(code) if is_id else uscc.is_valid(code)), code


def test_duplicates_repeat_an_entity_of_the_same_table(population: Population) -> None:
    truth = population.truth[HEALTH.source].to_pandas()
    originals = set(truth.loc[truth["dirt"].isna(), "entity_id"])
    dups = truth[truth["dirt"].isin(["duplicate_exact", "duplicate_near"])]
    assert len(dups) > 0
    assert set(dups["entity_id"]) <= originals


def test_typo_changes_one_character() -> None:
    rng = np.random.default_rng(1)
    for name in ("王伟", "欧阳丽华", "张静", "李"):
        changed = typo(rng, name)
        assert len(changed) == len(name)
        assert sum(a != b for a, b in zip(changed, name, strict=True)) == 1


def test_same_seed_same_bytes() -> None:
    spec = PopulationSpec(people=3_000, companies=300, vehicles=1_500, seed=5)
    first, second = generate(nanchang_like(), spec), generate(nanchang_like(), spec)
    for source, table in first.tables.items():
        a, b = io.BytesIO(), io.BytesIO()
        pq.write_table(table, a)
        pq.write_table(second.tables[source], b)
        assert a.getvalue() == b.getvalue(), source
        assert first.truth[source].equals(second.truth[source])
    other = generate(nanchang_like(), PopulationSpec(people=3_000, companies=300,
                                                     vehicles=1_500, seed=6))  # fmt: skip
    assert not other.tables[HUKOU.source].equals(first.tables[HUKOU.source])
