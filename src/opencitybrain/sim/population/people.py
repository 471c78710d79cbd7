"""The true population: people in households, with names, IDs, birth dates and addresses.

This is the ground truth the departments' records are drawn from; no department sees it
as such. Everything is computed column-wise with numpy and pyarrow.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from opencitybrain.sim.population.codes import ascii_strings, ric_matrix
from opencitybrain.sim.population.geography import FIRST_BIRTH_YEAR, CityGeography
from opencitybrain.sim.population.words import GIVEN_CHARS, SURNAMES

I64 = npt.NDArray[np.int64]
HOUSEHOLD_SIZES = np.array([1, 2, 3, 4, 5, 6])
HOUSEHOLD_WEIGHTS = np.array([0.22, 0.28, 0.26, 0.14, 0.07, 0.03])
MAX_AGE = 99
# Relation to the household head, GB/T 4761 codes: 02 户主, 10 配偶, 20 子, 30 女, 90 其他.
HEAD, SPOUSE, SON, DAUGHTER, OTHER = "02", "10", "20", "30", "90"


def _join(*parts: pa.Array | str) -> pa.StringArray:
    """Concatenate string columns and literals row by row."""
    return pc.binary_join_element_wise(*parts, "")


def _pick(words: list[str], index: I64) -> pa.Array:
    return pa.array(words, pa.string()).take(pa.array(index))


def _digits(values: I64, width: int) -> pa.StringArray:
    """Return integers as zero-padded decimal strings of a fixed width."""
    return pc.utf8_lpad(pc.cast(pa.array(values), pa.string()), width=width, padding="0")


def birth_dates(rng: np.random.Generator, n: int, as_of: date) -> I64:
    """Return birth dates (YYYYMMDD) with an ageing city's age profile, none after ``as_of``."""
    ages = np.arange(MAX_AGE + 1)
    weight = np.where(ages < 60, 1.0, np.clip((100 - ages) / 40, 0.02, None))
    weight[:15] *= 0.8  # fewer children than adults in each year of age
    age = rng.choice(ages, size=n, p=weight / weight.sum())
    days = (age * 365.25 + rng.uniform(0, 365, size=n)).astype(np.int64)
    born = np.datetime64(as_of.isoformat(), "D") - days
    first = np.datetime64(f"{FIRST_BIRTH_YEAR}-01-01", "D")
    born = np.maximum(born, first)
    y = born.astype("datetime64[Y]").astype(np.int64) + 1970
    m = born.astype("datetime64[M]").astype(np.int64) % 12 + 1
    d = (born - born.astype("datetime64[M]")).astype(np.int64) + 1
    return np.asarray(y * 10000 + m * 100 + d, dtype=np.int64)


