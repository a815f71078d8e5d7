"""Admin areas (mantika, baladiya) as JSON or GeoJSON."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from app.api import schemas, writers
from app.api.caching import cached_response
from app.api.deps import SessionDep
from app.api.params import PCODE, OperationQuery, check_level, resolve_operation
from app.api.query import documented, query
from app.api.rendered import Rendered
from app.attribution import APPROXIMATE_NOTE
from app.errors import NotFound
from app.services import areas, names, ogc, operations
from app.vocabulary import ADMIN_LEVELS, GeometryChoice

router = APIRouter(prefix="/api/v1", tags=["admin areas"], responses=schemas.READ_ERRORS)

PCODE_PATTERN = PCODE
LevelQuery = Annotated[
    int,
    Query(
        ge=0,
        le=max(ADMIN_LEVELS),
        description="DTM admin level: 0 country, 1 mantika, 2 baladiya, 3 muhalla (Libya); "
        "1 governorate, 2 district, 3 sub-district, 4 location (Iraq).",
        examples=[2],
    ),
]
GEOJSON = "application/geo+json"


class AreasQuery(BaseModel):
    """The parameters of a list of areas."""

    operation: OperationQuery = None
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
    op = resolve_operation(session, q.operation)
    check_level(op, level)
    if parent is not None and areas.exists(session, parent):
        operations.require_area_in(session, parent, op)

    def render() -> Rendered:
        pcodes = None
        if name is not None:
            pcodes = names.resolve(session, name, level, op.iso3)
            if not pcodes:
                hint = names.suggestions(session, name, level, operation=op.iso3)
                did_you_mean = f" Did you mean {', '.join(hint)}?" if hint else ""
                raise NotFound(
                    f"no level-{level} area is named '{name}'.{did_you_mean} "
                    f"List names with GET /api/v1/areas?level={level}",
                )
        if format == "geojson":
            features, members = areas.area_features(session, level, geometry, parent, pcodes, op)
            body = writers.feature_collection((writers.feature(*f) for f in features), members)
            return Rendered(body, writers.GEOJSON)
        rows = areas.list_areas(session, level, parent, pcodes, op.iso3)
        meta = {"count": len(rows), "level": level, "attribution": [op.boundary_source]}
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
            description="DTM pcode (LBY, LY0101, LY010102; IRQ, IQG01, IQG01Q01).",
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
        op = operations.all_operations(session)[operations.of_area(session, pcode)]
        meta = {"attribution": [op.boundary_source]}
        if area["level"] == ogc.approximate_level(op.iso3):
            meta["approximate_polygon_note"] = APPROXIMATE_NOTE
        return Rendered(writers.json_body({"data": area, "meta": meta}), writers.JSON)

    return cached_response(request, session, render)
