"""Decode TopoJSON topologies into shapely geometries with their properties.

TopoJSON stores each shared border once, as an "arc"; polygons list the arcs of their
rings by index, a negative index ``~i`` meaning arc ``i`` walked backwards. Quantized
topologies store arc positions as integer deltas that a ``transform`` (scale and
translate) turns back into coordinates. Only arcs are shared, so two neighbouring
polygons decoded here have bit-identical common borders.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from opencitybrain.kernel.errors import InvalidInput

__all__ = ["TopoFeature", "decode_topology", "read_topology"]

_ARC_TYPES = {"LineString", "MultiLineString", "Polygon", "MultiPolygon"}


@dataclass(frozen=True, slots=True)
class TopoFeature:
    """Hold one decoded geometry of a topology with its id and properties."""

    object_name: str
    geometry: BaseGeometry
    properties: dict[str, Any] = field(default_factory=dict)
    id: str | int | None = None


def _invalid(message_zh: str, message_en: str) -> InvalidInput:
    return InvalidInput("geo.topojson.invalid", message_zh, message_en)


def read_topology(path: str | Path, object_name: str | None = None) -> list[TopoFeature]:
    """Read a TopoJSON file and decode its objects (or only ``object_name``)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise _invalid(
            f"无法读取 TopoJSON 文件：{path}", f"cannot read TopoJSON file: {path}"
        ) from exc
    try:
        topology = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise _invalid(
            f"TopoJSON 不是合法的 JSON：{exc}", f"TopoJSON is not valid JSON: {exc}"
        ) from exc
    return decode_topology(topology, object_name)


def decode_topology(topology: Any, object_name: str | None = None) -> list[TopoFeature]:
    """Decode a parsed Topology; geometries with no type or no arcs are skipped."""
    if not isinstance(topology, Mapping) or topology.get("type") != "Topology":
        raise _invalid("输入不是 TopoJSON Topology", "input is not a TopoJSON Topology")
    objects = topology.get("objects")
    if not isinstance(objects, Mapping):
        raise _invalid("Topology 缺少 objects", "Topology has no objects")
    if object_name is not None and object_name not in objects:
        raise _invalid(
            f"Topology 中没有对象 {object_name}", f"Topology has no object {object_name}"
        )
    arcs = _decode_arcs(topology.get("arcs", []), topology.get("transform"))
    names = [object_name] if object_name is not None else list(objects)
    features: list[TopoFeature] = []
    for name in names:
        for geometry in _leaves(objects[name]):
            shape = _to_shape(geometry, arcs, topology.get("transform"))
            if shape is None:
                continue
            props = geometry.get("properties") or {}
            features.append(TopoFeature(str(name), shape, dict(props), geometry.get("id")))
    return features


def _leaves(geometry: Any) -> Iterator[Mapping[str, Any]]:
    """Yield the non-collection geometries of an object, depth first."""
    if not isinstance(geometry, Mapping):
        return
    if geometry.get("type") == "GeometryCollection":
        for child in geometry.get("geometries") or []:
            yield from _leaves(child)
    else:
        yield geometry


def _decode_arcs(raw_arcs: Any, transform: Any) -> list[NDArray[np.float64]]:
    """Turn every arc into an (n, 2) float array of absolute coordinates."""
    if not isinstance(raw_arcs, Sequence):
        raise _invalid("Topology 的 arcs 必须是数组", "Topology arcs must be an array")
    scale, translate = _transform_parts(transform)
    decoded: list[NDArray[np.float64]] = []
    for index, arc in enumerate(raw_arcs):
        try:
            positions = np.array([position[:2] for position in arc], dtype=np.float64)
        except (TypeError, ValueError, IndexError) as exc:
            raise _invalid(
                f"第 {index} 条弧的坐标无效", f"arc {index} has invalid positions"
            ) from exc
        positions = positions.reshape(-1, 2)
        if scale is not None and translate is not None:
            # Quantized arcs hold the first position absolutely and the rest as deltas.
            positions = np.cumsum(positions, axis=0) * scale + translate
        decoded.append(positions)
    return decoded


def _transform_parts(
    transform: Any,
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | tuple[None, None]:
    if transform is None:
        return None, None
    try:
        scale = np.asarray(transform["scale"], dtype=np.float64)[:2]
        translate = np.asarray(transform["translate"], dtype=np.float64)[:2]
    except (KeyError, TypeError, ValueError) as exc:
        raise _invalid("Topology 的 transform 无效", "Topology transform is invalid") from exc
    if scale.shape != (2,) or translate.shape != (2,):
        raise _invalid("Topology 的 transform 无效", "Topology transform is invalid")
    return scale, translate


def _line(indices: Any, arcs: list[NDArray[np.float64]]) -> NDArray[np.float64]:
    """Join arcs into one coordinate run; consecutive arcs share their end point."""
    pieces: list[NDArray[np.float64]] = []
    for position, index in enumerate(indices):
        if not isinstance(index, int) or not -len(arcs) <= index < len(arcs):
            raise _invalid(f"弧索引越界：{index}", f"arc index out of range: {index}")
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        pieces.append(arc if position == 0 else arc[1:])
    if not pieces:
        return np.empty((0, 2))
    return np.concatenate(pieces)


def _polygon(rings: Any, arcs: list[NDArray[np.float64]]) -> shapely.Polygon | None:
    coords = [_line(ring, arcs) for ring in rings]
    # A ring needs four positions (closed triangle); degenerate rings carry no area.
    coords = [ring for ring in coords if len(ring) >= 4]
    if not coords:
        return None
    return shapely.Polygon(coords[0], coords[1:])


def _to_shape(
    geometry: Mapping[str, Any], arcs: list[NDArray[np.float64]], transform: Any
) -> BaseGeometry | None:
    kind = geometry.get("type")
    if kind in _ARC_TYPES:
        parts = geometry.get("arcs")
        if not parts:
            return None
        if kind == "LineString":
            return shapely.LineString(_line(parts, arcs))
        if kind == "MultiLineString":
            return shapely.MultiLineString([_line(part, arcs) for part in parts])
        if kind == "Polygon":
            return _polygon(parts, arcs)
        polygons = [p for p in (_polygon(rings, arcs) for rings in parts) if p is not None]
        return shapely.MultiPolygon(polygons) if polygons else None
    if kind in {"Point", "MultiPoint"}:
        coords = geometry.get("coordinates")
        if coords is None:
            return None
        points = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
        scale, translate = _transform_parts(transform)
        if scale is not None and translate is not None:
            # Point positions are quantized but never delta-encoded.
            points = points * scale + translate
        return shapely.Point(points[0]) if kind == "Point" else shapely.MultiPoint(points)
    return None
