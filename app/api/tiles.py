"""Vector tiles (Mapbox Vector Tiles in WebMercatorQuad, as tipg and MapLibre use them)
and their TileJSON, for the tile layers of the OGC collections.

Its own router, routed first: a map asks for tiles dozens at a time, and routing tries
routes in order.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy.orm import Session

from app.api import schemas, writers
from app.api.caching import answer_in_session, cached_response
from app.api.deps import SessionDep
from app.api.ogc_params import known_round
from app.api.rendered import Rendered
from app.errors import InvalidParameter, NotFound
from app.services import ogc

router = APIRouter(
    prefix="/ogc", tags=["OGC API - Features and tiles"], responses=schemas.OGC_ERRORS
)

MVT = "application/vnd.mapbox-vector-tile"


@router.get(
    "/tiles/{layer}/{z}/{x}/{y}.pbf",
    summary="A Mapbox vector tile (WebMercatorQuad); 204 when it holds nothing",
    responses={200: {"content": {MVT: {}}}, 204: {"description": "No data in this tile"}},
)
async def vector_tile(
    request: Request,
    layer: Annotated[str, Path(description="Layer.", examples=["mantikas"])],
    z: Annotated[int, Path(ge=ogc.MIN_ZOOM, le=ogc.MAX_ZOOM, description="Zoom.", examples=[5])],
    x: Annotated[int, Path(ge=0, description="Column.", examples=[18])],
    y: Annotated[int, Path(ge=0, description="Row.", examples=[13])],
    round: Annotated[
        str | None, Query(max_length=64, description="Round (statistics layers).", examples=["R54"])
    ] = None,
) -> Response:
    found = _tile_layer(layer)
    if x >= 2**z or y >= 2**z:
        raise InvalidParameter(
            "x" if x >= 2**z else "y",
            f"tile {z}/{x}/{y} does not exist: x and y must be below {2**z}",
            where="path",
        )

    def render(session: Session) -> Rendered:
        code = ogc.round_for(session, found, round)  # 404 for an unknown round
        body = ogc.tile(session, found, z, x, y, code)
        return Rendered(body, MVT, status=200 if body else 204)

    return await answer_in_session(request, render)


def _tile_layer(layer: str) -> ogc.Collection:
    if layer not in ogc.TILE_LAYERS:
        raise NotFound(f"unknown tile layer '{layer}'; layers: {', '.join(ogc.TILE_LAYERS)}")
    return ogc.COLLECTIONS[layer]


@router.get("/tiles/{layer}/tilejson.json", summary="TileJSON of a vector tile layer")
def tilejson(
    request: Request,
    session: SessionDep,
    layer: Annotated[str, Path(description="Layer.", examples=["mantikas"])],
) -> Response:
    found = _tile_layer(layer)
    known_round(session, request.query_params.get("round"))
    base = str(request.base_url).rstrip("/") + "/ogc"
    suffix = f"?round={request.query_params['round']}" if "round" in request.query_params else ""

    def render() -> Rendered:
        code = ogc.round_for(session, found, request.query_params.get("round"))
        params = ogc.source_params(session, found, code)
        bbox = ogc.extent(session, found, params) or [-180, -85, 180, 85]
        return Rendered(
            writers.json_body(
                {
                    "tilejson": "3.0.0",
                    "name": found.title,
                    "description": found.description,
                    "tiles": [f"{base}/tiles/{layer}/{{z}}/{{x}}/{{y}}.pbf{suffix}"],
                    "minzoom": found.min_zoom,
                    "maxzoom": ogc.MAX_ZOOM,
                    "bounds": bbox,
                    "center": [(bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2, 5],
                    "attribution": found.description.split(". ", 1)[-1],
                    "vector_layers": [
                        {
                            "id": layer,
                            "fields": ogc.tile_fields(found),
                            "minzoom": found.min_zoom,
                            "maxzoom": ogc.MAX_ZOOM,
                        }
                    ],
                }
            ),
            writers.JSON,
        )

    return cached_response(request, session, render)
