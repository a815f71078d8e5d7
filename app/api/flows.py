"""Origin-destination flows and per-area balances."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, model_validator

from app.api import schemas, writers
from app.api.caching import cached_response
from app.api.deps import SessionDep
from app.api.params import (
    PCODE,
    OperationQuery,
    PopulationTypeQuery,
    RoundQuery,
    each_of,
    resolve_areas,
    resolve_operation,
    resolve_rounds,
    split_list,
    word_list,
)
from app.api.query import documented, query
from app.api.rendered import Rendered
from app.errors import InvalidParameter, NotFound
from app.serialize import dumps
from app.services import areas as area_service
from app.services import flow_views, flows, rounds
from app.services.flows import DEFAULT_QUALITIES, FlowFilter
from app.vocabulary import POPULATION_TYPES, QUALITIES

router = APIRouter(prefix="/api/v1", tags=["analytics"], responses=schemas.READ_ERRORS)

LevelQuery = Annotated[
    int | None,
    Query(
        ge=0,
        le=3,
        description="Aggregate to this DTM level (0 country, 1 mantika, 2 baladiya, 3 muhalla); "
        "default: as stored. Flows stored coarser than asked stay at their stored level.",
        examples=[1],
    ),
]
AreaQuery = Annotated[
    list[str] | None,
    Query(
        description="Pcode or English/Arabic name; matches the area and everything in it.",
        examples=["Derna"],
    ),
]


QualityFlowQuery = Annotated[
    list[str] | None,
    Query(
        description="published, modelled, synthetic (default: published and modelled; "
        "every flow says which).",
        examples=["published,modelled"],
        json_schema_extra=word_list(QUALITIES),
    ),
]


def _areas(
    session, values: list[str] | None, level: int | None, parameter: str, operation: str
) -> tuple[str, ...] | None:
    """Pcodes and names (English or Arabic) alike; a name means its area at `level` when
    it has one there (Benghazi the baladiya at level 2, the mantika at level 1)."""
    values = split_list(values, parameter)
    if values is None:
        return None
    pcodes = [v for v in values if re.match(PCODE, v)]
    names = [v for v in values if not re.match(PCODE, v)]
    return resolve_areas(session, pcodes or None, names or None, level, operation)


def _latest_round_with_flows(session, operation: str) -> tuple[int, ...]:
    found = rounds.catalogue(session, operation).latest_with_flows()
    if found is None:
        raise NotFound("no round holds flows yet; post them with POST /api/v1/rounds/{code}/flows")
    return (found.id,)


class FlowSelection(BaseModel):
    """The flows asked for: rounds, population types, qualities."""

    operation: OperationQuery = None
    round: RoundQuery = None
    population_type: Annotated[PopulationTypeQuery, each_of(POPULATION_TYPES)] = None
    quality: Annotated[QualityFlowQuery, each_of(QUALITIES)] = None


class FlowsQuery(FlowSelection):
    """The parameters of the flows, with the rules that join them."""

    origin_level: LevelQuery = None
    destination_level: LevelQuery = None
    origin: AreaQuery = None
    destination: AreaQuery = None
    min_count: Annotated[
        int, Query(ge=0, le=10**9, description="Smallest flow to return.", examples=[100])
    ] = 0
    top: Annotated[
        int | None, Query(ge=1, le=10_000, description="Only the N largest flows.", examples=[20])
    ] = None
    include_internal: Annotated[
        bool,
        Query(description="Include people displaced within their own area.", examples=[True]),
    ] = True
    format: Annotated[
        Literal["json", "geojson", "csv", "flowmap", "flowmap-locations", "flowmap-flows"],
        Query(description="Output format.", examples=["geojson"]),
    ] = "json"
    arc: Annotated[
        bool, Query(description="GeoJSON: curved lines instead of straight.", examples=[False])
    ] = False

    @model_validator(mode="after")
    def _one_round_for_a_flowmap(self):
        given = split_list(self.round) or ()
        if self.format.startswith("flowmap") and len(given) > 1:
            raise InvalidParameter(
                "round",
                "a flowmap shows one round: the flows of several rounds are snapshots of the "
                "same people and would add up; give one round",
                ",".join(given),
            )
        return self


class FlowBalancesQuery(FlowSelection):
    """The parameters of the per-area balances."""

    level: Annotated[
        int, Query(ge=0, le=3, description="DTM level of the areas.", examples=[2])
    ] = 2
    pcode: Annotated[
        list[str] | None,
        Query(
            description="Only areas in (or equal to) these areas: pcodes or English/Arabic "
            "names, at `level` or above.",
            examples=["LY0101"],
        ),
    ] = None


def flow_filter(session, q: FlowSelection) -> FlowFilter:
    """The service's filter of a flows query, its rounds and areas looked up."""
    op = resolve_operation(session, q.operation).iso3
    latest = rounds.Catalogue.latest_with_flows
    round_ids = resolve_rounds(session, q.round, latest, op) or _latest_round_with_flows(
        session, op
    )
    selected = {}
    if isinstance(q, FlowsQuery):
        selected = {
            "origin_level": q.origin_level,
            "destination_level": q.destination_level,
            "origins": _areas(session, q.origin, q.origin_level, "origin", op),
            "destinations": _areas(session, q.destination, q.destination_level, "destination", op),
            "min_count": q.min_count,
            "top": q.top,
            "include_internal": q.include_internal,
        }
    return FlowFilter(
        round_ids=round_ids,
        population_types=tuple(q.population_type or POPULATION_TYPES),
        qualities=tuple(q.quality or DEFAULT_QUALITIES),
        **selected,
    )


