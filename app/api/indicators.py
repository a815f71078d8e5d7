"""Published indicators of a round (shelter settings, reasons, needs, access to services)
at a DTM level, as JSON or CSV with HXL tags."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Request, Response

from app.api import schemas, writers
from app.api.caching import answer
from app.api.deps import SessionDep
from app.api.params import IndicatorsQuery, indicator_filter
from app.api.query import documented, query
from app.api.rendered import Rendered
from app.errors import InvalidParameter
from app.services import indicators, map_features, rounds

router = APIRouter(prefix="/api/v1", tags=["statistics"], responses=schemas.READ_ERRORS)


@router.get(
    "/indicators",
    summary="Published indicators (shelter, reasons, needs, services) by area",
    description=(
        "Indicators of a round at a DTM level: households and individuals summed (with "
        "`share`: of the area's households or individuals of that population type, so "
        "household-weighted), Yes/No answers as the share of reporting areas answering yes, "
        "percentages and text only where published. `min_share` keeps the areas where the "
        "requested indicators together exceed that share, e.g. IDP households in informal "
        "camps or abandoned buildings. Without `indicator`, lists the round's indicators "
        "(an empty list for an operation without any). "
        "`format=geojson` is the map of one indicator (of one population type): every area "
        "of the level with the indicator's value, unit and round (nulls where it has none) "
        "and the classes the web map colours it by: sequential, in equal steps for a share "
        "or percentage and quantiles for counts, or categories for text answers."
    ),
    responses={
        200: {
            "content": {
                "text/csv": schemas.CSV_CONTENT,
                "application/geo+json": schemas.GEOJSON_CONTENT,
            }
        }
    },
    openapi_extra=documented(IndicatorsQuery),
)
async def get_indicators(
    request: Request,
    session: SessionDep,
    q: Annotated[IndicatorsQuery, Depends(query(IndicatorsQuery))],
) -> Response:
    flt = await anyio.to_thread.run_sync(indicator_filter, session, q)
    format, approximate = q.format, q.geometry == "approximate"

    def render() -> Rendered:
        if not flt.indicators and format == "geojson":
            raise InvalidParameter("indicator", "a map shows one indicator: give one")
        if not flt.indicators:
            if flt.round_id is None:  # the operation has none
                return Rendered(
                    writers.json_body({"data": [], "meta": {"round": None}}), writers.JSON
                )
            listed = indicators.known_indicators(session, flt.round_id)
            ref = rounds.catalogue(session, None).by_id(flt.round_id)
            meta = {"round": ref.code if ref else None}
            return Rendered(writers.json_body({"data": listed, "meta": meta}), writers.JSON)
        if format == "geojson":
            layer = map_features.indicator_layer(session, _one_map(session, flt), approximate)
            body = writers.feature_collection(
                (writers.feature(*f) for f in layer.features), layer.members
            )
            return Rendered(body, writers.GEOJSON)
        rows = indicators.indicator_values(session, flt)
        if format == "csv":
            columns = [c for c in indicators.COLUMNS if flt.min_share or c != "combined_share"]
            return Rendered(
                writers.csv_body(columns, rows, indicators.HXL),
                writers.CSV,
                {"Content-Disposition": 'attachment; filename="dtm-libya-indicators.csv"'},
            )
        meta = {
            "level": flt.level,
            "rounds": rounds.catalogue(session, None).in_order(r["round_code"] for r in rows),
            "total": len(rows),
            "notes": indicators.__doc__.split("\n\n", 1)[1].strip(),
        }
        return Rendered(writers.json_body({"data": rows, "meta": meta}), writers.JSON)

    return await answer(request, session, render)


def _one_map(session, flt: indicators.IndicatorFilter) -> indicators.IndicatorFilter:
    """The filter of one indicator's map: one indicator, of one population type (the one
    it is published for, when it has a single one)."""
    if len(flt.indicators) != 1:
        raise InvalidParameter("indicator", "a map shows one indicator: give one")
    (code,) = flt.indicators
    types = {
        k["population_type"]
        for k in indicators.known_indicators(session, flt.round_id)
        if k["indicator"] == code
    }
    if flt.population_types is None and len(types) > 1:
        listed = ", ".join(sorted(t for t in types if t))
        raise InvalidParameter("population_type", f"{code} is published for {listed}: give one")
    if flt.population_types is not None and not types & set(flt.population_types):
        published = ", ".join(sorted(t or "no population type" for t in types))
        raise InvalidParameter(
            "population_type", f"{code} is published for {published}", flt.population_types[0]
        )
    return flt
