"""Entity resolution of people across departments: rules, quarantine, conflicts, counts."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
import stdnum.cn.ric as ric

from opencitybrain.kernel.errors import InvalidInput, NotFound
from opencitybrain.registry.links import entity_links
from opencitybrain.registry.model import (
    NO_ANCHOR,
    NO_IDENTITY,
    RULE_ID,
    RULE_ID_NEAR,
    RULE_SCORE,
    Resolution,
    SourceSpec,
)
from opencitybrain.registry.resolve import resolve_companies, resolve_people, resolve_vehicles
from opencitybrain.sim.population import (
    ALL_TABLES,
    PEOPLE_TABLES,
    PopulationSpec,
    generate,
    nanchang_like,
)

POLICE = SourceSpec(
    "public-security/czrk", "RKBH",
    {"id_number": "GMSFHM", "name": "XM", "sex": "XB", "birth_date": "CSRQ", "address": "ZZ",
     "updated": "DJRQ"},
)  # fmt: skip
HEALTH = SourceSpec(
    "health/record", "archive_no",
    {"id_number": "id_card", "name": "name", "sex": "gender", "birth_date": "birthday",
     "address": "address", "updated": "created_at"},
)  # fmt: skip


def _id(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


WEI = _id("36010219900101001")  # male
LI = _id("36010319851111002")  # female
WANG = _id("36010219900101003")  # male, same birth date as WEI
ZHAO = _id("36010219900101005")  # male, same birth date again


def _police(rows: list[tuple[str, str | None, str, str, str, str, str]]) -> pa.Table:
    cols = ["RKBH", "GMSFHM", "XM", "XB", "CSRQ", "ZZ", "DJRQ"]
    return pa.table({c: [r[i] for r in rows] for i, c in enumerate(cols)})


def _health(rows: list[tuple[str, str | None, str | None, str, str | None, str, str]]) -> pa.Table:
    cols = ["archive_no", "id_card", "name", "gender", "birthday", "address", "created_at"]
    return pa.table({c: [r[i] for r in rows] for i, c in enumerate(cols)})


@pytest.fixture(scope="module")
def result() -> Resolution:
    police = _police(
        [
            ("R1", WEI, "张伟", "1", "19900101", "南昌市东湖区八一路1号", "20200101"),
            ("R2", LI, "李丽", "2", "19851111", "南昌市西湖区中山路2号", "20190101"),
            ("R3", WANG, "王刚", "1", "19900101", "南昌市东湖区八一路9号", "20200101"),
        ]
    )
    health = _health(
        [
            # Same person, her check char written lower-case, newer address: id_exact.
            ("H1", LI.lower(), "李 丽", "女", "1985-11-11", "南昌市西湖区新路5号", "2024-06-01"),
            # Wrong check char, same name and birth: id_near.
            ("H2", WEI[:17] + ("0" if WEI[17] != "0" else "1"), "张伟", "男", "1990-01-01",
             "南昌市东湖区八一路1号", "2021-01-01"),
            # No ID, a homophone in the name: probabilistic.
            ("H3", None, "张玮", "男", "1990-01-01", "南昌市东湖区八一路1号", "2021-02-01"),
            # No ID, nobody like him: unmatched.
            ("H4", None, "钱多多", "男", "1990-01-01", "南昌市进贤县某路1号", "2021-02-01"),
            # No ID and no birth date: quarantined.
            ("H5", None, "孙某", "男", None, "南昌市", "2021-02-01"),
            # No name, no valid ID: quarantined.
            ("H6", "123", None, "男", "1990-01-01", "南昌市", "2021-02-01"),
            # Valid ID of a person only health knows: a golden record of its own.
            ("H7", ZHAO, "赵强", "男", "1990-01-01", "南昌市青山湖区1号", "2022-01-01"),
        ]
    )  # fmt: skip
    return resolve_people([(POLICE, police), (HEALTH, health)])


def _row(result: Resolution, source: str, key: str) -> dict[str, Any]:
    return result.explain(source, key)


def test_valid_ids_link_across_styles(result: Resolution) -> None:
    r1 = _row(result, "health/record", "H1")
    assert r1["golden_id"] == LI
    assert r1["rule"] == RULE_ID
    assert _row(result, "public-security/czrk", "R2")["golden_id"] == LI


def test_wrong_check_char_links_by_near_id(result: Resolution) -> None:
    row = _row(result, "health/record", "H2")
    assert row["golden_id"] == WEI
    assert row["rule"] == RULE_ID_NEAR
    assert "id=same17" in row["explanation"]
    assert "name=eq" in row["explanation"]


def test_homophone_without_id_links_probabilistically(result: Resolution) -> None:
    row = _row(result, "health/record", "H3")
    assert row["golden_id"] == WEI
    assert row["rule"] == RULE_SCORE
    assert "name=confusable" in row["explanation"]
    assert row["score"] > row["runner_up"]


def test_unmatched_and_quarantined_are_listed_with_reasons(result: Resolution) -> None:
    unmatched = result.unmatched()
    assert unmatched["record_key"].to_pylist() == ["H4"]
    assert unmatched["reason"][0].as_py() == "below_threshold"
    quarantined = {r["record_key"]: r["reason"] for r in result.quarantined().to_pylist()}
    assert quarantined == {"H5": NO_ANCHOR, "H6": NO_IDENTITY}


def test_counts_reconcile(result: Resolution) -> None:
    counts = result.counts()
    assert counts["rows_in"] == 10
    assert (counts["linked"], counts["quarantined"], counts["unmatched"]) == (7, 2, 1)
    assert counts["golden"] == 4
    assert result.reconciles()


def test_golden_attributes_keep_source_and_time(result: Resolution) -> None:
    li = result.golden_of(LI)
    assert li["name"] == "李丽"
    assert li["name_source"] == "public-security/czrk"  # the household register first
    assert li["address"] == "南昌市西湖区新路5号"  # the most recent address
    assert li["address_source"] == "health/record"
    assert li["address_time"] == 20240601
    assert li["records"] == 2
    assert li["sources"] == 2
    wei = result.golden_of(WEI)
    assert wei["records"] == 3
    assert wei["name"] == "张伟"


def test_conflicts_go_to_review(result: Resolution) -> None:
    review = result.review.filter(pc.equal(result.review["golden_id"], LI)).to_pylist()
    assert {(r["attribute"], r["value"], r["chosen"]) for r in review} == {
        ("address", "南昌市西湖区中山路2号", False),
        ("address", "南昌市西湖区新路5号", True),
    }
    names = result.review.filter(
        pc.and_(
            pc.equal(result.review["golden_id"], WEI), pc.equal(result.review["attribute"], "name")
        )
    ).to_pylist()
    assert {r["value"] for r in names} == {"张伟", "张玮"}


def test_ambiguous_candidates_are_not_linked() -> None:
    police = _police(
        [
            ("R1", WEI, "王伟", "1", "19900101", "南昌市东湖区八一路1号", "20200101"),
            ("R2", WANG, "王玮", "1", "19900101", "南昌市东湖区八一路1号", "20200101"),
        ]
    )
    health = _health([("H1", None, "王炜", "男", "1990-01-01", "南昌市东湖区八一路1号", "2021")])
    result = resolve_people([(POLICE, police), (HEALTH, health)])
    row = result.explain("health/record", "H1")
    assert row["golden_id"] is None
    assert row["reason"] == "ambiguous"
    assert result.reconciles()


def test_lookups_refuse_unknowns(result: Resolution) -> None:
    with pytest.raises(NotFound):
        result.explain("nowhere", "1")
    with pytest.raises(NotFound):
        result.explain("health/record", "nope")
    with pytest.raises(NotFound):
        result.golden_of("000")
    with pytest.raises(InvalidInput):
        resolve_people([(POLICE, _police([])), (POLICE, _police([]))])
    with pytest.raises(InvalidInput):
        SourceSpec.from_mapping({"source": "x"})


def test_generated_city_resolves_with_high_precision_and_recall() -> None:
    pop = generate(nanchang_like(), PopulationSpec(people=10_000, companies=1_000,
                                                   vehicles=5_000, seed=21))  # fmt: skip
    inputs = [(SourceSpec.from_mapping(s.as_source()), pop.tables[s.source]) for s in PEOPLE_TABLES]
    result = resolve_people(inputs)
    assert result.reconciles()
    truth = pa.concat_arrays(
        [pop.truth[s.source]["entity_id"].combine_chunks() for s in PEOPLE_TABLES]
    )
    true_id = pop.people["id_number"].take(truth)
    gid = result.links["golden_id"]
    linked = pc.sum(pc.is_valid(gid)).as_py()
    correct = pc.sum(pc.fill_null(pc.equal(gid, true_id), False)).as_py()
    linkable = pc.sum(pc.is_in(true_id, value_set=result.golden["golden_id"])).as_py()
    assert correct / linked >= 0.999
    assert correct / linkable >= 0.995


def test_companies_resolve_by_credit_code_then_name_and_address() -> None:
    pop = generate(nanchang_like(), PopulationSpec(people=5_000, companies=3_000,
                                                   vehicles=100, seed=8))  # fmt: skip
    market = next(s for s in ALL_TABLES if s.entity == "company")
    table = pop.tables[market.source]
    # A second, clean register of the same companies (as a tax bureau would keep).
    tax = SourceSpec("tax/nsrxx", "company_id", {"code": "code", "name": "name",
                                                 "address": "address"})  # fmt: skip
    register = pop.companies.set_column(
        0, "company_id", pc.cast(pop.companies["company_id"], pa.string())
    )
    result = resolve_companies(
        [(SourceSpec.from_mapping(market.as_source()), table), (tax, register)]
    )
    assert result.reconciles()
    truth = pop.companies["code"].take(pop.truth[market.source]["entity_id"])
    gid = result.links["golden_id"].slice(0, table.num_rows)
    linked = pc.sum(pc.is_valid(gid)).as_py()
    correct = pc.sum(pc.fill_null(pc.equal(gid, truth), False)).as_py()
    assert correct == linked  # no company linked to another's record
    # A company whose only record has a bad code has no golden record to link to.
    linkable = pc.sum(pc.is_in(truth, value_set=result.golden["golden_id"])).as_py()
    assert correct / linkable >= 0.995
    rules = set(result.links["rule"].cast(pa.string()).to_pylist())
    assert {RULE_ID, RULE_ID_NEAR, RULE_SCORE} <= rules
    golden = result.golden.to_pylist()[0]
    assert {"name_source", "address_time", "rep_id_number"} <= set(golden)


def test_most_departments_outvote_a_typo_in_the_register() -> None:
    civil = SourceSpec("civil-affairs/x", "k", {"id_number": "i", "name": "n"})
    police = _police([("R1", LI, "李莉", "2", "19851111", "南昌市西湖区中山路2号", "20240101")])
    health = _health([("H1", LI, "李丽", "女", "1985-11-11", "南昌市西湖区中山路2号", "2019")])
    other = pa.table({"k": ["C1"], "i": [LI], "n": ["李丽"]})
    result = resolve_people([(POLICE, police), (HEALTH, health), (civil, other)])
    li = result.golden_of(LI)
    assert li["name"] == "李丽"
    assert li["name_source"] in {"health/record", "civil-affairs/x"}
    review = {(r["value"], r["chosen"], r["sources"]) for r in result.review.to_pylist()}
    assert ("李莉", False, "public-security/czrk") in review
    assert ("李丽", True, "civil-affairs/x,health/record") in review


def test_three_registries_and_their_links() -> None:
    pop = generate(nanchang_like(), PopulationSpec(people=4_000, companies=400,
                                                   vehicles=2_000, seed=13))  # fmt: skip

    def spec(entity: str) -> tuple[SourceSpec, pa.Table]:
        schema = next(s for s in ALL_TABLES if s.entity == entity)
        return SourceSpec.from_mapping(schema.as_source()), pop.tables[schema.source]

    people = resolve_people([(SourceSpec.from_mapping(s.as_source()), pop.tables[s.source])
                             for s in PEOPLE_TABLES])  # fmt: skip
    companies = resolve_companies([spec("company")])
    vehicles = resolve_vehicles([spec("vehicle")])
    assert vehicles.reconciles()
    # Every plate is well formed, so every vehicle record links by plate.
    assert vehicles.counts()["linked"] == vehicles.counts()["rows_in"]
    assert vehicles.counts()["golden"] == 2_000
    links = entity_links(people, companies, vehicles)
    assert links.num_rows == companies.golden.num_rows + vehicles.golden.num_rows
    owners = links.filter(pc.equal(links["from_kind"], "vehicle"))
    resolved = owners.filter(pc.is_valid(owners["to_id"]))
    assert resolved.num_rows / owners.num_rows > 0.97
    truth = pop.vehicles.to_pandas().set_index("plate")
    for row in resolved.to_pylist():
        assert truth.loc[row["from_id"], "owner_kind"] == row["to_kind"]
        assert truth.loc[row["from_id"], "owner_code"] == row["to_id"]
    reps = links.filter(pc.equal(links["from_kind"], "company"))
    assert pc.sum(pc.is_valid(reps["to_id"])).as_py() / reps.num_rows > 0.97


def test_a_bad_plate_is_quarantined() -> None:
    spec = SourceSpec("public-security/jdc", "xh", {"plate": "HPHM", "name": "SYR"})
    plates = ["赣A12345", "赣AD12345", "赣AI2345", None]  # ordinary, new energy, has an I, none
    table = pa.table({"xh": ["1", "2", "3", "4"], "HPHM": plates, "SYR": ["甲", "乙", "丙", "丁"]})
    result = resolve_vehicles([(spec, table)])
    assert result.counts()["linked"] == 2
    assert {r["record_key"]: r["reason"] for r in result.quarantined().to_pylist()} == {
        "3": "bad_key",
        "4": "bad_key",
    }