def households(rng: np.random.Generator, n: int) -> tuple[I64, I64]:
    """Return each person's household number and position in it (0 = head)."""
    sizes = rng.choice(HOUSEHOLD_SIZES, size=n // 2 + 1, p=HOUSEHOLD_WEIGHTS)
    ends = np.cumsum(sizes)
    count = int(np.searchsorted(ends, n)) + 1
    starts = np.concatenate([[0], ends[: count - 1]])
    household = np.repeat(np.arange(count), sizes[:count])[:n]
    position = np.arange(n) - starts[household]
    return household.astype(np.int64), position.astype(np.int64)


def names(rng: np.random.Generator, n: int, surname: I64) -> pa.StringArray:
    """Return full names: the given surnames and one or two given-name characters."""
    chars = list(GIVEN_CHARS)
    first = _pick(chars, rng.integers(0, len(chars), size=n))
    second = pc.if_else(
        pa.array(rng.random(n) < 0.72),
        _pick(chars, rng.integers(0, len(chars), size=n)),
        pa.scalar("", pa.string()),
    )
    return _join(_pick([s for s, _ in SURNAMES], surname), first, second)


def unique_ids(
    rng: np.random.Generator, region: I64, birth: I64, male: npt.NDArray[np.bool_]
) -> I64:
    """Return a sequence number per person (odd for men) so that every ID is unique."""
    seq = rng.integers(0, 500, size=len(region)) * 2 + male
    for _ in range(100):
        key = (region * 100_000_000 + birth) * 1000 + seq
        _, first = np.unique(key, return_index=True)
        dup = np.ones(len(key), dtype=bool)
        dup[first] = False
        if not dup.any():
            return np.asarray(seq, dtype=np.int64)
        seq[dup] = rng.integers(0, 500, size=int(dup.sum())) * 2 + male[dup]
    raise RuntimeError("could not draw unique ID sequence numbers")


def addresses(rng: np.random.Generator, geo: CityGeography, county: I64) -> pa.StringArray:
    """Return an address in each given county: 市 区 街道 路 号 栋 单元 室.

    The door plate (road and number) is one of the county's in the city's address book,
    so the address geocodes to a point in the street it names.
    """
    n = len(county)
    road, number = geo.draw_doors(rng, county)
    building = pc.cast(pa.array(rng.integers(1, 30, size=n)), pa.string())
    unit = pc.cast(pa.array(rng.integers(1, 6, size=n)), pa.string())
    room = pc.cast(
        pa.array(rng.integers(1, 33, size=n) * 100 + rng.integers(1, 5, size=n)), pa.string()
    )
    return _join(
        f"{geo.name_zh}市",
        _pick(geo.places, road),
        pc.cast(pa.array(number), pa.string()),
        "号",
        building,
        "栋",
        unit,
        "单元",
        room,
        "室",
    )


def generate_people(rng: np.random.Generator, geo: CityGeography, n: int, as_of: date) -> pa.Table:
    """Return ``n`` true people: identity, household, county of residence and addresses."""
    household, position = households(rng, n)
    n_households = int(household[-1]) + 1 if n else 0
    weights = np.array([c.weight for c in geo.counties], dtype=float)
    home_county = rng.choice(len(geo.counties), size=n_households, p=weights / weights.sum())
    county = home_county[household]
    birth = birth_dates(rng, n, as_of)
    # The head is the oldest of the first two; keep it simple: position 0 is the head.
    male = rng.random(n) < 0.51
    relation = np.where(
        position == 0, HEAD, np.where(position == 1, SPOUSE, np.where(male, SON, DAUGHTER))
    )
    weights_s = np.array([w for _, w in SURNAMES], dtype=float)
    surname = rng.choice(len(SURNAMES), size=n, p=weights_s / weights_s.sum())
    heads = np.flatnonzero(position == 0)
    children = position >= 2
    surname[children] = surname[heads[household[children]]]  # children take the head's name
    # Most IDs were issued in the county of residence; some elsewhere in the city.
    issued = np.where(rng.random(n) < 0.9, county, rng.integers(0, len(geo.counties), size=n))
    year = np.clip(birth // 10000 - FIRST_BIRTH_YEAR, 0, geo.id_codes.shape[1] - 1)
    region = geo.id_codes[issued, year]
    seq = unique_ids(rng, region, birth, male)
    # Addresses are kept once per household, dictionary-encoded: taking rows for a
    # department then moves small integers, not strings. The dictionary holds each
    # household's address, then each household's previous address.
    home = addresses(rng, geo, home_county)
    previous = addresses(rng, geo, rng.integers(0, len(geo.counties), size=n_households))
    dictionary = pa.concat_arrays([home, previous])
    where = household.astype(np.int32)
    phone = _join(
        pa.array(["13", "15", "17", "18", "19"], pa.string()).take(
            pa.array(rng.integers(0, 5, size=n))
        ),
        _digits(rng.integers(0, 1_000_000_000, size=n), 9),
    )
    return pa.table(
        {
            "person_id": pa.array(np.arange(n, dtype=np.int64)),
            "id_number": ascii_strings(ric_matrix(region, birth, seq)),
            "name": names(rng, n, surname),
            "sex": pa.array(np.where(male, 1, 2).astype(np.int8)),
            "birth_date": pa.array(birth.astype(np.int32)),
            "county_code": pa.array([c.code for c in geo.counties]).take(pa.array(county)),
            "household_id": pa.array(household),
            "relation": pa.array(relation),
            "address": pa.DictionaryArray.from_arrays(pa.array(where), dictionary),
            "previous_address": pa.DictionaryArray.from_arrays(
                pa.array(where + np.int32(n_households)), dictionary
            ),
            "phone": phone,
        }
    )
