"""Build GeoJSON for the city's roads and intersections, simplified per zoom level."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from opencitybrain.geo.projection import LocalProjection
from opencitybrain.geo.roadgraph import RoadClass, RoadGraph


@dataclass(frozen=True)
class ZoomLevel:
    """What the map shows at a band of zoom levels."""

    max_zoom: int
    classes: frozenset[RoadClass]
    tolerance_m: float
    decimals: int


# Lower zooms show only the main roads, simplified; from zoom 13 everything, exact.
ZOOM_LEVELS: tuple[ZoomLevel, ...] = (
    ZoomLevel(9, frozenset({RoadClass.EXPRESSWAY, RoadClass.ARTERIAL}), 60.0, 4),
    ZoomLevel(
        11, frozenset({RoadClass.EXPRESSWAY, RoadClass.ARTERIAL, RoadClass.COLLECTOR}), 20.0, 5
    ),
    ZoomLevel(12, frozenset(RoadClass), 8.0, 5),
    ZoomLevel(24, frozenset(RoadClass), 0.0, 6),
)


def zoom_level(zoom: int) -> ZoomLevel:
    """Return the band a zoom level falls in."""
    for level in ZOOM_LEVELS:
        if zoom <= level.max_zoom:
            return level
    return ZOOM_LEVELS[-1]


def undirected_edges(graph: RoadGraph) -> np.ndarray:
    """Return one edge index per road segment (two directions of a road drawn once)."""
    a = np.minimum(graph.edge_from, graph.edge_to)
    b = np.maximum(graph.edge_from, graph.edge_to)
    # Keep the first edge of each (a, b) pair; parallel roads with other lengths stay apart.
    key = np.stack([a, b, np.round(graph.edge_length_m).astype(np.int64)], axis=1)
    _, first = np.unique(key, axis=0, return_index=True)
    return np.sort(first)


def road_features(
    graph: RoadGraph, projection: LocalProjection, level: ZoomLevel
) -> list[dict[str, Any]]:
    """Return road LineString features for a zoom band."""
    edges = undirected_edges(graph)
    keep = np.isin(graph.edge_class[edges], [c.value for c in level.classes])
    edges = edges[keep]
    lines_all = graph.edge_lines()
    lines = shapely.linestrings([lines_all[i] for i in edges]) if len(edges) else np.array([])
    if level.tolerance_m > 0 and len(edges):
        metric = projection.project(lines)
        lines = projection.unproject(shapely.simplify(metric, level.tolerance_m))
    coords = [np.round(shapely.get_coordinates(g), level.decimals).tolist() for g in lines]
    features = []
    for edge, line in zip(edges.tolist(), coords, strict=True):
        cls = RoadClass(int(graph.edge_class[edge]))
        features.append(
            {
                "type": "Feature",
                "id": int(graph.edge_ids[edge]),
                "geometry": {"type": "LineString", "coordinates": line},
                "properties": {
                    "id": int(graph.edge_ids[edge]),
                    "class": cls.en,
                    "lanes": int(graph.edge_lanes[edge]),
                    "speed_kmh": round(float(graph.edge_speed_mps[edge]) * 3.6),
                    "length_m": round(float(graph.edge_length_m[edge]), 1),
                },
            }
        )
    return features


def intersection_features(graph: RoadGraph) -> list[dict[str, Any]]:
    """Return intersection Point features with their signal flag."""
    lon = np.round(graph.node_lon, 6).tolist()
    lat = np.round(graph.node_lat, 6).tolist()
    ids = graph.node_ids.tolist()
    sig = graph.node_signalized.tolist()
    return [
        {
            "type": "Feature",
            "id": i,
            "geometry": {"type": "Point", "coordinates": [x, y]},
            "properties": {"id": i, "signalized": bool(s)},
        }
        for i, x, y, s in zip(ids, lon, lat, sig, strict=True)
    ]
