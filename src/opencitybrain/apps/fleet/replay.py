"""Replay real taxi trajectories (Wuxi, 2020-07-18) moved onto the demo city.

The source (``data/wuxi_taxi_2020-07-18.csv.gz``, provenance in DATA_SOURCES.md) holds
20,188 points of 475 taxis: longitude, latitude (WGS-84), local time, taxi id; no speed,
heading or duty status. What the replay does to it, in order:

1. **Cleaning**: points more than 60 km from the set's median position (a few taxis
   report from other provinces: receiver faults) and repeated (taxi, time) pairs are
   dropped.
2. **Move (affine shift in metres)**: every point is projected to metres (UTM zone 50N
   around the set's centroid), shifted by the vector from the centroid to the target
   centre, and unprojected around the target (the demo city's centre). Distances,
   speeds and shapes are kept; the trajectories do not follow Nanchang's streets.
3. **Time shift**: ``t' = start + (t - first) / rate``; ``rate`` > 1 compresses time
   (reported speeds stay the real ones).
4. **Derived fields**: speed (km/h) and heading (degrees) from consecutive points of a
   taxi (the first point: 0); the source is a 5× down-sampling, so a gap longer than
   ``break_s`` (default 10 min) is read as a break: the point before it reports
   ``off_duty``, as does each taxi's last point (otherwise every gap would be a
   terminal-offline alert).
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from typing import Any

import numpy as np
import pyarrow.csv as pacsv
from numpy.typing import NDArray

from opencitybrain.apps.fleet.model import Vehicle, VehicleClass
from opencitybrain.geo.projection import LocalProjection
from opencitybrain.kernel.clock import CHINA_TZ

__all__ = ["Trajectories", "load_wuxi", "wuxi_messages", "wuxi_vehicles"]

F64 = NDArray[np.float64]
SOURCE = "wuxi_taxi_2020-07-18.csv.gz"
MAX_FROM_MEDIAN_M = 60_000.0


@dataclass(frozen=True, eq=False)
class Trajectories:
    """Points sorted by (taxi, time): taxi index, epoch seconds, lon, lat; taxi ids."""

    taxi: NDArray[np.int64]
    t: F64
    lon: F64
    lat: F64
    ids: list[str]

    def __len__(self) -> int:
        return len(self.t)

    def centroid(self) -> tuple[float, float]:
        """Return the mean position (lon, lat)."""
        return float(self.lon.mean()), float(self.lat.mean())


def _epoch(text: list[str]) -> F64:
    fmt = "%Y-%m-%d %H:%M:%S"
    return np.array([datetime.strptime(s, fmt).replace(tzinfo=CHINA_TZ).timestamp() for s in text])


def load_wuxi() -> Trajectories:
    """Read and clean the Wuxi taxi points shipped with the app."""
    raw = files("opencitybrain.apps.fleet").joinpath("data", SOURCE).read_bytes()
    table = pacsv.read_csv(
        io.BytesIO(gzip.decompress(raw)),
        convert_options=pacsv.ConvertOptions(
            column_types={"name_id": "string", "timestamp": "string"}
        ),
    )
    lon = table["longitude"].to_numpy().astype(np.float64)
    lat = table["latitude"].to_numpy().astype(np.float64)
    t = _epoch(table["timestamp"].to_pylist())
    names = np.asarray(table["name_id"].to_pylist(), dtype=object)
    proj = LocalProjection(float(np.median(lon)), float(np.median(lat)))
    x, y = proj.to_metres(lon, lat)
    near = np.hypot(x - np.median(x), y - np.median(y)) <= MAX_FROM_MEDIAN_M
    ids, taxi = np.unique(names[near], return_inverse=True)
    lon, lat, t = lon[near], lat[near], t[near]
    order = np.lexsort((t, taxi))
    taxi, t, lon, lat = taxi[order], t[order], lon[order], lat[order]
    keep = np.ones(len(t), dtype=np.bool_)
    keep[1:] = (taxi[1:] != taxi[:-1]) | (t[1:] != t[:-1])
    return Trajectories(taxi[keep].astype(np.int64), t[keep], lon[keep], lat[keep], list(ids))


def move_onto(tr: Trajectories, centre: tuple[float, float]) -> tuple[F64, F64]:
    """Return the points shifted (in metres) so the set's centroid lies on ``centre``."""
    c_lon, c_lat = tr.centroid()
    src = LocalProjection(c_lon, c_lat)
    dst = LocalProjection(*centre)
    x, y = src.to_metres(tr.lon, tr.lat)
    cx, cy = src.to_metres(np.array([c_lon]), np.array([c_lat]))
    tx, ty = dst.to_metres(np.array([centre[0]]), np.array([centre[1]]))
    return dst.to_lonlat(x - cx[0] + tx[0], y - cy[0] + ty[0])


def wuxi_device(i: int) -> str:
    """Return the device id of replayed taxi number i."""
    return f"WX{i:04d}"


def wuxi_plate(i: int) -> str:
    """Return a made-up Nanchang plate for replayed taxi number i (the source has none)."""
    return f"赣AW{i:04d}"


def wuxi_vehicles(tr: Trajectories) -> list[Vehicle]:
    """Return the replayed taxis as vehicles to register."""
    return [Vehicle(wuxi_device(i), wuxi_plate(i), VehicleClass.TAXI) for i in range(len(tr.ids))]


def wuxi_messages(
    tr: Trajectories,
    centre: tuple[float, float],
    start: float,
    *,
    rate: float = 1.0,
    break_s: float = 600.0,
) -> list[dict[str, Any]]:
    """Return position messages for the replay, in (time, device) order."""
    lon, lat = move_onto(tr, centre)
    proj = LocalProjection(*centre)
    x, y = proj.to_metres(lon, lat)
    same = np.zeros(len(tr), dtype=np.bool_)
    same[1:] = tr.taxi[1:] == tr.taxi[:-1]
    dt = np.diff(tr.t, prepend=tr.t[0])
    dx, dy = np.diff(x, prepend=x[0]), np.diff(y, prepend=y[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = np.where(same & (dt > 0), np.hypot(dx, dy) / dt * 3.6, 0.0)
    speed = np.clip(np.nan_to_num(speed), 0.0, 150.0)
    heading = np.where(same, np.degrees(np.arctan2(dx, dy)) % 360.0, 0.0)
    last = np.ones(len(tr), dtype=np.bool_)
    last[:-1] = ~same[1:] | (np.diff(tr.t) > break_s)
    t = start + (tr.t - tr.t.min()) / rate
    msgs = [
        {
            "device_id": wuxi_device(k),
            "plate": wuxi_plate(k),
            "time": round(tt * 1000),
            "lon": round(a, 7),
            "lat": round(b, 7),
            "speed": round(s, 1),
            "heading": round(h, 1),
            "status": "off_duty" if end else "on_duty",
        }
        for k, tt, a, b, s, h, end in zip(
            tr.taxi.tolist(), t.tolist(), lon.tolist(), lat.tolist(), speed.tolist(),
            heading.tolist(), last.tolist(), strict=True,
        )
    ]  # fmt: skip
    msgs.sort(key=lambda m: (m["time"], m["device_id"]))
    return msgs
