"""The round report as DTM publishes it, generated: HTML or PDF, in English or Arabic."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy.orm import Session

from app.api import schemas
from app.api.caching import answer_in_session
from app.api.rendered import Rendered
from app.reports import build
from app.reports import pdf as _pdf  # noqa: F401  (WeasyPrint loaded at start: see pdf.py)

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], responses=schemas.READ_ERRORS)

MEDIA = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}


@router.get(
    "/{round}",
    summary="A round report: key figures and change, maps, top areas, series, sources",
    description="The round's report as DTM publishes it: key figures with the change since "
    "the previous round of the same kind, coverage, a map per level and population type "
    "with data, the top ten areas and movers, the national series, indicators, the event's "
    "timeline for flash updates, sources, quality labels and IOM's credit line. Arabic is "
    "typeset right to left. The same round and data version give the same bytes.",
    responses={200: {"content": {MEDIA["pdf"]: {}, "text/html": {}}}},
)
async def round_report(
    request: Request,
    round: Annotated[
        str, Path(max_length=64, description="Round code.", examples=["R39", "IRQ-R132"])
    ],
    operation: Annotated[
        str | None,
        Query(
            max_length=32,
            description="Operation (ISO3 or slug); by default the round's.",
            examples=["LBY"],
        ),
    ] = None,
    lang: Annotated[
        Literal["en", "ar"], Query(description="Language of the report.", examples=["ar"])
    ] = "en",
    format: Annotated[
        Literal["pdf", "html"], Query(description="PDF or HTML.", examples=["pdf"])
    ] = "pdf",
) -> Response:
    def render(session: Session) -> Rendered:
        body, filename = build(session, round, operation, lang, format)
        disposition = "attachment" if format == "pdf" else "inline"
        headers = {"Content-Disposition": f'{disposition}; filename="{filename}"'}
        return Rendered(body, MEDIA[format], headers)

    return await answer_in_session(request, render)
