"""Tests for reading and checking a city pack's ``pack.toml``."""

from __future__ import annotations

from pathlib import Path

import pytest

from opencitybrain.citypack.loader import pack_folder
from opencitybrain.citypack.manifest import read_manifest
from opencitybrain.kernel.errors import InvalidInput, NotFound

GOOD = """
name = "demo"
name_zh = "示例"
name_en = "Demo"
city_code = "360100"
timezone = "Asia/Shanghai"
center = [115.86, 28.68]

[roadnet]
format = "cbengine"
file = "roads.txt"

[admin]
file = "admin.json"
"""


def write_pack(folder: Path, text: str) -> Path:
    """Write a pack folder with the given manifest and empty data files."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pack.toml").write_text(text, encoding="utf-8")
    (folder / "roads.txt").write_text("0\n0\n0\n")
    (folder / "admin.json").write_text("{}")
    return folder


def test_builtin_nanchang_manifest() -> None:
    m = read_manifest(pack_folder("nanchang"))
    assert (m.name, m.name_zh, m.name_en, m.city_code) == ("nanchang", "南昌", "Nanchang", "360100")
    assert m.roadnet.format == "cbengine"
    assert m.admin is not None
    assert m.flows is not None
    assert m.flows.file == "flow0_cbengine.txt"


def test_good_manifest_and_defaults(tmp_path: Path) -> None:
    m = read_manifest(write_pack(tmp_path, GOOD))
    assert m.center == (115.86, 28.68)
    assert m.flows is None
    assert m.roadnet.bbox is None
    assert m.roadnet.largest_component is True


def test_city_code_may_be_a_bare_number(tmp_path: Path) -> None:
    m = read_manifest(write_pack(tmp_path, GOOD.replace('"360100"', "360100")))
    assert m.city_code == "360100"


def test_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(NotFound) as err:
        read_manifest(tmp_path)
    assert err.value.code == "citypack.no_manifest"


@pytest.mark.parametrize(
    ("old", "new", "field", "fragment"),
    [
        ('name = "demo"', 'name = "Demo City"', "name", "lower-case"),
        ('name = "demo"', "", "name", "missing required field"),
        ('city_code = "360100"', 'city_code = "3601"', "city_code", "6-digit"),
        ('timezone = "Asia/Shanghai"', 'timezone = "Mars/Olympus"', "timezone", "unknown time"),
        ('format = "cbengine"', 'format = "sumo"', "roadnet.format", "cbengine"),
        ('file = "roads.txt"', 'file = "gone.txt"', "roadnet.file", "not found"),
        ('file = "roads.txt"', 'file = "../roads.txt"', "roadnet.file", "inside the pack"),
        ('file = "admin.json"', 'file = "missing.json"', "admin.file", "not found"),
        ("center = [115.86, 28.68]", "center = [215.0, 28.68]", "center", "[lon, lat]"),
        ("center = [115.86, 28.68]", 'centre = "here"', "centre", "unknown field"),
        ("[roadnet]", "[roadnet]\nbbox = [2, 0, 1, 1]", "roadnet.bbox", "west"),
        ("[roadnet]", "[roadnet\n", "toml", "TOML syntax"),
    ],
)
def test_bad_manifests_name_the_field(
    tmp_path: Path, old: str, new: str, field: str, fragment: str
) -> None:
    assert old in GOOD
    (tmp_path / "roads.txt").write_text("a file that exists, but outside the pack")
    with pytest.raises(InvalidInput) as err:
        read_manifest(write_pack(tmp_path / "pack", GOOD.replace(old, new, 1)))
    assert err.value.code == "citypack.bad_manifest"
    assert err.value.errors[0].field == field
    assert fragment in err.value.message_en
    assert "城市包清单" in err.value.message_zh
