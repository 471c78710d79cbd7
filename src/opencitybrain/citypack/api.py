"""HTTP routes of the loaded city: summary, map layers, point lookup and routing."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from opencitybrain.apikit.auth import CityReader
from opencitybrain.apikit.problems import PROBLEM_RESPONSES
from opencitybrain.apikit.services import registry
from opencitybrain.citypack.service import CityService
from opencitybrain.kernel.errors import FieldError, InvalidInput

router = APIRouter(prefix="/api/v1/city", tags=["city 城市"], responses=PROBLEM_RESPONSES)

GEOJSON = "application/geo+json"
_CACHE = {"Cache-Control": "private, max-age=300"}
Lon = Annotated[float, Query(ge=-180, le=180, description="经度 WGS-84 longitude")]
Lat = Annotated[float, Query(ge=-90, le=90, description="纬度 WGS-84 latitude")]


async def _city(request: Request) -> CityService:
    return registry(request).get(CityService)


City = Annotated[CityService, Depends(_city)]
_GEO_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {GEOJSON: {}}, "description": "GeoJSON FeatureCollection"}
}


@router.get("", responses={200: {"content": {"application/json": {}}, "description": "city"}})
def city(ctx: CityReader, svc: City) -> Response:
    """Return the city's identity, extent and statistics (per county and road class)."""
    return Response(svc.summary_json(), media_type="application/json", headers=_CACHE)


@router.get("/regions", responses=_GEO_RESPONSE)
def regions(
    ctx: CityReader,
    svc: City,
    level: Literal["county", "street", "community"] = "county",
) -> Response:
    """Return county, street or community boundaries as GeoJSON."""
    return Response(svc.regions_geojson(level), media_type=GEOJSON, headers=_CACHE)


@router.get("/roads", responses=_GEO_RESPONSE)
def roads(
    ctx: CityReader,
    svc: City,
    zoom: Annotated[int, Query(ge=0, le=24, description="地图缩放级别 map zoom")] = 12,
) -> Response:
    """Return the roads to draw at a zoom level (main roads, simplified, when zoomed out)."""
    return Response(svc.roads_geojson(zoom), media_type=GEOJSON, headers=_CACHE)


@router.get("/intersections", responses=_GEO_RESPONSE)
def intersections(ctx: CityReader, svc: City) -> Response:
    """Return every intersection with its signal flag."""
    return Response(svc.intersections_geojson(), media_type=GEOJSON, headers=_CACHE)


_NUM = r"-?\d{1,3}(\.\d+)?"
_BBOX_PATTERN = rf"^{_NUM},{_NUM},{_NUM},{_NUM}$"


def _bbox(raw: str) -> tuple[float, float, float, float]:
    try:
        w, s, e, n = (float(x) for x in raw.split(","))
    except ValueError:
        raise InvalidInput(
            "city.bad_bbox",
            "bbox 须为 西,南,东,北 四个数",
            "bbox must be west,south,east,north",
            (FieldError("bbox", "four comma-separated numbers"),),
        ) from None
    if not (-180 <= w <= e <= 180 and -90 <= s <= n <= 90):
        raise InvalidInput(
            "city.bad_bbox",
            "bbox 范围无效",
            "bbox out of range or inverted",
            (FieldError("bbox", "need west<=east, south<=north, valid degrees"),),
        )
    return w, s, e, n


@router.get("/grids", responses=_GEO_RESPONSE)
def grids(
    ctx: CityReader,
    svc: City,
    bbox: Annotated[
        str,
        Query(max_length=100, pattern=_BBOX_PATTERN, description="west,south,east,north"),
    ],
) -> Response:
    """Return the ~100 m management grids (GB/T 30428 codes) inside a bbox."""
    return Response(svc.grids_geojson(_bbox(bbox)), media_type=GEOJSON)


@router.get("/locate")
def locate(ctx: CityReader, svc: City, lon: Lon, lat: Lat) -> dict[str, object]:
    """Return the county, street, community and grid a point falls in."""
    return svc.locate(lon, lat)


@router.get("/route")
def route(
    ctx: CityReader,
    svc: City,
    from_lon: Lon,
    from_lat: Lat,
    to_lon: Lon,
    to_lat: Lat,
) -> dict[str, object]:
    """Return the fastest route between two points (free-flow travel time)."""
    return svc.route((from_lon, from_lat), (to_lon, to_lat))
