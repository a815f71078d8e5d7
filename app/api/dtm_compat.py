"""A DTM-API-compatible surface (v3 and v2) so that existing `dtmapi` scripts work here.

Same paths, PascalCase parameters and envelope as IOM's DTM API. Parameters are read as
text and checked here so that bad input answers in the DTM envelope (isSuccess false,
errorMessages) rather than in this service's native error format.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from app.api import writers
from app.api.caching import cached_response
from app.api.deps import SessionDep
from app.api.params import MAX_ROUND
from app.api.rendered import Rendered
from app.dates import parse_date
from app.services import dtm_compat
from app.services.dtm_compat import CompatError, CompatQuery

# the DTM API's admin0-admin3 routes (Iraq's level-4 locations have none)
COMPAT_LEVELS = (0, 1, 2, 3)

router = APIRouter(tags=["DTM API compatibility"])

Text = Annotated[str | None, Query()]
KEY_HEADER = Annotated[
    str | None,
    Header(
        alias="Ocp-Apim-Subscription-Key",
        description="DTM API subscription key; "
        "accepted for compatibility (reads are public unless configured otherwise).",
        examples=["your-subscription-key"],
    ),
]


def _envelope(result: list[dict], status: int = 200, errors: list[str] | None = None) -> dict:
    return {
        "result": result,
        "statusCode": status,
        "isSuccess": status == 200,
        "errorMessages": errors or [],
        "totalRecordsCount": len(result),
    }


def _failure(message: str) -> Response:
    return writers.json_response(_envelope([], 400, [message]), 400)


def _date(name: str, value: str | None) -> date | None:
    if value in (None, ""):
        return None
    try:
        return parse_date(value, times=True)
    except ValueError:
        raise CompatError(f"{name} '{value}' is not a date: expected YYYY-MM-DD") from None


def _int(name: str, value: str | None) -> int | None:
    if value in (None, ""):
        return None
    if not re.fullmatch(r"[0-9]{1,6}", value.strip()) or int(value) > MAX_ROUND:
        raise CompatError(
            f"{name} '{value}' is not a round number: expected a whole number up to {MAX_ROUND}"
        )
    return int(value)


def _query(params: dict[str, str | None]) -> CompatQuery:
    query = CompatQuery(
        operation=params["Operation"],
        country_name=params["CountryName"],
        admin0_pcode=params["Admin0Pcode"],
        admin1_name=params.get("Admin1Name"),
        admin1_pcode=params.get("Admin1Pcode"),
        admin2_name=params.get("Admin2Name"),
        admin2_pcode=params.get("Admin2Pcode"),
        from_date=_date("FromReportingDate", params["FromReportingDate"]),
        to_date=_date("ToReportingDate", params["ToReportingDate"]),
        from_round=_int("FromRoundNumber", params["FromRoundNumber"]),
        to_round=_int("ToRoundNumber", params["ToRoundNumber"]),
    )
    if query.from_date and query.to_date and query.from_date > query.to_date:
        raise CompatError("FromReportingDate is after ToReportingDate")
    if query.from_round and query.to_round and query.from_round > query.to_round:
        raise CompatError("FromRoundNumber is above ToRoundNumber")
    return query


def _serve(request: Request, session, level: int, version: int, params: dict) -> Response:
    try:
        query = _query(params)
        dtm_compat.check(query)
    except CompatError as exc:
        return _failure(str(exc))

    def render() -> Rendered:
        result = dtm_compat.records(session, query, level, version)
        return Rendered(writers.json_body(_envelope(result)), writers.JSON)

    return cached_response(request, session, render)


COMMON = {
    "Operation": "Operation name, e.g. Libya Crisis.",
    "CountryName": "Country name, e.g. Libya.",
    "Admin0Pcode": "Country pcode, e.g. LBY.",
    "FromReportingDate": "Earliest reporting date, YYYY-MM-DD.",
    "ToReportingDate": "Latest reporting date, YYYY-MM-DD.",
    "FromRoundNumber": "Lowest round number.",
    "ToRoundNumber": "Highest round number.",
}


def _endpoint(level: int, version: int):
    def handler(
        request: Request,
        session: SessionDep,
        Operation: Annotated[
            str | None, Query(description=COMMON["Operation"], examples=["Libya Crisis"])
        ] = None,
        CountryName: Annotated[
            str | None, Query(description=COMMON["CountryName"], examples=["Libya"])
        ] = None,
        Admin0Pcode: Annotated[
            str | None, Query(description=COMMON["Admin0Pcode"], examples=["LBY"])
        ] = None,
        Admin1Name: Annotated[
            str | None, Query(description="Mantika name (admin 1).", examples=["Benghazi"])
        ] = None,
        Admin1Pcode: Annotated[
            str | None, Query(description="Mantika pcode (admin 1).", examples=["LY0103"])
        ] = None,
        Admin2Name: Annotated[
            str | None, Query(description="Baladiya name (admin 2).", examples=["Benghazi"])
        ] = None,
        Admin2Pcode: Annotated[
            str | None, Query(description="Baladiya pcode (admin 2).", examples=["LY010304"])
        ] = None,
        FromReportingDate: Annotated[
            str | None, Query(description=COMMON["FromReportingDate"], examples=["2016-01-01"])
        ] = None,
        ToReportingDate: Annotated[
            str | None, Query(description=COMMON["ToReportingDate"], examples=["2024-12-31"])
        ] = None,
        FromRoundNumber: Annotated[
            str | None, Query(description=COMMON["FromRoundNumber"], examples=["3"])
        ] = None,
        ToRoundNumber: Annotated[
            str | None, Query(description=COMMON["ToRoundNumber"], examples=["54"])
        ] = None,
        subscription_key: KEY_HEADER = None,
    ) -> Response:
        params = dict(locals())
        if level < 1:
            params.pop("Admin1Name"), params.pop("Admin1Pcode")
        if level < 2:
            params.pop("Admin2Name"), params.pop("Admin2Pcode")
        return _serve(request, session, level, version, params)

    return handler


# admin 0-2 as the DTM API has them; admin 3 (muhalla) is this service's addition
for _level in COMPAT_LEVELS:
    router.add_api_route(
        f"/v3/displacement/admin{_level}",
        _endpoint(_level, 3),
        methods=["GET"],
        summary=f"DTM API v3: IDP figures at admin {_level}",
    )
    router.add_api_route(
        f"/v2/IdpAdmin{_level}Data",
        _endpoint(_level, 2),
        methods=["GET"],
        summary=f"DTM API v2: IDP figures at admin {_level}",
    )


def _list(result: list[dict]) -> Response:
    return writers.json_response(_envelope(result))


@router.get("/v3/displacement/country-list", summary="DTM API v3: countries")
@router.get("/v2/CountryList", summary="DTM API v2: countries")
def country_list(session: SessionDep, subscription_key: KEY_HEADER = None) -> Response:
    return _list(dtm_compat.country_list(session))


@router.get("/v3/displacement/operation-list", summary="DTM API v3: operations")
@router.get("/v2/OperationList", summary="DTM API v2: operations")
def operation_list(session: SessionDep, subscription_key: KEY_HEADER = None) -> Response:
    return _list(dtm_compat.operation_list(session))
