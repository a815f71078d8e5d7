"""Round statistics for partners: JSON, CSV with HXL tags, GeoJSON; series and change."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from app.api import schemas, writers
from app.api.caching import answer_in_session
from app.api.params import (
    GeometryQuery,
    LimitQuery,
    OffsetQuery,
    ReasonlessQuery,
    StatsQuery,
    latest_covering,
    resolve_filter,
    resolve_rounds,
)
from app.api.query import documented, query
from app.api.rendered import Rendered, links
from app.errors import InvalidParameter
from app.services import formats, map_features, stats_views
from app.services.paging import Page
from app.vocabulary import GeometryChoice

router = APIRouter(prefix="/api/v1", tags=["statistics"], responses=schemas.READ_ERRORS)

ONE_ROUND = r"^[^,\s]+$"  # a code or a number: the round parameter's lists are not taken here


class StatsAnswerQuery(StatsQuery):
    limit: LimitQuery = 1000
    offset: OffsetQuery = 0
    format: Annotated[
        Literal["json", "csv", "geojson"], Query(description="Output format.", examples=["json"])
    ] = "json"
    geometry: GeometryQuery = GeometryChoice.OFFICIAL


class ChangeQuery(StatsQuery):
    from_round: Annotated[
        str,
        Query(
            max_length=64,
            pattern=ONE_ROUND,
            description="Earlier round (code, number or `latest`).",
            examples=["R50"],
        ),
    ]
    to_round: Annotated[
        str,
        Query(
            max_length=64,
            pattern=ONE_ROUND,
            description="Later round (code, number or `latest`).",
            examples=["R54"],
        ),
    ]
    top: Annotated[int, Query(ge=1, le=100, description="How many top movers.", examples=[10])] = 10
    format: Annotated[
        Literal["json", "geojson"],
        Query(
            description="Output format: `geojson` is the change map of one population type.",
            examples=["geojson"],
        ),
    ] = "json"
    geometry: GeometryQuery = GeometryChoice.OFFICIAL


class NationalitiesQuery(ReasonlessQuery):
    limit: LimitQuery = 1000
    offset: OffsetQuery = 0


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
    openapi_extra=documented(StatsAnswerQuery),
)
async def get_stats(
    request: Request, q: Annotated[StatsAnswerQuery, Depends(query(StatsAnswerQuery))]
) -> Response:
    page = Page(q.limit, q.offset)

    def render(session: Session) -> Rendered:
        flt = resolve_filter(session, q)
        if q.format == "csv":
            table = stats_views.statistics_table(session, flt, page)
            return Rendered(
                writers.csv_body(table.meta["columns"], table.rows, formats.HXL),
                writers.CSV,
                {
                    "Content-Disposition": f'attachment; filename="{table.meta["filename"]}"',
                    "X-Total-Count": str(table.total),
                },
            )
        if q.format == "geojson":
            approximate = q.geometry == "approximate"
            mapped = stats_views.statistics_features(session, flt, page, approximate)
            members = {
                **mapped.meta,
                **links(request.url, page, mapped.total, len(mapped.features)),
            }
            body = writers.feature_collection(
                (writers.feature(*f) for f in mapped.features), _geojson_order(members)
            )
            return Rendered(body, writers.GEOJSON)
        return _envelope(stats_views.statistics_rows(session, flt, page), request, page)

    return await answer_in_session(request, render)


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
    openapi_extra=documented(StatsQuery),
)
async def get_timeseries(
    request: Request, q: Annotated[StatsQuery, Depends(query(StatsQuery))]
) -> Response:
    def render(session: Session) -> Rendered:
        result = stats_views.timeseries(session, resolve_filter(session, q))
        return Rendered(writers.json_body({"data": result.rows, "meta": result.meta}), writers.JSON)

    return await answer_in_session(request, render)


@router.get(
    "/stats/change",
    summary="Round-over-round change (absolute and percent) with the top movers",
    description=(
        "The change of each area's figures from `from_round` to `to_round`: one row per "
        "area, population type and reason, with the largest movers either way, increases "
        "and decreases. `format=geojson` is the change map of one `population_type` "
        "(reasons collapsed unless `reason` is given): every area of the level, its "
        "`no_figure_in` saying which round has no figure for it (`from_round`, `to_round`, "
        "`both`; then `change` is null, not zero), with the diverging classes of `change` "
        "and `change_percent` (symmetric about zero) the web map colours them by."
    ),
    responses={
        200: {
            "model": schemas.Change,
            "description": "JSON rows and movers; or a GeoJSON FeatureCollection",
            "content": {"application/geo+json": schemas.GEOJSON_CONTENT},
        }
    },
    openapi_extra=documented(ChangeQuery),
)
async def get_change(
    request: Request, q: Annotated[ChangeQuery, Depends(query(ChangeQuery))]
) -> Response:
    def render(session: Session) -> Rendered:
        flt = resolve_filter(session, q)
        latest = latest_covering(flt.population_types, flt.level)
        before = resolve_rounds(session, [q.from_round], latest, flt.operation)
        after = resolve_rounds(session, [q.to_round], latest, flt.operation)
        for name, ids in (("from_round", before), ("to_round", after)):
            if ids is None or len(ids) != 1:
                raise InvalidParameter(name, "give exactly one round")
        if q.format == "geojson":
            if len(flt.population_types) != 1:
                raise InvalidParameter(
                    "population_type", "a change map shows one population type: give one"
                )
            approximate = q.geometry == "approximate"
            layer = map_features.change_layer(session, flt, before[0], after[0], q.top, approximate)
            body = writers.feature_collection(
                (writers.feature(*f) for f in layer.features), layer.members
            )
            return Rendered(body, writers.GEOJSON)
        result = stats_views.change(session, flt, before[0], after[0], q.top)
        return Rendered(writers.json_body({"data": result.rows, **result.meta}), writers.JSON)

    return await answer_in_session(request, render)


@router.get(
    "/nationalities",
    summary="Migrants by nationality per area and round",
    responses={200: {"model": schemas.Nationalities}},
    openapi_extra=documented(NationalitiesQuery),
)
async def get_nationalities(
    request: Request, q: Annotated[NationalitiesQuery, Depends(query(NationalitiesQuery))]
) -> Response:
    asked = request.query_params
    page = Page(q.limit, q.offset)

    def render(session: Session) -> Rendered:
        flt = resolve_filter(session, q)
        if "population_type" in asked and flt.population_types != ("migrant",):
            raise InvalidParameter(
                "population_type",
                "nationalities are of migrants: use migrant, alone",
                ",".join(asked.getlist("population_type")),
            )
        if "reason" in asked:
            raise InvalidParameter("reason", "nationalities have no displacement reason")
        return _envelope(stats_views.nationalities(session, flt, page), request, page)

    return await answer_in_session(request, render)
