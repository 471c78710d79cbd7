"""Companies (market regulation) and vehicles (vehicle administration), linked to people.

A company has a credit code registered in its county, a legal representative who is one of
the city's adults, an industry (GB/T 4754-2017 section) and an address. A vehicle has a
plate of the city's authority (赣A for Nanchang), new-energy ones included, and an owner:
a person (by citizen ID) or a company (by credit code).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from opencitybrain.sim.population.codes import ascii_strings, plate_matrix, uscc_matrix
from opencitybrain.sim.population.dept_people import ages, random_days
from opencitybrain.sim.population.geography import CityGeography
from opencitybrain.sim.population.people import addresses
from opencitybrain.sim.population.schemas import MARKET, VEHICLES
from opencitybrain.sim.population.tables import finish
from opencitybrain.sim.population.words import INDUSTRY_SECTIONS, TRADE_CHARS

I64 = npt.NDArray[np.int64]
PLATE_PREFIX = {"360100": "赣A"}
# (vehicle type GA 24.4, plate type, large?, share among persons' cars, among companies')
VEHICLE_TYPES: tuple[tuple[str, bool, float, float], ...] = (
    ("K33", False, 0.80, 0.35),  # 小型轿车
    ("K31", False, 0.17, 0.25),  # 小型普通客车
    ("K11", True, 0.00, 0.08),  # 大型普通客车
    ("H31", False, 0.03, 0.12),  # 轻型普通货车
    ("H21", True, 0.00, 0.08),  # 中型普通货车
    ("H11", True, 0.00, 0.12),  # 重型普通货车
)
NEV_SHARE = 0.12


def _credit_codes(rng: np.random.Generator, region: I64) -> pa.StringArray:
    """Return unique credit codes registered in ``region`` (redrawn where two collide)."""
    matrix = uscc_matrix(rng, region)
    for _ in range(100):
        view = np.ascontiguousarray(matrix).view("S18").ravel()
        _, first = np.unique(view, return_index=True)
        dup = np.ones(len(view), dtype=bool)
        dup[first] = False
        if not dup.any():
            return ascii_strings(matrix)
        matrix[dup] = uscc_matrix(rng, region[dup])
    raise RuntimeError("could not draw unique credit codes")


def _company_names(rng: np.random.Generator, city: str, section: I64) -> pa.Array:
    """Return unique names: city + two or three trade-name chars + industry word + 有限公司.

    A name is unique within its registration authority by law, so colliding ones redraw.
    """
    n = len(section)
    trade = np.array(list(TRADE_CHARS))
    words = np.array([w for _, _, w, _ in INDUSTRY_SECTIONS])
    picks = rng.integers(0, len(trade), size=(n, 3))
    three = rng.random(n) < 0.5
    for _ in range(100):
        key = (picks[:, 0] * 64 + picks[:, 1]) * 64 + np.where(three, picks[:, 2], 63)
        key = key * 32 + section
        _, first = np.unique(key, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        picks[dup] = rng.integers(0, len(trade), size=(int(dup.sum()), 3))
        three[dup] = True
    else:
        raise RuntimeError("could not draw unique company names")
    third = np.where(three, trade[picks[:, 2]], "")
    return pc.binary_join_element_wise(
        city,
        pa.array(trade[picks[:, 0]]),
        pa.array(trade[picks[:, 1]]),
        pa.array(third),
        pa.array(words[section]),
        "有限公司",
        "",
    )


def generate_companies(
    rng: np.random.Generator, geo: CityGeography, people: pa.Table, n: int, as_of: date
) -> pa.Table:
    """Return ``n`` true companies with their legal representatives among adult people."""
    county = rng.integers(0, len(geo.counties), size=n)
    region = np.array([int(c.code) for c in geo.counties], dtype=np.int64)[county]
    weights = np.array([w for *_, w in INDUSTRY_SECTIONS], dtype=float)
    section = rng.choice(len(INDUSTRY_SECTIONS), size=n, p=weights / weights.sum())
    name = _company_names(rng, geo.name_zh, section)
    adults = np.flatnonzero(ages(people, as_of) >= 20)
    rep = adults[rng.integers(0, len(adults), size=n)] if n else np.zeros(0, dtype=np.int64)
    reps = people.take(pa.array(rep))
    return pa.table(
        {
            "company_id": pa.array(np.arange(n, dtype=np.int64)),
            "code": _credit_codes(rng, region),
            "name": name,
            "county_code": pa.array([c.code for c in geo.counties]).take(pa.array(county)),
            "address": addresses(rng, geo, county),
            "previous_address": addresses(rng, geo, county),
            "industry": pa.array([s for s, *_ in INDUSTRY_SECTIONS]).take(pa.array(section)),
            "established": pa.array(random_days(rng, n, date(1995, 1, 1), as_of)),
            "rep_person_id": reps["person_id"],
            "rep_id_number": reps["id_number"],
            "rep_name": reps["name"],
        }
    )


def _plates(rng: np.random.Generator, prefix: str, nev: npt.NDArray[np.bool_],
            large: npt.NDArray[np.bool_]) -> pa.StringArray:  # fmt: skip
    """Return unique plates: ``prefix`` and a GA 36 serial (5 chars, 6 for new energy)."""
    n = len(nev)
    matrix, _ = plate_matrix(rng, n, nev, large)
    for _ in range(100):
        keys = np.ascontiguousarray(matrix).view("S6").ravel()
        _, first = np.unique(keys, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        redo, _ = plate_matrix(rng, int(dup.sum()), nev[dup], large[dup])
        matrix[dup] = redo
    else:
        raise RuntimeError("could not draw unique plates")
    serial = pc.utf8_rtrim(ascii_strings(np.where(matrix == 0, 32, matrix).astype(np.uint8)),
                           characters=" ")  # fmt: skip
    return pc.binary_join_element_wise(prefix, serial, "")


def generate_vehicles(
    rng: np.random.Generator,
    geo: CityGeography,
    people: pa.Table,
    companies: pa.Table,
    n: int,
    as_of: date,
) -> pa.Table:
    """Return ``n`` true vehicles owned by adults (most) or companies."""
    by_company = (rng.random(n) < 0.15) & (companies.num_rows > 0)
    person_share = np.array([v[2] for v in VEHICLE_TYPES])
    company_share = np.array([v[3] for v in VEHICLE_TYPES])
    kind = np.where(
        by_company,
        rng.choice(len(VEHICLE_TYPES), size=n, p=company_share / company_share.sum()),
        rng.choice(len(VEHICLE_TYPES), size=n, p=person_share / person_share.sum()),
    )
    large = np.array([v[1] for v in VEHICLE_TYPES])[kind]
    nev = rng.random(n) < NEV_SHARE
    plate_type = np.where(large, np.where(nev, "51", "01"), np.where(nev, "52", "02"))
    adults = np.flatnonzero(ages(people, as_of) >= 18)
    owner_person = adults[rng.integers(0, len(adults), size=n)]
    owner_company = rng.integers(0, max(1, companies.num_rows), size=n)
    person_side = people.take(pa.array(owner_person))
    mask = pa.array(by_company)
    if companies.num_rows:
        company_side = companies.take(pa.array(owner_company))
        code = pc.if_else(mask, company_side["code"], person_side["id_number"])
        name = pc.if_else(mask, company_side["name"], person_side["name"])
        address = pc.if_else(mask, company_side["address"], person_side["address"])
        previous = pc.if_else(
            mask, company_side["previous_address"], person_side["previous_address"]
        )
    else:
        code, name = person_side["id_number"], person_side["name"]
        address, previous = person_side["address"], person_side["previous_address"]
    return pa.table(
        {
            "vehicle_id": pa.array(np.arange(n, dtype=np.int64)),
            "plate": _plates(rng, PLATE_PREFIX.get(geo.city_code, "赣A"), nev, large),
            "plate_type": pa.array(plate_type),
            "vehicle_type": pa.array([v[0] for v in VEHICLE_TYPES]).take(pa.array(kind)),
            "owner_kind": pa.array(np.where(by_company, "company", "person")),
            "owner_person_id": pa.array(np.where(by_company, -1, owner_person)),
            "owner_company_id": pa.array(np.where(by_company, owner_company, -1)),
            "owner_code": code,
            "owner_name": name,
            "address": address,
            "previous_address": previous,
            "registered": pa.array(random_days(rng, n, date(2005, 1, 1), as_of)),
        }
    )


def org_departments(
    rng: np.random.Generator,
    companies: pa.Table,
    vehicles: pa.Table,
    rates: Mapping[str, float],
) -> dict[str, tuple[pa.Table, pa.Table]]:
    """Return the market regulation and vehicle administration tables with their truth."""
    market = companies.select(
        ["company_id", "code", "name", "address", "previous_address", "rep_id_number", "rep_name"]
    )
    market = market.append_column("updated", companies["established"])
    market = market.append_column("HYML", companies["industry"])
    market = market.append_column(
        "ZCZB", pa.array(np.round(rng.lognormal(4.5, 1.2, size=companies.num_rows), 1))
    )
    frame = vehicles.select(["vehicle_id", "plate", "owner_code", "address", "previous_address"])
    frame = frame.append_column("name", vehicles["owner_name"])
    frame = frame.append_column("updated", vehicles["registered"])
    frame = frame.append_column("HPZL", vehicles["plate_type"])
    frame = frame.append_column("CLLX", vehicles["vehicle_type"])
    return {
        MARKET.source: finish(rng, MARKET, market, key_prefix="QY", rates=rates, code="code"),
        VEHICLES.source: finish(
            rng, VEHICLES, frame, key_prefix="JDC", rates=rates, code="owner_code"
        ),
    }
