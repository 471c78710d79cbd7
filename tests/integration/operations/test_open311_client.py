"""A real GeoReport v2 client from PyPI (``georeport``) files and reads requests over HTTP.

``georeport`` reads services, definitions and requests in JSON or XML (parsed with
``xmltodict``); it has no create call, so requests are filed with a form POST through
``requests``, as the spec describes, with the API key in the ``api_key`` field.
"""

from __future__ import annotations

import random

import pytest
import requests
import xmltodict
from georeport import GeoReport

from tests.support import DemoCity


def _point() -> tuple[str, str]:
    # 青山湖区 east of the river, away from the other Open311 tests' points.
    lon = 115.945 + random.randrange(0, 40) * 0.002
    lat = 28.685 + random.randrange(0, 20) * 0.002
    return f"{lon:.6f}", f"{lat:.6f}"


def _file(root: str, fmt: str, key: str, code: str, text: str) -> str:
    lon, lat = _point()
    res = requests.post(
        f"{root}/requests.{fmt}",
        data={
            "api_key": key,
            "service_code": code,
            "lat": lat,
            "long": lon,
            "description": text,
            "address_string": "青山湖大道",
            "device_id": f"client-{random.randrange(10**9)}",
            "email": "citizen@example.cn",
        },
        timeout=30,
    )
    assert res.status_code == 201, res.text
    if fmt == "json":
        return str(res.json()[0]["service_request_id"])
    return str(xmltodict.parse(res.content)["service_requests"]["request"]["service_request_id"])


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_georeport_client_lists_files_and_reads(
    live_server: str, demo_city: DemoCity, fmt: str
) -> None:
    root = f"{live_server}/open311/v2"
    key = demo_city.credentials["demo-app"].secret
    client = GeoReport(root, api_key=key, output_format=fmt)

    services = client.get_service_list()
    codes = [s["service_code"] for s in services]
    assert "E0102" in codes
    assert "C0101" in codes
    garbage = next(s for s in services if s["service_code"] == "E0102")
    assert garbage["type"] == "realtime"
    assert str(garbage["metadata"]).lower() == "false"

    definition = client.get_service_definition("E0102")
    assert definition["service_code"] == "E0102"
    assert not definition["attributes"]

    text = f"路边垃圾桶满溢 & 发臭 <{fmt}>"
    rid = _file(root, fmt, key, "E0102", text)
    one = client.get_service_request(rid)
    assert one["service_request_id"] == rid
    assert one["status"] == "open"
    assert one["description"] == text
    assert one["service_code"] == "E0102"
    assert "citizen@example.cn" not in repr(one)

    found = client.get_service_requests(service_request_id=rid)
    items = found if isinstance(found, list) else [found]  # xmltodict: one item, no list
    assert [r["service_request_id"] for r in items] == [rid]
    recent = client.get_service_requests(service_code="E0102", status="open")
    recent_items = recent if isinstance(recent, list) else [recent]
    assert rid in [r["service_request_id"] for r in recent_items]


def test_the_client_sees_the_specs_errors(live_server: str) -> None:
    client = GeoReport(f"{live_server}/open311/v2")
    with pytest.raises(requests.HTTPError) as err:
        client.get_service_definition("E9999")
    assert err.value.response.status_code == 404
    assert err.value.response.json()[0]["code"] == 404
    res = requests.post(
        f"{live_server}/open311/v2/requests.json",
        data={"service_code": "E0102", "lat": "28.68", "long": "115.9", "description": "x"},
        timeout=30,
    )
    assert res.status_code == 401
    assert res.json()[0]["code"] == 401
