"""Load the Smart Data Models example payloads kept under tests/fixtures/ngsi-ld/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parents[2] / "fixtures" / "ngsi-ld"
TYPES = (
    "ParkingSpot",
    "OnStreetParking",
    "OffStreetParking",
    "Vehicle",
    "TrafficFlowObserved",
    "Alert",
)
PARKING = "https://smart-data-models.github.io/dataModel.Parking/context.jsonld"
TRANSPORTATION = "https://smart-data-models.github.io/dataModel.Transportation/context.jsonld"


def normalized(name: str) -> dict[str, Any]:
    """Return the normalized example of a type."""
    return json.loads((FIXTURES / f"{name}.normalized.jsonld").read_text(encoding="utf-8"))


def key_values(name: str) -> dict[str, Any]:
    """Return the keyValues example of a type."""
    return json.loads((FIXTURES / f"{name}.keyvalues.json").read_text(encoding="utf-8"))
