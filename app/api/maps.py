"""Maps drawn by the server: a view's static SVG map and the classes the web map shares.

`GET /api/v1/maps/{round}.svg` is what the page shows without WebGL; its drawing
(app.maps.svg) is the one later print maps and reports reuse.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy.orm import Session

from app.api import schemas, writers
from app.api.caching import answer_in_session
from app.api.params import OperationQuery
from app.api.rendered import Rendered
from app.maps import printed, series, svg
from app.services import operations, rounds
from app.vocabulary import PopulationType

router = APIRouter(prefix="/api/v1/maps", tags=["maps"], responses=schemas.READ_ERRORS)

SVG = "image/svg+xml"
_NUMBER = r"-?[0-9]+(\.[0-9]+)?"
BBOX_PATTERN = f"^{_NUMBER}(,{_NUMBER}){{3}}$"
RoundPath = Annotated[str, Path(max_length=64, description="Round code.", examples=["R39", "R54"])]
Level = Annotated[
    int,
    Query(
        ge=1,
        le=4,
        description="A level of the round's operation (Libya: 1 mantika, 2 baladiya, "
        "3 muhalla; Iraq: 1 governorate, 2 district, 3 sub-district, 4 location).",
        examples=[2],
    ),
]
Geometry = Annotated[
    Literal["approximate", "official"],
    Query(
        description="Baladiyas as approximate polygons or official points.",
        examples=["approximate"],
    ),
]
Measure = Annotated[
    Literal["absolute", "per_1000"],
    Query(description="People, or per 1,000 residents.", examples=["absolute"]),
]
Type = Annotated[PopulationType, Query(description="Population type.", examples=["idp"])]


@router.get(
    "/classes",
    summary="The colour classes of a series: every mobility-tracking round of an operation",
    description="Quantile classes (at most six, viridis) over the areas' values of every "
    "mobility-tracking round of the operation at the level, for the population type and "
    "measure: one legend for the whole series, so that colours compare from round to "
    "round (the page's round slider). Each value is the one the map of its round draws; "
    "`rounds` lists the series in time order.",
)
async def map_series_classes(
    request: Request,
    operation: OperationQuery = None,
    population_type: Type = "idp",
    level: Level = 2,
    measure: Measure = "absolute",
) -> Response:
    def render(session: Session) -> Rendered:
        op = operations.resolve(session, operation)
        found = series.series_classes(session, op, level, population_type, measure)
        return Rendered(writers.json_body(found.as_json()), writers.JSON)

    return await answer_in_session(request, render)


@router.get(
    "/{round}.svg",
    summary="A static SVG map of a view: round, level, population type and measure",
    description="The areas coloured by the web map's classes, with a legend and the "
    "attribution, drawn from the same PostGIS geometry. `bbox` (minlon,minlat,maxlon,"
    "maxlat, CRS84) is the part shown, by default the round's operation; `lang` en or ar.",
    responses={200: {"content": {SVG: {}}}},
)
async def map_svg(
    request: Request,
    round: RoundPath,
    population_type: Type = "idp",
    level: Level = 2,
    geometry: Geometry = "approximate",
    measure: Measure = "absolute",
    lang: Annotated[
        Literal["en", "ar"], Query(description="Language of the texts.", examples=["ar"])
    ] = "en",
    bbox: Annotated[
        str | None,
        Query(
            max_length=200,
            pattern=BBOX_PATTERN,
            description="minlon,minlat,maxlon,maxlat (CRS84), west before east, south "
            "before north.",
            examples=["19,30,24,33"],
        ),
    ] = None,
    width: Annotated[int, Query(ge=200, le=4000, description="Width in px.", examples=[960])] = 960,
    height: Annotated[
        int, Query(ge=200, le=4000, description="Height in px.", examples=[640])
    ] = 640,
    classes: Annotated[
        Literal["round", "series"],
        Query(
            description="The round's own classes, or the series' (every mobility-tracking "
            "round of the operation, as GET /api/v1/maps/classes: the page's round slider).",
            examples=["series"],
        ),
    ] = "round",
) -> Response:
    bounds = svg.parse_bbox(bbox)

    def render(session: Session) -> Rendered:
        view = svg.map_view(
            session, round, level, population_type, measure, geometry == "approximate"
        )
        if classes == "series":
            found = series.series_classes(session, view.operation, level, population_type, measure)
            view = dataclasses.replace(view, classes=found.classes)
        return Rendered(svg.draw(view, lang, bounds, width, height).encode("utf-8"), SVG)

    return await answer_in_session(request, render)


PRINTED = {"pdf": "application/pdf", "png": "image/png"}


def _printed(kind: str):
    async def print_map(
        request: Request,
        round: RoundPath,
        operation: Annotated[
            str | None,
            Query(
                max_length=32,
                description="Operation (ISO3 or slug); by default the round's.",
                examples=["IRQ"],
            ),
        ] = None,
        population_type: Type = "idp",
        level: Level = 2,
        geometry: Geometry = "approximate",
        measure: Measure = "absolute",
        lang: Annotated[
            Literal["en", "ar"], Query(description="Language of the texts.", examples=["ar"])
        ] = "en",
        size: Annotated[
            Literal["A4", "A3"], Query(description="Paper size.", examples=["A3"])
        ] = "A4",
        orientation: Annotated[
            Literal["portrait", "landscape"],
            Query(description="Page orientation.", examples=["landscape"]),
        ] = "landscape",
    ) -> Response:
        def render(session: Session) -> Rendered:
            if operation:
                op = operations.resolve(session, operation)
                ref = rounds.catalogue(session, op.iso3).resolve(round)[0]
            else:
                ref = rounds.catalogue(session, None).require(round)
            view = svg.map_view(
                session, ref.code, level, population_type, measure, geometry == "approximate"
            )
            draw = printed.pdf if kind == "pdf" else printed.png
            body = draw(view, lang, size, orientation, ref.reporting_date or ref.when)
            name = f"dtm-{view.operation.slug}-{ref.code.lower()}-{population_type}-{level}"
            headers = {"Content-Disposition": f'inline; filename="{name}-{size}.{kind}"'}
            return Rendered(body, PRINTED[kind], headers)

        return await answer_in_session(request, render)

    return print_map


for _kind in PRINTED:
    router.add_api_route(
        f"/{{round}}.{_kind}",
        _printed(_kind),
        methods=["GET"],
        summary=f"A print map ({_kind.upper()}): one page, A4 or A3, with title, legend, "
        "scale bar, north arrow, attribution and the round's date",
        description="The static map's drawing (the same as the SVG map and the round report) "
        "on a page ready to print; PNG is the page rendered at 150 dpi.",
        responses={200: {"content": {PRINTED[_kind]: {}}}},
        name=f"print_map_{_kind}",
    )


@router.get(
    "/{round}/classes",
    summary="The colour classes of a view (the web map's and the static map's)",
    description="Quantile classes (at most six, viridis) over the areas' values of the round, "
    "level, population type and measure.",
)
async def map_classes(
    request: Request,
    round: RoundPath,
    population_type: Type = "idp",
    level: Level = 2,
    measure: Measure = "absolute",
) -> Response:
    def render(session: Session) -> Rendered:
        view = svg.map_view(session, round, level, population_type, measure, approximate=False)
        body = {
            "round": view.round_code,
            "level": view.level,
            "population_type": view.population_type,
            "measure": view.measure,
            "areas": len(view.areas),
            "with_value": sum(1 for a in view.areas if a.value is not None),
            **view.classes.as_json(),
        }
        return Rendered(writers.json_body(body), writers.JSON)

    return await answer_in_session(request, render)
