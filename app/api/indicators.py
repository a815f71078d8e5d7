"""Published indicators of a round (shelter settings, reasons, needs, access to services)
at a DTM level, as JSON or CSV with HXL tags."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from app.api import schemas, writers
from app.api.caching import answer
from app.api.deps import SessionDep
from app.api.params import NameQuery, PcodeQuery, RoundQuery, resolve_areas, resolve_rounds
from app.api.rendered import Rendered
from app.errors import InvalidParameter, NotFound
from app.services import indicators
from app.services.indicators import IndicatorFilter

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
        "camps or abandoned buildings. Without `indicator`, lists the round's indicators."
    ),
    responses={200: {"content": {"text/csv": schemas.CSV_CONTENT}}},
)
async def get_indicators(
    request: Request,
    session: SessionDep,
    indicator: Annotated[
        list[str] | None,
        Query(
            description="Indicator codes; repeat or separate with commas.",
            examples=["in_informal_camp_setting_hh,abondoned_buildings_hh"],
        ),
    ] = None,
    round: RoundQuery = None,
    level: Annotated[
        int,
        Query(ge=0, le=3, description="0 country, 1 mantika, 2 baladiya, 3 muhalla.", examples=[2]),
    ] = 2,
    population_type: Annotated[
        Literal["idp", "returnee"] | None,
        Query(description="Only this population type.", examples=["idp"]),
    ] = None,
    min_share: Annotated[
        float | None,
        Query(
            gt=0, lt=1, description="Keep areas whose combined share exceeds this.", examples=[0.2]
        ),
    ] = None,
    pcode: PcodeQuery = None,
    name: NameQuery = None,
    format: Annotated[
        Literal["json", "csv"], Query(description="Output format.", examples=["csv"])
    ] = "json",
) -> Response:
    round_ids = resolve_rounds(session, round)
    if round_ids is not None and len(round_ids) != 1:
        raise InvalidParameter("round", "one round at a time", round)
    round_id = round_ids[0] if round_ids else indicators.latest_round(session)
    if round_id is None:
        raise NotFound("no round has indicators")
    codes = tuple(
        sorted({c.strip() for value in indicator or () for c in value.split(",") if c.strip()})
    )
    areas = resolve_areas(session, pcode, name, level)

    def render() -> Rendered:
        known = indicators.known_indicators(session, round_id)
        if not codes:
            return Rendered(writers.json_body({"data": known, "meta": {}}), writers.JSON)
        unknown = sorted(set(codes) - {k["indicator"] for k in known})
        if unknown:
            raise InvalidParameter(
                "indicator",
                f"unknown indicator(s) {', '.join(unknown)}; list them with "
                "GET /api/v1/indicators?round=...",
                unknown,
            )
        flt = IndicatorFilter(
            round_id,
            level,
            codes,
            (population_type,) if population_type else None,
            areas,
            min_share,
        )
        rows = indicators.indicator_values(session, flt)
        if format == "csv":
            columns = [c for c in indicators.COLUMNS if min_share or c != "combined_share"]
            return Rendered(
                writers.csv_body(columns, rows, indicators.HXL),
                writers.CSV,
                {"Content-Disposition": 'attachment; filename="dtm-libya-indicators.csv"'},
            )
        meta = {
            "level": level,
            "rounds": sorted({r["round_code"] for r in rows}),
            "total": len(rows),
            "notes": indicators.__doc__.split("\n\n", 1)[1].strip(),
        }
        return Rendered(writers.json_body({"data": rows, "meta": meta}), writers.JSON)

    return await answer(request, session, render)
