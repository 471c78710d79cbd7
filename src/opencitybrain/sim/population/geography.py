"""Where the synthetic people live: the demo city's counties, streets and address book.

Addresses are door plates of the city's standard-address book (``geo.addresses``): a road of
the person's own street and a valid number on it, so each address geocodes to a point in
that street. ``from_pack`` builds the book from the pack's roads; ``nanchang_like`` (the
tests' small geography, no pack) has a book of made-up roads without places.

County codes are the city pack's real GB/T 2260 codes. A citizen ID carries the code of
the county that issued it, as python-stdnum knows it for the birth year: districts created
or renamed later (新建区 360112, formerly 新建县 360122) issue the older code to people born
before the change, and where no code of the county is known for a year, the code of a
county of the same city that is known then stands in (people move).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import numpy.typing as npt
import stdnum.cn.ric as ric

from opencitybrain.citypack.model import CityPack
from opencitybrain.geo.address_build import build_address_book, names_only_book
from opencitybrain.geo.addresses import AddressBook
from opencitybrain.sim.population.codes import ric_check_char

FIRST_BIRTH_YEAR = 1920
LAST_BIRTH_YEAR = 2026
# County codes that replaced an earlier one: the earlier code is issued for earlier births.
FORMER_CODES: Mapping[str, tuple[str, ...]] = {"360112": ("360122",)}
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class County:
    """One county-level division with its streets (names without the county's)."""

    code: str
    name_zh: str
    streets: tuple[str, ...]
    weight: float = 1.0


@dataclass(frozen=True)
class CityGeography:
    """The city the population lives in: counties, address book, ID region codes by year."""

    city_code: str
    name_zh: str
    counties: tuple[County, ...]
    id_codes: npt.NDArray[np.int64] = field(repr=False)  # (county, year - FIRST_BIRTH_YEAR)
    book: AddressBook = field(repr=False, compare=False)

    @classmethod
    def build(
        cls,
        city_code: str,
        name_zh: str,
        counties: Sequence[County],
        book: AddressBook | None = None,
    ) -> CityGeography:
        """Return the geography with its per-year ID region codes checked against stdnum.

        Without a book, each street gets made-up roads without places (``names_only_book``),
        its code numbered in the county's order (360102001 for the first street of 360102).
        """
        years = range(FIRST_BIRTH_YEAR, LAST_BIRTH_YEAR + 1)
        all_codes = {c.code for c in counties} | {
            f for c in counties for f in FORMER_CODES.get(c.code, ())
        }
        known = {(code, year): _known(code, year) for code in sorted(all_codes) for year in years}
        table = np.zeros((len(counties), len(years)), dtype=np.int64)
        for i, county in enumerate(counties):
            for j, year in enumerate(years):
                own = (county.code, *FORMER_CODES.get(county.code, ()))
                pick = next((c for c in own if known[c, year]), None)
                if pick is None:
                    pick = next((c for c in sorted(all_codes) if known[c, year]), None)
                if pick is None:
                    raise ValueError(f"no county of {city_code} has an ID code in {year}")
                table[i, j] = int(pick)
        if book is None:
            book = names_only_book(
                [(f"{c.code}{k:03d}", c.name_zh + name)
                 for c in counties for k, name in enumerate(c.streets, start=1)]
            )  # fmt: skip
        return cls(city_code, name_zh, tuple(counties), table, book)

    @classmethod
    def from_pack(cls, pack: CityPack) -> CityGeography:
        """Return the geography of a loaded city pack (its counties and generated streets)."""
        streets: dict[str, list[str]] = {}
        if pack.divisions is not None:
            for s in pack.divisions.streets:
                streets.setdefault(s.parent_code or s.code[:6], []).append(s.name_zh)
        counties = [
            County(
                c.code,
                c.name_zh,
                tuple(_short_street(n, c.name_zh) for n in streets.get(c.code, [])) or ("城关镇",),
                weight=max(1.0, len(streets.get(c.code, []))),
            )
            for c in pack.counties
        ]
        book = (
            build_address_book(pack.graph, pack.divisions) if pack.divisions is not None else None
        )
        if book is not None:
            # People live where the doors are: a county's share of the city's door plates
            # (Nanchang: 新建区 30 %, 青山湖区 25 %, 进贤县 6 %, 安义县 2 %), not its number of
            # streets, which gave the two rural counties the pack's road network barely
            # reaches a quarter of the population.
            county_of = book.street.astype("<U6")
            counties = [
                replace(c, weight=max(1.0, float(book.doors[county_of == c.code].sum())))
                for c in counties
            ]
        return cls.build(pack.manifest.city_code, pack.manifest.name_zh, counties, book)

    @cached_property
    def _doors(self) -> tuple[I64, I64, I64, I64]:
        """Return the book's roads by county (in county order), their door counts summed
        up, and each county's first and last door in that running count."""
        county_of = self.book.street.astype("<U6")
        groups = [np.flatnonzero(county_of == c.code) for c in self.counties]
        order = np.concatenate([np.zeros(0, dtype=np.int64), *groups]).astype(np.int64)
        cum = np.concatenate([[0], np.cumsum(self.book.doors[order])]).astype(np.int64)
        sizes = np.array([len(g) for g in groups], dtype=np.int64)
        ends = np.cumsum(sizes)
        lo, hi = cum[ends - sizes], cum[ends]
        empty = [c.code for c, a, b in zip(self.counties, lo, hi, strict=True) if a == b]
        if empty:
            raise ValueError(f"the address book has no door plate in counties {empty}")
        return order, cum, lo, hi

    def draw_doors(self, rng: np.random.Generator, county: I64) -> tuple[I64, I64]:
        """Return a door plate (book road, number) per given county index, uniformly drawn
        among all the county's door plates (so busy streets house more people)."""
        order, cum, lo, hi = self._doors
        target = lo[county] + (rng.random(len(county)) * (hi - lo)[county]).astype(np.int64)
        pos = np.searchsorted(cum, target, side="right") - 1
        return order[pos], target - cum[pos] + 1

    @cached_property
    def places(self) -> list[str]:
        """Return each book road's place in an address: county, street and road names."""
        book = self.book
        return [
            street + road
            for street, road in zip(book.street_name.tolist(), book.road.tolist(), strict=True)
        ]


def _short_street(name: str, county: str) -> str:
    """Return a generated street's name without its county prefix (东湖区第01街道 → 第01街道)."""
    return name.removeprefix(county)


def _known(code: str, year: int) -> bool:
    """Return whether stdnum accepts ``code`` as the region of someone born in ``year``."""
    first17 = f"{code}{year}0701001"
    return bool(ric.is_valid(first17 + ric_check_char(first17)))


def nanchang_like() -> CityGeography:
    """Return a small fixed geography of Nanchang's counties, for tests (no pack loading)."""
    names = {
        "360102": "东湖区", "360103": "西湖区", "360104": "青云谱区", "360111": "青山湖区",
        "360112": "新建区", "360121": "南昌县", "360123": "安义县", "360124": "进贤县",
    }  # fmt: skip
    counties = [
        County(code, name, tuple(f"第{k:02d}街道" for k in range(1, 6)))
        for code, name in names.items()
    ]
    return CityGeography.build("360100", "南昌", counties)
