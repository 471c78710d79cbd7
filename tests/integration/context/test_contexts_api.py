"""NGSI-LD @contexts over HTTP: host, use, list, serve, delete, and reload after a restart."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from opencitybrain.context.contexts_service import load_stored_contexts
from opencitybrain.context.jsonld import CORE_CONTEXT_URL, ContextResolver
from tests.integration.context.test_batch_api import LINK_REL, PARKING, sdm
from tests.support import DemoCity, bearer

CONTEXTS = "/ngsi-ld/v1/jsonldContexts"
TENANT = "ctxtest"
NS = "https://nanchang.example.org/ns#"
# The city's own terms on top of the Smart Data Models parking context.
NANCHANG_CONTEXT = {"@context": [PARKING, {"district": f"{NS}district", "berths": f"{NS}berths"}]}
# Ganjiang riverside, Nanchang.
GANJIANG = (115.8890, 28.6830)


@pytest.fixture(scope="module")
def h(tokens: dict[str, str]) -> dict[str, str]:
    return {**bearer(tokens["operator"]), "NGSILD-Tenant": TENANT}


def _host(client: TestClient, h: dict[str, str], document: Any) -> str:
    res = client.post(CONTEXTS, json=document, headers={**h, "Content-Type": "application/json"})
    assert res.status_code == 201, res.text
    location = res.headers["location"]
    assert location.startswith(f"{CONTEXTS}/")
    return f"http://testserver{location}"


def _link(h: dict[str, str], url: str) -> dict[str, str]:
    return {**h, "Content-Type": "application/json", "Link": f"<{url}>; {LINK_REL}"}


def test_hosted_context_serves_entities(client: TestClient, h: dict[str, str]) -> None:
    url = _host(client, h, NANCHANG_CONTEXT)
    spot = sdm("ParkingSpot", "urn:ngsi-ld:ParkingSpot:nanchang:ctx:1", GANJIANG)
    del spot["@context"]
    spot["district"] = {"type": "Property", "value": "东湖区"}
    res = client.post("/ngsi-ld/v1/entities", json=spot, headers=_link(h, url))
    assert res.status_code == 201, res.text
    got = client.get(f"/ngsi-ld/v1/entities/{spot['id']}", headers=_link(h, url)).json()
    assert got["district"]["value"] == "东湖区"
    assert got["type"] == "ParkingSpot"
    plain = client.get(f"/ngsi-ld/v1/entities/{spot['id']}", headers=h).json()
    assert f"{NS}district" in plain


def test_list_serve_and_details(client: TestClient, h: dict[str, str]) -> None:
    url = _host(client, h, NANCHANG_CONTEXT)
    local_id = url.rsplit("/", 1)[1]
    listed = client.get(CONTEXTS, headers=h).json()
    assert url in listed
    assert CORE_CONTEXT_URL in listed
    details = client.get(f"{CONTEXTS}?details=true", headers=h).json()
    mine = next(d for d in details if d["URL"] == url)
    assert mine["kind"] == "Hosted"
    assert mine["localId"] == local_id
    assert mine["createdAt"].endswith("Z")
    core = next(d for d in details if d["URL"] == CORE_CONTEXT_URL)
    assert core["kind"] == "Cached"
    hosted = client.get(f"{CONTEXTS}?details=true&kind=Hosted", headers=h).json()
    assert {d["kind"] for d in hosted} == {"Hosted"}
    assert client.get(f"{CONTEXTS}?kind=Cached", headers=h).json() == [CORE_CONTEXT_URL]
    for name in (local_id, quote(url, safe="")):
        res = client.get(f"{CONTEXTS}/{name}", headers=h)
        assert res.status_code == 200, res.text
        assert res.headers["content-type"] == "application/json"
        assert res.json() == NANCHANG_CONTEXT
    one = client.get(f"{CONTEXTS}/{local_id}?details=true", headers=h).json()
    assert one == mine
    res = client.get(f"{CONTEXTS}/{quote(CORE_CONTEXT_URL, safe='')}", headers=h)
    assert res.status_code == 200
    assert "@vocab" in str(res.json()["@context"])
    res = client.get(f"{CONTEXTS}/{quote(PARKING, safe='')}", headers=h)
    assert "ParkingSpot" in res.json()["@context"]
    assert client.get(f"{CONTEXTS}/nothing-here", headers=h).status_code == 404


def test_delete_hosted_but_not_packaged(client: TestClient, h: dict[str, str]) -> None:
    url = _host(client, h, NANCHANG_CONTEXT)
    local_id = url.rsplit("/", 1)[1]
    assert client.delete(f"{CONTEXTS}/{local_id}", headers=h).status_code == 204
    assert client.get(f"{CONTEXTS}/{local_id}", headers=h).status_code == 404
    res = client.get("/ngsi-ld/v1/entities?type=ParkingSpot", headers=_link(h, url))
    assert res.status_code == 503
    assert res.json()["type"].endswith("/LdContextNotAvailable")
    res = client.delete(f"{CONTEXTS}/{quote(CORE_CONTEXT_URL, safe='')}", headers=h)
    assert res.status_code == 400
    assert res.json()["type"].endswith("/BadRequestData")
    assert client.delete(f"{CONTEXTS}/{quote(PARKING, safe='')}", headers=h).status_code == 400
    assert client.delete(f"{CONTEXTS}/{local_id}", headers=h).status_code == 404
    assert client.delete(f"{CONTEXTS}/{local_id}?reload=true", headers=h).status_code == 400
    assert client.delete(f"{CONTEXTS}/{local_id}?reload=maybe", headers=h).status_code == 400


def test_bad_documents_are_refused(client: TestClient, h: dict[str, str]) -> None:
    jh = {**h, "Content-Type": "application/json"}
    res = client.post(CONTEXTS, json={"district": f"{NS}district"}, headers=jh)
    assert res.status_code == 400
    assert res.json()["type"].endswith("/BadRequestData")
    res = client.post(CONTEXTS, json=[NANCHANG_CONTEXT], headers=jh)
    assert res.status_code == 400
    res = client.post(CONTEXTS, json={"@context": 42}, headers=jh)
    assert res.status_code == 400
    unknown = {"@context": ["https://unknown.example.org/remote-context.jsonld"]}
    res = client.post(CONTEXTS, json=unknown, headers=jh)
    assert res.status_code == 503
    assert res.json()["type"].endswith("/LdContextNotAvailable")
    res = client.get(f"{CONTEXTS}?kind=Remote", headers=h)
    assert res.status_code == 400
    res = client.get(CONTEXTS, headers={**h, "Accept": "text/html"})
    assert res.status_code == 406


def test_citizens_cannot_add_contexts(client: TestClient, tokens: dict[str, str]) -> None:
    res = client.post(CONTEXTS, json=NANCHANG_CONTEXT, headers=bearer(tokens["citizen"]))
    assert res.status_code == 403


def test_stored_contexts_survive_a_restart(
    client: TestClient, h: dict[str, str], demo_city: DemoCity
) -> None:
    base = _host(client, h, NANCHANG_CONTEXT)
    # A context naming another hosted one loads whatever order the store lists them in.
    derived = _host(client, h, {"@context": [base, {"lane": f"{NS}lane"}]})
    store = demo_city.platform.broker.store
    fresh = ContextResolver()
    loaded = load_stored_contexts(store, fresh)
    assert loaded == len(store.list_contexts())
    assert fresh.expand("lane", derived) == f"{NS}lane"
    assert fresh.expand("district", derived) == f"{NS}district"
    assert (
        fresh.expand("ParkingSpot", base)
        == "https://smartdatamodels.org/dataModel.Parking/ParkingSpot"
    )


class _Reversed:
    """List a store's contexts newest first, so a context comes before one it names."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def list_contexts(self) -> list[Any]:
        return list(reversed(self.store.list_contexts()))

    def get_context(self, url: str) -> Any:
        return self.store.get_context(url)


def test_contexts_load_in_any_order(
    client: TestClient, h: dict[str, str], demo_city: DemoCity
) -> None:
    base = _host(client, h, NANCHANG_CONTEXT)
    derived = _host(client, h, {"@context": [base, {"gate": f"{NS}gate"}]})
    store = _Reversed(demo_city.platform.broker.store)
    fresh = ContextResolver()
    assert load_stored_contexts(store, fresh) == len(store.list_contexts())  # type: ignore[arg-type]
    assert fresh.expand("gate", derived) == f"{NS}gate"
    assert fresh.expand("berths", derived) == f"{NS}berths"
