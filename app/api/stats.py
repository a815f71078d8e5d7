"""Round statistics for partners: JSON, CSV with HXL tags, GeoJSON; series and change."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from app.api import schemas, writers
from app.api.caching import answer, cached_response
from app.api.deps import SessionDep
from app.api.params import (
    Page,
    area_round_filter,
    page_params,
    resolve_rounds,
    stats_filter,
)
from app.api.rendered import Rendered, links
from app.errors import InvalidParameter
from app.services import formats, stats_views
from app.services.stats import StatsFilter
from app.vocabulary import GeometryChoice

router = APIRouter(prefix="/api/v1", tags=["statistics"], responses=schemas.READ_ERRORS)

FilterDep = Annotated[StatsFilter, Depends(stats_filter)]
MigrantFilterDep = Annotated[StatsFilter, Depends(area_round_filter)]  # no reason
ONE_ROUND = r"^[^,\s]+$"  # a code or a number: the round parameter's lists are not taken here
PageDep = Annotated[Page, Depends(page_params)]
CSV_AND_GEOJSON = {
    200: {
        "model": schemas.Stats,
        "description": "JSON rows; or CSV with HXL tags; or a GeoJSON FeatureCollection",
        "content": {
            "text/csv": schemas.CSV_CONTENT,
            "application/geo+json": schemas.GEOJSON_CONTENT,
        },
    }
}


@router.get(
    "/stats",
    summary="Counts of IDPs, returnees and migrants by area and round",
    description=(
        "Figures at the chosen DTM admin level, from stored figures or summed from the level "
        "below without double counting. `format=json` gives one row per round, area, "
        "population type and reason; `csv` one row per round, area and reason with a column "
        "per population type and an HXL tag row; `geojson` one feature per area for one "
        "round (the latest matching one unless `round` is given)."
    ),
    responses=CSV_AND_GEOJSON,
)
async def get_stats(
    request: Request,
    session: SessionDep,
    flt: FilterDep,
    page: PageDep,
    format: Annotated[
        Literal["json", "csv", "geojson"], Query(description="Output format.", examples=["json"])
    ] = "json",
    geometry: Annotated[
        GeometryChoice,
        Query(
            description="GeoJSON baladiya geometry: official points or approximate polygons.",
            examples=["approximate"],
        ),
    ] = GeometryChoice.OFFICIAL,
) -> Response:
    def render() -> Rendered:
        if format == "csv":
            table = stats_views.statistics_table(session, flt, page)
            return Rendered(
                writers.csv_body(table.meta["columns"], table.rows, formats.HXL),
                writers.CSV,
                {
                    "Content-Disposition": f'attachment; filename="{table.meta["filename"]}"',
                    "X-Total-Count": str(table.total),
                },
            )
        if format == "geojson":
            mapped = stats_views.statistics_features(session, flt, page, geometry == "approximate")
            members = {
                **mapped.meta,
                **links(request.url, page, mapped.total, len(mapped.features)),
            }
            body = writers.feature_collection(
                (writers.feature(*f) for f in mapped.features), _geojson_order(members)
            )
            return Rendered(body, writers.GEOJSON)
        return _envelope(stats_views.statistics_rows(session, flt, page), request, page)

    return await answer(request, session, render)


def _envelope(result: stats_views.Result, request: Request, page: Page) -> Rendered:
    if result.encoded is None:
        rows, returned = result.rows, len(result.rows)
    else:
        rows, returned = writers.encoded_array(result.encoded), result.returned
    meta = {**result.meta, **links(request.url, page, result.total, returned)}
    return Rendered(writers.json_body({"data": rows, "meta": meta}), writers.JSON)


def _geojson_order(members: dict) -> dict:
    """Top-level members of the statistics map, in the order the API has always given."""
    order = (
        "round",
        "level",
        "level_name",
        "total",
        "limit",
        "offset",
        "returned",
        "next",
        "prev",
        "sources",
        "attribution",
        "note",
    )
    return {k: members[k] for k in order}


@router.get(
    "/stats/timeseries",
    summary="Series across rounds for one or several areas",
    responses={200: {"model": schemas.Timeseries}},
)
def get_timeseries(request: Request, session: SessionDep, flt: FilterDep) -> Response:
    def render() -> Rendered:
        result = stats_views.timeseries(session, flt)
        return Rendered(writers.json_body({"data": result.rows, "meta": result.meta}), writers.JSON)

    return cached_response(request, session, render)


@router.get(
    "/stats/change",
    summary="Round-over-round change (absolute and percent) with the top movers",
    responses={200: {"model": schemas.Change}},
)
def get_change(
    request: Request,
    session: SessionDep,
    flt: FilterDep,
    from_round: Annotated[
        str,
        Query(
            max_length=64,
            pattern=ONE_ROUND,
            description="Earlier round (code or number).",
            examples=["R50"],
        ),
    ],
    to_round: Annotated[
        str,
        Query(
            max_length=64,
            pattern=ONE_ROUND,
            description="Later round (code or number).",
            examples=["R54"],
        ),
    ],
    top: Annotated[
        int, Query(ge=1, le=100, description="How many top movers.", examples=[10])
    ] = 10,
) -> Response:
    before, after = resolve_rounds(session, [from_round]), resolve_rounds(session, [to_round])
    for name, ids in (("from_round", before), ("to_round", after)):
        if ids is None or len(ids) != 1:
            raise InvalidParameter(name, "give exactly one round")

    def render() -> Rendered:
        result = stats_views.change(session, flt, before[0], after[0], top)
        return Rendered(writers.json_body({"data": result.rows, **result.meta}), writers.JSON)

    return cached_response(request, session, render)


@router.get(
    "/nationalities",
    summary="Migrants by nationality per area and round",
    responses={200: {"model": schemas.Nationalities}},
)
def get_nationalities(
    request: Request, session: SessionDep, flt: MigrantFilterDep, page: PageDep
) -> Response:
    asked = request.query_params
    if "population_type" in asked and flt.population_types != ("migrant",):
        raise InvalidParameter(
            "population_type",
            "nationalities are of migrants: use migrant, alone",
            ",".join(asked.getlist("population_type")),
        )
    if "reason" in asked:
        raise InvalidParameter("reason", "nationalities have no displacement reason")
    return cached_response(
        request,
        session,
        lambda: _envelope(stats_views.nationalities(session, flt, page), request, page),
    )