FORMATS = {
    200: {
        "model": schemas.Flows | schemas.Flowmap,
        "description": "JSON (or the flowmap layout); GeoJSON lines; CSV with HXL tags",
        "content": {
            "text/csv": schemas.CSV_CONTENT,
            "application/geo+json": schemas.GEOJSON_CONTENT,
        },
    }
}


@router.get(
    "/flows",
    summary="Origin-destination flows of a round (JSON, GeoJSON lines, CSV, flowmap)",
    description="Largest first. Each flow carries its share of the origin's outflow and of "
    "the destination's inflow (internal displacement included) and its quality; modelled "
    "flows are labelled and explained in `meta.notes`. `format=geojson` gives LineStrings "
    "from origin to destination (`arc=true` for curved lines) ready for QGIS; `flowmap` "
    "gives the flowmap.blue / flowmap.gl layout (`flowmap-locations` and `flowmap-flows` as "
    "CSV sheets).",
    responses=FORMATS,
    openapi_extra=documented(FlowsQuery),
)
def get_flows(
    request: Request,
    session: SessionDep,
    q: Annotated[FlowsQuery, Depends(query(FlowsQuery))],
) -> Response:
    flt = flow_filter(session, q)
    format, arc = q.format, q.arc

    def render():
        rows = flows.flows(session, flt)
        extra = {
            "origin_level": flt.origin_level,
            "destination_level": flt.destination_level,
            "qualities_requested": list(flt.qualities),
        }
        if format == "geojson":
            features = (
                writers.feature(fid, dumps(line), props)
                for fid, line, props in flow_views.as_features(rows, arc)
            )
            members = flow_views.meta(rows, extra)
            return Rendered(writers.feature_collection(features, members), writers.GEOJSON)
        if format == "csv":
            columns, table = flow_views.as_table(rows)
            return _csv("flows.csv", columns, table, flow_views.HXL)
        if format == "flowmap":
            return Rendered(writers.json_body(flow_views.flowmap(rows)), writers.JSON)
        if format.startswith("flowmap"):
            part = format.removeprefix("flowmap-")
            columns = ("id", "name", "lat", "lon")
            if part == "flows":
                columns = ("origin", "dest", "count")
            return _csv(f"{part}.csv", columns, flow_views.flowmap(rows)[part], bom=False)
        return Rendered(writers.json_body(flow_views.as_document(rows, extra)), writers.JSON)

    return cached_response(request, session, render)


def _csv(name: str, columns, rows, hxl: dict | None = None, bom: bool = True) -> Rendered:
    return Rendered(
        writers.csv_body(columns, rows, hxl, bom),
        writers.CSV,
        {"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/flows/areas",
    summary="Per area: inflow, outflow, internal, net balance",
    description="From the flows of a round at one level: `inflow` from other areas, "
    "`outflow` to other areas, `internal` (displaced within the area), `net` = inflow - "
    "outflow, `hosted` = inflow + internal, `displaced_from` = outflow + internal.",
    responses={200: {"model": schemas.FlowBalances}},
    openapi_extra=documented(FlowBalancesQuery),
)
def get_flow_balances(
    request: Request,
    session: SessionDep,
    q: Annotated[FlowBalancesQuery, Depends(query(FlowBalancesQuery))],
) -> Response:
    flt = flow_filter(session, q)
    level = q.level
    areas = _areas(session, q.pcode, level, "pcode", resolve_operation(session, q.operation).iso3)
    deeper = area_service.first_deeper(session, areas, level)
    if deeper:
        pcode_found, found_level = deeper
        raise InvalidParameter(
            "pcode",
            f"{pcode_found} is a level-{found_level} area: at level {level} give an area of "
            f"level {level} or above",
            pcode_found,
        )

    def render():
        rows = flows.balances(session, flt, level, areas)
        qualities = sorted({r["quality"] for r in rows})
        body = {"data": rows, "meta": {"level": level, "qualities": qualities}}
        if "modelled" in qualities:
            body["meta"]["notes"] = flow_views.MODEL_NOTE
        return Rendered(writers.json_body(body), writers.JSON)

    return cached_response(request, session, render)
