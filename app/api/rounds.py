"""Rounds of data collection."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.api import schemas, writers
from app.api.caching import cached_response
from app.api.deps import SessionDep
from app.api.rendered import Rendered
from app.errors import NotFound
from app.ingest.pipeline import round_etag
from app.serialize import dumps
from app.services import rounds
from app.vocabulary import RoundKind

router = APIRouter(prefix="/api/v1", tags=["rounds"], responses=schemas.READ_ERRORS)


@router.get(
    "/rounds",
    summary="Rounds (mobility tracking, flash updates) in time order",
    responses={200: {"model": schemas.Rounds}},
)
def list_rounds(
    request: Request,
    session: SessionDep,
    kind: Annotated[
        RoundKind | None,
        Query(description="Only rounds of this kind.", examples=["flash_update"]),
    ] = None,
    event: Annotated[
        str | None,
        Query(
            pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$",
            description="Only rounds of this event.",
            examples=["storm-daniel-2023"],
        ),
    ] = None,
) -> Response:
    def render() -> Rendered:
        rows = rounds.list_rounds(session, kind=kind, event=event)
        body = {"data": rows, "meta": {"count": len(rows)}}
        return Rendered(writers.json_body(body), writers.JSON)

    return cached_response(request, session, render)


@router.get(
    "/rounds/{code}",
    summary="One round; its ETag (a revision) is what If-Match expects when writing",
    responses={200: {"model": schemas.OneRound}},
)
def get_round(
    session: SessionDep,
    code: Annotated[
        str, Path(max_length=64, description="Round code, e.g. R54.", examples=["R54"])
    ],
) -> Response:
    found = rounds.list_rounds(session, code=code)
    if not found:
        raise NotFound(f"unknown round '{code}'; list rounds with GET /api/v1/rounds")
    return Response(
        dumps({"data": found[0]}),
        media_type="application/json",
        headers={"ETag": round_etag(code, found[0]["revision"]), "Cache-Control": "no-cache"},
    )
