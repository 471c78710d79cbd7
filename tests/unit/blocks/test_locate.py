from __future__ import annotations

import pyarrow as pa

from opencitybrain.blocks.locate import Gazetteer, Placement, by_address, by_code, locate

from .fakes import SquareLocator

GAZ = Gazetteer(
    "南昌",
    {"东湖区": "360102", "青山湖区": "360111", "湖区": "999999"},
    {"东湖区第02街道": "360102002", "青山湖区第01街道": "360111001"},
)


def test_addresses_give_county_and_street_by_name() -> None:
    found = by_address(
        pa.array(
            [
                "南昌市东湖区第02街道金沙街252号",
                "青山湖区第01街道某路1号",
                "南昌市东湖区第09街道某路",
                "上海市黄浦区",
                None,
                "南昌市青山湖区第02街道",
            ]
        ),
        GAZ,
    )
    assert found["county"].to_pylist() == ["360102", "360111", "360102", "", "", "360111"]
    assert found["street"].to_pylist() == ["360102002", "360111001", "", "", "", ""]


def test_codes_reach_the_levels_they_name() -> None:
    found = by_code(pa.array(["360102001002003", "360102", "abc", None, "3601020011"]))
    assert found["county"].to_pylist() == ["360102", "360102", "", "", ""]
    assert found["street"].to_pylist() == ["360102001", "", "", "", ""]
    assert found["grid"].to_pylist() == ["360102001002003", "", "", "", ""]


def test_placement_is_inferred_points_first() -> None:
    assert Placement.infer(["id", "Lat", "LON", "address"]) == Placement(lon="LON", lat="Lat")
    assert Placement.infer(["GMSFHM", "ZZ"]) == Placement(address="ZZ")
    assert Placement.infer(["grid_code"]) == Placement(code="grid_code")


def test_points_are_located_and_outside_points_stay_empty() -> None:
    table = pa.table({"lon": [115.057, 116.55, 120.0, None], "lat": [28.05, 29.95, 28.0, 28.0]})
    out = locate(table, Placement(lon="lon", lat="lat"), points=SquareLocator())
    assert out["_county"].to_pylist() == ["360102", "360111", "", ""]
    assert out["_grid"].to_pylist()[0] == "360102000000005"


def test_geojson_points_are_located() -> None:
    table = pa.table(
        {
            "location": [
                '{"type": "Point", "coordinates": [115.057, 28.05]}',
                '{"type":"LineString","coordinates":[[116.5,29.5],[116.6,29.6]]}',
                "not json",
                None,
            ]
        }
    )
    placement = Placement.infer(table.column_names)
    assert placement == Placement(geometry="location")
    out = locate(table, placement, points=SquareLocator())
    assert out["_county"].to_pylist() == ["360102", "360111", "", ""]
