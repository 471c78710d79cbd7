"""The demo city's departments' data: people, companies, vehicles, each department its own way.

Generated, seeded and deterministic; nobody in it is real. ``generate`` returns every
department's table and the ground truth kept beside them; ``write`` stores them as Parquet.
"""

from opencitybrain.sim.population.generate import (
    GENERATOR_VERSION,
    Population,
    PopulationSpec,
    generate,
    write,
)
from opencitybrain.sim.population.geography import CityGeography, County, nanchang_like
from opencitybrain.sim.population.schemas import ALL_TABLES, PEOPLE_TABLES, TableSchema

__all__ = [
    "ALL_TABLES",
    "GENERATOR_VERSION",
    "PEOPLE_TABLES",
    "CityGeography",
    "County",
    "Population",
    "PopulationSpec",
    "TableSchema",
    "generate",
    "nanchang_like",
    "write",
]
