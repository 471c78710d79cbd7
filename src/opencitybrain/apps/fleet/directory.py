"""What the city's registry knows about a supervised vehicle: its owner (and class).

The fleet app takes a :class:`VehicleDirectory` port. The registry capability's golden
vehicle records (一车一档, keyed by plate, with the owner's code) answer it through
:class:`GoldenVehicles`; a host wires one by registering it in ``platform.services``
under ``VehicleDirectory`` (the app looks it up; it never imports another app). What
the registry says wins over the roster's demo data: the owner company's unified social
credit code (USCC) where the owner is a company, and the class where a directory knows it
(golden records carry no supervision class, so the registry's answer leaves the roster's).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Protocol

import msgspec
import numpy as np
import pyarrow as pa

from opencitybrain.apps.fleet.model import Vehicle, VehicleClass
from opencitybrain.registry.idcodes import ric_valid, uscc_valid

__all__ = ["GoldenVehicles", "RegistryVehicles", "VehicleDirectory", "VehicleFacts", "enrich"]


class VehicleFacts(msgspec.Struct, frozen=True):
    """One vehicle as a directory knows it."""

    plate: str
    owner_uscc: str | None = None
    vclass: VehicleClass | None = None


class VehicleDirectory(Protocol):
    """Look vehicles up by plate."""

    def lookup(self, plates: Sequence[str]) -> dict[str, VehicleFacts]:
        """Return what is known of each plate (unknown plates are absent)."""
        ...


class GoldenVehicles:
    """A directory over the registry's golden vehicle records (an Arrow table).

    Columns: ``golden_id`` (the plate, the golden key) and ``owner_code`` (a citizen ID
    or a USCC); only a valid USCC becomes ``owner_uscc`` (a person owns no company).
    """

    def __init__(self, golden: pa.Table) -> None:
        plates = golden["golden_id"].to_pylist()
        owners = golden["owner_code"].combine_chunks()
        # A citizen ID can pass the USCC check by chance (1 in 31): it is still a person.
        company = np.asarray(uscc_valid(owners) & ~ric_valid(owners), dtype=np.bool_)
        self._facts = {
            str(p): VehicleFacts(str(p), str(o) if ok else None)
            for p, o, ok in zip(plates, owners.to_pylist(), company.tolist(), strict=True)
            if p is not None
        }

    def lookup(self, plates: Sequence[str]) -> dict[str, VehicleFacts]:
        """Return the golden facts of the plates the registry holds."""
        return {p: self._facts[p] for p in plates if p in self._facts}


class RegistryVehicles:
    """A live directory over the registry's current vehicle build (一车一档).

    ``current`` returns the current build's number and golden table, or ``None`` before
    the first build. The directory follows new builds: a lookup after one reads it (once
    per build number, then from memory).
    """

    def __init__(self, current: Callable[[], tuple[int, pa.Table] | None]) -> None:
        self._current = current
        self._lock = threading.Lock()
        self._number: int | None = None
        self._golden: GoldenVehicles | None = None

    def lookup(self, plates: Sequence[str]) -> dict[str, VehicleFacts]:
        """Return the current build's facts of the plates it holds (none before a build)."""
        found = self._current()
        if found is None:
            return {}
        number, table = found
        with self._lock:
            if self._golden is None or self._number != number:
                self._golden, self._number = GoldenVehicles(table), number
            golden = self._golden
        return golden.lookup(plates)


def enrich(vehicles: list[Vehicle], directory: VehicleDirectory | None) -> list[Vehicle]:
    """Return the vehicles with the directory's owner and class where it has them."""
    if directory is None:
        return vehicles
    facts = directory.lookup([v.plate for v in vehicles])
    out = []
    for v in vehicles:
        f = facts.get(v.plate)
        if f is None:
            out.append(v)
            continue
        out.append(
            msgspec.structs.replace(
                v, owner_uscc=f.owner_uscc or v.owner_uscc, vclass=f.vclass or v.vclass
            )
        )
    return out
