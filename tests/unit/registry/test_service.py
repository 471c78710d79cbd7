"""The registry's builds, masked lookups, explanations, review queue and incremental loads."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
import stdnum.cn.ric as ric

from opencitybrain.adapters.sql import make_engine
from opencitybrain.kernel.clock import ManualClock
from opencitybrain.kernel.errors import InvalidInput, NotFound
from opencitybrain.kernel.events import Context
from opencitybrain.registry import tables
from opencitybrain.registry.model import SourceSpec
from opencitybrain.registry.service import RegistryService
from opencitybrain.registry.store import Kind, ParquetBuildFiles, SqlDecisionStore

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
VEHICLES = SourceSpec(
    "public-security/jdc", "xh",
    {"plate": "HPHM", "owner_code": "SFZMHM", "name": "SYR", "address": "ZSXXDZ",
     "updated": "CCDJRQ"},
)  # fmt: skip
CTX = Context(actor="u-reviewer", department="bureau", roles=frozenset({"bureau_admin"}))


def _id(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17 + "0")


WEI = _id("36010219900101001")
LI = _id("36010319851111002")


def _police(rows: list[tuple[str, str, str, str, str, str]]) -> pa.Table:
    cols = ["RKBH", "GMSFHM", "XM", "XB", "CSRQ", "ZZ"]
    table = pa.table({c: [r[i] for r in rows] for i, c in enumerate(cols)})
    return table.append_column("DJRQ", pa.array(["20200101"] * len(rows)))


BASE = [
    ("R1", WEI, "张伟", "1", "19900101", "南昌市东湖区第01街道八一路1号"),
    ("R2", LI, "李丽", "2", "19851111", "南昌市西湖区第02街道中山路2号"),
]
HEALTH_ROWS = pa.table({
    "archive_no": ["H1", "H2", "H3"],
    "id_card": [LI.lower(), WEI[:17] + ("0" if WEI[17] != "0" else "1"), None],
    "name": ["李莉", "张伟", None],
    "gender": ["女", "男", "男"],
    "birthday": ["1985-11-11", "1990-01-01", None],
    "address": ["南昌市西湖区新路5号", "南昌市东湖区第01街道八一路1号", "x"],
    "created_at": ["2019-01-01", "2021-01-01", "2021-01-01"],
})  # fmt: skip


@pytest.fixture
def service(tmp_path: Path) -> RegistryService:
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    tables.metadata.create_all(engine)
    clock = ManualClock(datetime(2026, 11, 22, 8, tzinfo=UTC))
    return RegistryService(
        ParquetBuildFiles(tmp_path / "registry"), SqlDecisionStore(engine), clock
    )


def test_build_reconciles_and_lists_what_is_left(service: RegistryService) -> None:
    report = service.build("people", [(POLICE, _police(BASE)), (HEALTH, HEALTH_ROWS)])
    assert report.reconciles
    assert report.counts["rows_in"] == 5
    assert report.counts["quarantined"] == 1  # H3: no ID, no name
    counts = service.counts("people")
    assert counts["reconciles"] is True
    assert counts["golden"] == 2
    left = service.leftovers("people", "quarantined")
    assert [(r["source"], r["record_key"], r["reason"]) for r in left["items"]] == [
        ("health/record", "H3", "no_identity")
    ]


def test_lookup_is_masked_unless_the_grant_clears_fields(service: RegistryService) -> None:
    service.build("people", [(POLICE, _police(BASE)), (HEALTH, HEALTH_ROWS)])
    found = service.lookup(CTX, "people", " " + LI.lower())
    record = found["record"]
    assert record["name"] == "李*"
    assert record["golden_id"] == LI[0] + "*" * 15 + LI[-2:]
    assert record["address"].endswith("********")
    assert {r["record_key"] for r in found["records"]} == {"R2", "H1"}
    service.clearance = lambda ctx, kind: frozenset({"name", "golden_id"})
    assert service.lookup(CTX, "people", LI)["record"]["name"] == "李丽"
    with pytest.raises(NotFound):
        service.lookup(CTX, "people", WEI[:17] + "0")


def test_explain_two_records(service: RegistryService) -> None:
    service.build("people", [(POLICE, _police(BASE)), (HEALTH, HEALTH_ROWS)])
    why = service.explain(CTX, "people", ("public-security/czrk", "R1"), ("health/record", "H2"))
    assert why["same_golden_record"] is True
    assert why["records"][1]["rule"] == "id_near"
    assert "id=" in why["records"][1]["explanation"]
    other = service.explain(CTX, "people", ("public-security/czrk", "R1"), ("health/record", "H1"))
    assert other["same_golden_record"] is False
    with pytest.raises(NotFound):
        service.explain(CTX, "people", ("public-security/czrk", "R9"), ("health/record", "H1"))


def test_review_queue_resolves_with_a_reason_and_survives_rebuilds(
    service: RegistryService,
) -> None:
    inputs = [(POLICE, _police(BASE)), (HEALTH, HEALTH_ROWS)]
    service.build("people", inputs)
    queue = service.review.items("people")
    item = next(i for i in queue["items"] if i["attribute"] == "name")
    assert {o["value"] for o in item["options"]} == {"李丽", "李莉"}
    with pytest.raises(InvalidInput):
        service.review.resolve(CTX, "people", item["id"], "王五", "typo")
    with pytest.raises(InvalidInput):
        service.review.resolve(CTX, "people", item["id"], "李莉", "  ")
    done = service.review.resolve(
        CTX, "people", item["id"], "李莉", "本人到窗口核实 / checked in person"
    )
    assert done["status"] == "resolved"
    assert service.review.items("people", "resolved")["total"] == 1
    assert item["id"] not in {i["id"] for i in service.review.items("people")["items"]}
    service.clearance = lambda ctx, kind: frozenset({"name"})
    assert service.lookup(CTX, "people", LI)["record"]["name"] == "李莉"
    service.build("people", inputs)  # a rebuild keeps the decision
    shown = service.lookup(CTX, "people", LI)["record"]
    assert (shown["name"], shown["name_source"]) == ("李莉", "review")


def test_an_incremental_load_changes_only_what_changed(service: RegistryService) -> None:
    many = [
        (f"R{i}", _id(f"360102199001{(i % 28) + 1:02d}{i:03d}"), f"张{i}", "1" if i % 2 else "2",
         f"199001{(i % 28) + 1:02d}", f"南昌市东湖区第01街道八一路{i}号")
        for i in range(1, 60)
    ]  # fmt: skip
    first = service.build("people", [(POLICE, _police(many))])
    assert first.changes.counts()["added"] == 59
    moved = list(many)
    moved[4] = (*moved[4][:5], "南昌市东湖区第02街道新路9号")  # one person moved
    del moved[10]  # one record withdrawn
    moved.append(("R99", _id("36010219900101099"), "赵新", "1", "19900101", "南昌市东湖区"))
    second = service.build("people", [(POLICE, _police(moved))])
    assert second.changes.changed == (many[4][1],)
    assert second.changes.added == (_id("36010219900101099"),)
    assert second.changes.removed == (many[10][1],)
    assert second.changes.unchanged == 57
    assert second.changes.links_changed == 1  # R99 is new; the moved record keeps its link
    golden = service.files.current("people")
    assert golden is not None
    updated = dict(zip(golden.golden["golden_id"].to_pylist(),
                       golden.golden["updated_build"].to_pylist(), strict=True))  # fmt: skip
    assert updated[many[4][1]] == 2
    assert updated[many[0][1]] == 1
    assert int(pc.sum(pc.equal(golden.golden["updated_build"], 2)).as_py()) == 2
    assert [b["build"] for b in service.counts("people")["builds"]] == [2, 1]


def test_vehicles_link_to_their_owners(service: RegistryService) -> None:
    service.build("people", [(POLICE, _police(BASE))])
    cars = pa.table({
        "xh": ["V1", "V2"], "HPHM": ["赣A12345", "赣AD12345"], "SFZMHM": [WEI, WEI],
        "SYR": ["张伟", "张伟"], "ZSXXDZ": ["南昌市东湖区", "南昌市东湖区"],
        "CCDJRQ": ["2020-01-01", "2021-01-01"],
    })  # fmt: skip
    kind: Kind = "vehicles"
    service.build(kind, [(VEHICLES, cars)])
    person = service.lookup(CTX, "people", WEI)
    owned = [x for x in person["links"] if x["relation"] == "owns"]
    assert len(owned) == 2
    assert all("*" in x["golden_id"] for x in owned)
    car = service.lookup(CTX, "vehicles", "赣A12345")
    assert car["record"]["golden_id"] == "赣A1***5"
    assert car["links"][0]["relation"] == "owned_by"
