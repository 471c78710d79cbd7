"""Where the synthetic people live: the demo city's counties, streets and made-up roads.

County codes are the city pack's real GB/T 2260 codes. A citizen ID carries the code of
the county that issued it, as python-stdnum knows it for the birth year: districts created
or renamed later (新建区 360112, formerly 新建县 360122) issue the older code to people born
before the change, and where no code of the county is known for a year, the code of a
county of the same city that is known then stands in (people move).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import stdnum.cn.ric as ric

from opencitybrain.citypack.model import CityPack
from opencitybrain.sim.population.codes import ric_check_char
from opencitybrain.sim.population.words import ROAD_SUFFIXES, ROAD_WORDS

FIRST_BIRTH_YEAR = 1920
LAST_BIRTH_YEAR = 2026
# County codes that replaced an earlier one: the earlier code is issued for earlier births.
FORMER_CODES: Mapping[str, tuple[str, ...]] = {"360112": ("360122",)}
ROADS_PER_COUNTY = 24


@dataclass(frozen=True)
class County:
    """One county-level division with its streets and the roads addresses use."""

    code: str
    name_zh: str
    streets: tuple[str, ...]
    roads: tuple[str, ...]
    weight: float = 1.0


@dataclass(frozen=True)
class CityGeography:
    """The city the population lives in: name, counties, and ID region codes per birth year."""

    city_code: str
    name_zh: str
    counties: tuple[County, ...]
    id_codes: npt.NDArray[np.int64] = field(repr=False)  # (county, year - FIRST_BIRTH_YEAR)

    @classmethod
    def build(cls, city_code: str, name_zh: str, counties: Sequence[County]) -> CityGeography:
        """Return the geography with its per-year ID region codes checked against stdnum."""
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
        return cls(city_code, name_zh, tuple(counties), table)

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
                roads_for(c.code),
                weight=max(1.0, len(streets.get(c.code, []))),
            )
            for c in pack.counties
        ]
        return cls.build(pack.manifest.city_code, pack.manifest.name_zh, counties)


def _short_street(name: str, county: str) -> str:
    """Return a generated street's name without its county prefix (东湖区第01街道 → 第01街道)."""
    return name.removeprefix(county)


def roads_for(county_code: str) -> tuple[str, ...]:
    """Return the made-up road names of a county (a fixed subset per county code)."""
    rng = np.random.default_rng(int(county_code))
    words = rng.choice(len(ROAD_WORDS), size=ROADS_PER_COUNTY, replace=False)
    suffixes = rng.integers(0, len(ROAD_SUFFIXES), size=ROADS_PER_COUNTY)
    return tuple(ROAD_WORDS[w] + ROAD_SUFFIXES[s] for w, s in zip(words, suffixes, strict=True))


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
        County(code, name, tuple(f"第{k:02d}街道" for k in range(1, 6)), roads_for(code))
        for code, name in names.items()
    ]
    return CityGeography.build("360100", "南昌", counties)
