"""The Nanchang pack with its address book and region locator, loaded once per test run."""

from __future__ import annotations

from functools import cache

from opencitybrain.citypack.loader import load_pack
from opencitybrain.citypack.model import CityPack
from opencitybrain.geo.address_build import build_address_book
from opencitybrain.geo.addresses import AddressBook
from opencitybrain.geo.lookup import RegionLocator


@cache
def nanchang_pack() -> CityPack:
    """Return the built-in Nanchang pack (road graph and generated divisions)."""
    return load_pack("nanchang")


@cache
def nanchang_book() -> AddressBook:
    """Return Nanchang's standard-address book."""
    pack = nanchang_pack()
    assert pack.divisions is not None
    return build_address_book(pack.graph, pack.divisions)


@cache
def nanchang_locator() -> RegionLocator:
    """Return the locator of Nanchang's counties, streets, communities and grids."""
    pack = nanchang_pack()
    assert pack.divisions is not None
    return RegionLocator(pack.counties, pack.divisions)
