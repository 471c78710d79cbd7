"""Drive a running OpenCityBrain broker with ngsildclient (PyPI) and print what it saw as JSON.

Run with the client venv's python (``.venv-clients/bin/python``), never the project's:
ngsildclient pins old versions of httpx and rich. The pytest test
``tests/integration/context/test_ngsildclient.py`` starts the server and a notification
receiver, runs this script, and asserts on its output.

    python ngsild_client_script.py --url http://127.0.0.1:8000 --token TOKEN \
        --receiver http://127.0.0.1:9000/notify --prefix urn:ngsi-ld:ParkingSpot:ncbtest \
        --tenant city

Each step records its result under its name; a step that raises records
``{"error": "<exception>"}`` and the script goes on, so one disagreement shows every other.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
from ngsildclient import Client, Entity
from ngsildclient.api.helper.subscription import SubscriptionBuilder
from requests.auth import AuthBase

PARKING = "https://smart-data-models.github.io/dataModel.Parking/context.jsonld"
CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"
CTX = [PARKING, CORE]


class Bearer(AuthBase):
    """Add the platform's Bearer token to every request (ngsildclient's custom_auth hook)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def spot(prefix: str, n: int, status: str) -> Entity:
    """Return a ParkingSpot entity built with ngsildclient's model API."""
    entity = Entity("ParkingSpot", f"{prefix}:{n}", ctx=CTX)
    entity.prop("status", status, observedat="2026-11-22T08:00:00Z")
    entity.prop("category", ["onStreet"])
    entity.gprop("location", (28.676 + n / 10_000, 115.907))  # (lat, lon), Nanchang
    entity.rel("refParkingSite", "urn:ngsi-ld:ParkingSite:ncbtest:bayi")
    return entity


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run every step against the broker and return their results by name."""
    out: dict[str, Any] = {}
    parts = urlsplit(args.url)

    def step(name: str, action: Callable[[], Any]) -> Any:
        try:
            out[name] = action()
        except Exception as exc:
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
            print(traceback.format_exc(), file=sys.stderr)
        return out[name]

    client = Client(
        hostname=parts.hostname or "127.0.0.1",
        port=parts.port or 80,
        custom_auth=Bearer(args.token),
        tenant=args.tenant,
        verbose=False,
    )
    out["connected"] = client.is_connected()
    prefix = args.prefix
    first = spot(prefix, 1, "free")

    step("create", lambda: client.create(first))
    step("exists", lambda: client.exists(first.id))

    def retrieve() -> dict[str, Any]:
        got = client.get(first.id, ctx=PARKING, asdict=True)
        return {k: got[k] for k in ("id", "type", "status", "refParkingSite") if k in got}

    step("retrieve", retrieve)

    def subscribe() -> str:
        subscription = (
            SubscriptionBuilder(args.receiver)
            .description("ngsildclient test: ParkingSpot status")
            .select_type("ParkingSpot")
            .watch(["status"])
            .notif(["status"])
            .context(PARKING)
            .build()
        )
        return str(client.subscriptions.create(subscription, raise_on_conflict=False))

    subscription_id = step("subscribe", subscribe)

    def update_attrs() -> dict[str, Any]:
        # Partial attribute update (PATCH /entities/{id}/attrs), sent through the client's
        # own session so its headers and auth apply.
        res = client.session.patch(
            f"{client.url}/ngsi-ld/v1/entities/{first.id}/attrs",
            data=json.dumps({"status": {"type": "Property", "value": "occupied"}, "@context": CTX}),
        )
        return {"status_code": res.status_code}

    step("update_attrs", update_attrs)

    def after_update() -> Any:
        return client.get(first.id, ctx=PARKING, asdict=True)["status"]["value"]

    step("after_update", after_update)

    def query() -> list[str]:
        found = client.query(type="ParkingSpot", q='status=="occupied"', ctx=PARKING)
        return sorted(e.id for e in found)

    step("query", query)
    step("count", lambda: client.entities.count(type="ParkingSpot", ctx=PARKING))

    more = [spot(prefix, n, "free") for n in range(2, 6)]

    def batch_upsert() -> dict[str, Any]:
        result = client.batch.upsert([*more, spot(prefix, 1, "closed")])
        return {"ok": result.ok, "success": sorted(result.success), "errors": result.errors}

    step("batch_upsert", batch_upsert)

    def query_free() -> list[str]:
        found = client.query(type="ParkingSpot", q='status=="free"', ctx=PARKING)
        return sorted(e.id for e in found)

    step("query_free", query_free)

    def query_alt() -> dict[str, Any]:
        # POST /entityOperations/query, with count=true first (ngsildclient's "alt" API).
        query = {"type": "Query", "entities": [{"type": "ParkingSpot"}], "q": 'status=="free"'}
        found = client.alt.query(query, ctx=PARKING)
        return {"count": client.alt.count(query, ctx=PARKING), "ids": sorted(e.id for e in found)}

    step("query_alt", query_alt)
    step("types", lambda: client.types.list())
    step("contexts", lambda: client.contexts.list())

    step("temporal", lambda: client.temporal.get(first.id, attrs=["status"], ctx=PARKING))

    def subscription_status() -> dict[str, Any]:
        time.sleep(args.settle)
        got = client.subscriptions.get(subscription_id, ctx=PARKING)
        keep = ("id", "status", "timesSent", "isActive", "entities", "watchedAttributes")
        return {k: got.get(k) for k in keep}

    if isinstance(subscription_id, str):
        step("subscription", subscription_status)
        step("unsubscribe", lambda: client.subscriptions.delete("ngsildclient test"))

    step("delete", lambda: client.delete(first))
    step("exists_after_delete", lambda: client.exists(first.id))
    step("batch_delete", lambda: client.batch.delete(more).ok)
    step("left", lambda: client.entities.count(type="ParkingSpot", q=f'id~="{prefix}"'))
    client.close()
    return out


def main() -> None:
    """Parse the arguments, run the steps and print their results as one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="broker base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--token", required=True, help="Bearer token with context:write")
    parser.add_argument("--receiver", required=True, help="notification endpoint URL")
    parser.add_argument("--prefix", default="urn:ngsi-ld:ParkingSpot:ncbtest")
    parser.add_argument("--tenant", default=None, help="NGSILD-Tenant of every request")
    parser.add_argument("--settle", type=float, default=0.5, help="seconds before reading status")
    print(json.dumps(run(parser.parse_args()), default=str))


if __name__ == "__main__":
    main()
