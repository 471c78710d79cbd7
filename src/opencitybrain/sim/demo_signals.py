"""Write the city pack's signalised intersections into the context broker at start."""

from __future__ import annotations

from typing import Any

from opencitybrain.citypack.model import CityPack
from opencitybrain.context.changes import history_of_entity
from opencitybrain.context.model import to_doc
from opencitybrain.context.parsing import parse_entity
from opencitybrain.context.service import ContextBroker
from opencitybrain.geo.roadgraph import APPROACHES

OCB_CONTEXT = "https://opencitybrain.org/ns/context.jsonld"


def signal_id(city_code: str, intersection_id: int) -> str:
    """Return the NGSI-LD id of a signalised intersection."""
    return f"urn:ngsi-ld:TrafficSignal:{city_code}:{intersection_id}"


def signal_payloads(pack: CityPack) -> list[dict[str, Any]]:
    """Return a TrafficSignal entity (normalized NGSI-LD) per signalised intersection."""
    g = pack.graph
    approaches = {int(n): row for n, row in zip(g.signal_nodes, g.signal_approaches, strict=True)}
    out = []
    for node in (i for i in range(g.n_nodes) if g.node_signalized[i]):
        roads = approaches.get(node)
        exits = (
            {
                d: (str(int(g.edge_ids[e])) if e >= 0 else None)
                for d, e in zip(APPROACHES, roads, strict=True)
            }
            if roads is not None
            else {}
        )
        out.append(
            {
                "id": signal_id(pack.manifest.city_code, int(g.node_ids[node])),
                "type": "TrafficSignal",
                "location": {
                    "type": "GeoProperty",
                    "value": {
                        "type": "Point",
                        "coordinates": [
                            round(float(g.node_lon[node]), 7),
                            round(float(g.node_lat[node]), 7),
                        ],
                    },
                },
                "intersectionId": {"type": "Property", "value": str(int(g.node_ids[node]))},
                "approaches": {"type": "JsonProperty", "json": exits},
                "controlMode": {"type": "Property", "value": "fixedTime"},
                "operationalStatus": {"type": "Property", "value": "operational"},
            }
        )
    return out


def seed_signals(broker: ContextBroker, pack: CityPack, tenant: str = "") -> int:
    """Upsert the pack's signals as TrafficSignal entities; return how many."""
    now = broker.clock.now()
    context = broker.resolver.compile([OCB_CONTEXT])
    entities = [parse_entity(p, broker.resolver, context, now=now) for p in signal_payloads(pack)]
    existing = broker.store.existing_ids(tenant, [e.id for e in entities])
    fresh = [e for e in entities if e.id not in existing]
    # Only new signals are written: a restart keeps the live state other systems updated.
    if fresh:
        broker.store.create_many(tenant, [to_doc(e) for e in fresh])
        broker.store.append_history(tenant, [r for e in fresh for r in history_of_entity(e, now)])
    return len(fresh)
