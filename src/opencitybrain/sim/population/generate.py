"""Generate the demo city's departments' data, seeded and deterministic, and write it.

Same geography, sizes, seed and date → the same tables, byte for byte. Each stage draws
from its own child of the seed, so changing one department's rules leaves the others'
records as they were.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from opencitybrain.sim.population.dept_orgs import (
    generate_companies,
    generate_vehicles,
    org_departments,
)
from opencitybrain.sim.population.dept_people import people_departments
from opencitybrain.sim.population.dirt import BIRTH_MISSING, DEFAULT_RATES
from opencitybrain.sim.population.geography import CityGeography
from opencitybrain.sim.population.people import generate_people
from opencitybrain.sim.population.schemas import ALL_TABLES

Progress = Callable[[str, float], None]
AS_OF = date(2026, 11, 1)
# Bumped whenever the same seed and sizes would give different tables (so caches of
# generated populations know theirs is stale). 2: addresses are the standard-address
# book's door plates and people live in counties by their share of the doors.
GENERATOR_VERSION = 2


@dataclass(frozen=True)
class PopulationSpec:
    """How much to generate, from which seed, as of which day, and how dirty."""

    people: int = 1_000_000
    companies: int = 100_000
    vehicles: int = 500_000
    seed: int = 2026
    as_of: date = AS_OF
    rates: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_RATES))


@dataclass(frozen=True)
class Population:
    """The departments' tables by source (``department/table``) and the ground truth."""

    spec: PopulationSpec
    tables: dict[str, pa.Table]
    truth: dict[str, pa.Table]  # per source: record_key, entity_id, dirt
    people: pa.Table
    companies: pa.Table
    vehicles: pa.Table

    def rows(self) -> int:
        """Return the number of department records in all tables."""
        return sum(t.num_rows for t in self.tables.values())


def generate(
    geo: CityGeography, spec: PopulationSpec, progress: Progress | None = None
) -> Population:
    """Return the city's true people, companies and vehicles and every department's records."""
    report = progress or (lambda stage, done: None)
    seeds = np.random.SeedSequence(spec.seed).spawn(5)
    rngs = [np.random.default_rng(s) for s in seeds]
    report("人口 / people", 0.0)
    people = generate_people(rngs[0], geo, spec.people, spec.as_of)
    report("企业 / companies", 0.3)
    companies = generate_companies(rngs[1], geo, people, spec.companies, spec.as_of)
    report("车辆 / vehicles", 0.4)
    vehicles = generate_vehicles(rngs[2], geo, people, companies, spec.vehicles, spec.as_of)
    report("部门数据：人 / people departments", 0.5)
    names = {c.code: c.name_zh for c in geo.counties}
    made = people_departments(
        rngs[3], people, companies["code"].combine_chunks(), names, spec.as_of, spec.rates
    )
    report("部门数据：企业与车辆 / company and vehicle departments", 0.85)
    org_rates = {k: v for k, v in spec.rates.items() if k != BIRTH_MISSING}
    made |= org_departments(rngs[4], companies, vehicles, org_rates)
    report("完成 / done", 1.0)
    return Population(
        spec,
        {source: table for source, (table, _) in made.items()},
        {source: truth for source, (_, truth) in made.items()},
        people,
        companies,
        vehicles,
    )


def write(population: Population, out: Path, progress: Progress | None = None) -> list[Path]:
    """Write every table as Parquet under ``out`` (truth under ``out/truth``); return the paths."""
    report = progress or (lambda stage, done: None)
    written: list[Path] = []
    items: list[tuple[Path, pa.Table]] = []
    for source, table in population.tables.items():
        items.append((out / f"{source}.parquet", table))
        items.append((out / "truth" / f"{source}.parquet", population.truth[source]))
    for name in ("people", "companies", "vehicles"):
        items.append((out / "truth" / f"{name}.parquet", getattr(population, name)))
    for k, (path, table) in enumerate(items):
        report(f"写入 / writing {path.relative_to(out)}", k / len(items))
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path, compression="zstd")
        written.append(path)
    manifest = {
        "generator": GENERATOR_VERSION,
        "seed": population.spec.seed,
        "as_of": population.spec.as_of.isoformat(),
        "sizes": {
            "people": population.spec.people,
            "companies": population.spec.companies,
            "vehicles": population.spec.vehicles,
        },
        "tables": [
            {**s.as_source(), "title_zh": s.title_zh, "entity": s.entity,
             "rows": population.tables[s.source].num_rows}
            for s in ALL_TABLES
        ],
    }  # fmt: skip
    path = out / "manifest.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    written.append(path)
    report("完成 / done", 1.0)
    return written
