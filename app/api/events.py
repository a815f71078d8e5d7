"""Events such as Storm Daniel 2023: published timeline, hosting per snapshot, flows."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from app.api import schemas, writers
from app.api.caching import cached_response
from app.api.deps import SessionDep
from app.api.rendered import Rendered
from app.services import events

router = APIRouter(prefix="/api/v1", tags=["analytics"], responses=schemas.READ_ERRORS)


@router.get("/events", summary="Events with flash-update rounds (e.g. storm-daniel-2023)")
def list_events(request: Request, session: SessionDep) -> Response:
    def render():
        return Rendered(writers.json_body({"data": events.events(session)}), writers.JSON)

    return cached_response(request, session, render)


@router.get(
    "/events/{slug}",
    summary="An event's story: published figures with sources, hosting by baladiya, flows",
    description="`timeline`: every published figure of the event in date order, each with "
    "its source URL. `snapshots`: one per flash-update round, with the published totals, "
    "the hosting distribution by baladiya (published where published, otherwise from the "
    "round's flows, labelled with their quality) and links to the flows in JSON, GeoJSON "
    "and flowmap layout.",
    responses={200: {"model": schemas.Event}},
)
def get_event(
    request: Request,
    session: SessionDep,
    slug: Annotated[
        str,
        Path(
            pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$",
            max_length=64,
            description="Event slug.",
            examples=["storm-daniel-2023"],
        ),
    ],
) -> Response:
    def render():
        return Rendered(writers.json_body(events.event(session, slug)), writers.JSON)

    return cached_response(request, session, render)
