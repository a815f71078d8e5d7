"""Admin areas (mantika, baladiya) as JSON or GeoJSON."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from app.api import schemas, writers
from app.api.caching import cached_response
from app.api.deps import SessionDep
from app.api.query import documented, query
from app.api.rendered import Rendered
from app.attribution import APPROXIMATE_NOTE, COD_AB
from app.errors import NotFound
from app.services import areas, names
from app.vocabulary import GeometryChoice

router = APIRouter(prefix="/api/v1", tags=["admin areas"], responses=schemas.READ_ERRORS)

PCODE_PATTERN = r"^(LBY|LY\d{2,8})$"
LevelQuery = Annotated[
    int,
    Query(
        ge=0,
        le=3,
        description="DTM admin level: 0 country, 1 mantika, 2 baladiya, 3 muhalla.",
        examples=[2],
    ),
]
GEOJSON = "application/geo+json"


class AreasQuery(BaseModel):
    """The parameters of a list of areas."""

    level: LevelQuery = 2
    format: Annotated[
        Literal["json", "geojson"],
        Query(
            description="json: rows with a label point; geojson: RFC 7946 features.",
            examples=["geojson"],
        ),
    ] = "json"
    geometry: Annotated[
        GeometryChoice,
        Query(
            description="Baladiya geometry: OCHA's official point, or DTM Geo's derived "
            "approximate polygon (Voronoi cell within the mantika). Each feature says which.",
            examples=["approximate"],
        ),
    ] = GeometryChoice.OFFICIAL
    parent: Annotated[
        str | None,
        Query(
            pattern=PCODE_PATTERN, description="Only children of this pcode.", examples=["LY0101"]
        ),
    ] = None
    name: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            description="Any known spelling, English or Arabic (e.g. Darnah, درنة); near misses "
            "are suggested in the 404.",
            examples=["Darnah"],
        ),
    ] = None


@router.get(
    "/areas",
    summary="Admin areas at a level, as JSON or GeoJSON",
    responses={
        200: {
            "model": schemas.Areas,
            "content": {GEOJSON: schemas.GEOJSON_CONTENT},
        }
    },
    openapi_extra=documented(AreasQuery),
)
def list_areas(
    request: Request, session: SessionDep, q: Annotated[AreasQuery, Depends(query(AreasQuery))]
) -> Response:
    level, format, geometry, parent, name = q.level, q.format, q.geometry, q.parent, q.name

    def render() -> Rendered:
        pcodes = None
        if name is not None:
            pcodes = names.resolve(session, name, level)
            if not pcodes:
                hint = names.suggestions(session, name, level)
                did_you_mean = f" Did you mean {', '.join(hint)}?" if hint else ""
                raise NotFound(
                    f"no level-{level} area is named '{name}'.{did_you_mean} "
                    f"List names with GET /api/v1/areas?level={level}",
                )
        if format == "geojson":
            features, members = areas.area_features(session, level, geometry, parent, pcodes)
            body = writers.feature_collection((writers.feature(*f) for f in features), members)
            return Rendered(body, writers.GEOJSON)
        rows = areas.list_areas(session, level, parent, pcodes)
        meta = {"count": len(rows), "level": level, "attribution": [COD_AB]}
        return Rendered(writers.json_body({"data": rows, "meta": meta}), writers.JSON)

    return cached_response(request, session, render)


@router.get(
    "/areas/{pcode}",
    summary="One admin area with all its known names and its population denominator",
    responses={200: {"model": schemas.OneArea}},
)
def get_area(
    request: Request,
    session: SessionDep,
    pcode: Annotated[
        str,
        Path(
            pattern=PCODE_PATTERN,
            description="DTM pcode (LBY, LY0101, LY010102).",
            examples=["LY010102"],
        ),
    ],
) -> Response:
    def render() -> Rendered:
        area = areas.get_area(session, pcode)
        if area is None:
            raise NotFound(
                f"unknown pcode '{pcode}'; list areas with GET /api/v1/areas?level=1 or ?level=2",
            )
        meta = {"attribution": [COD_AB]}
        if area["level"] == 2:
            meta["approximate_polygon_note"] = APPROXIMATE_NOTE
        return Rendered(writers.json_body({"data": area, "meta": meta}), writers.JSON)

    return cached_response(request, session, render)
