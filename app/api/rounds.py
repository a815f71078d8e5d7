"""Rounds of data collection."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel

from app.api import schemas, writers
from app.api.caching import cached_response
from app.api.deps import SessionDep
from app.api.params import OperationQuery, resolve_operation
from app.api.query import documented, query
from app.api.rendered import Rendered
from app.errors import NotFound
from app.ingest.pipeline import round_etag
from app.services import ogc, operations, rounds
from app.vocabulary import POPULATION_TYPES, RoundKind

router = APIRouter(prefix="/api/v1", tags=["rounds"], responses=schemas.READ_ERRORS)


class RoundsQuery(BaseModel):
    """The parameters of the list of rounds."""

    operation: OperationQuery = None
    kind: Annotated[
        RoundKind | None,
        Query(description="Only rounds of this kind.", examples=["flash_update"]),
    ] = None
    event: Annotated[
        str | None,
        Query(
            pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$",
            description="Only rounds of this event.",
            examples=["storm-daniel-2023"],
        ),
    ] = None


@router.get(
    "/rounds",
    summary="Rounds (mobility tracking, flash updates) in time order",
    description="Each round with what it holds and its coverage: per population type and "
    "level, how many areas have a value, of how many, and whether that is every area "
    "(`complete`; otherwise the round is partial there). `meta.latest` gives, per population "
    "type (and `any`) and level, the round that `latest` and every default stands for: the "
    "latest whose published figures cover every area of that level.",
    responses={200: {"model": schemas.Rounds}},
    openapi_extra=documented(RoundsQuery),
)
def list_rounds(
    request: Request, session: SessionDep, q: Annotated[RoundsQuery, Depends(query(RoundsQuery))]
) -> Response:
    kind, event = q.kind, q.event
    op = resolve_operation(session, q.operation)

    def render() -> Rendered:
        rows = rounds.list_rounds(session, op.iso3, kind=kind, event=event)
        known = rounds.catalogue(session, op.iso3)
        latest = known.latest_codes(POPULATION_TYPES, sorted(op.levels))
        body = {"data": rows, "meta": {"count": len(rows), "latest": latest}}
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
    ref = rounds.catalogue(session, None).get(code)
    found = rounds.list_rounds(session, ref.operation, code=code) if ref else []
    if not found:
        raise NotFound(f"unknown round '{code}'; list rounds with GET /api/v1/rounds")
    return writers.json_response(
        {"data": found[0]},
        headers={"ETag": round_etag(code, found[0]["revision"]), "Cache-Control": "no-cache"},
    )


def _map_layers(iso3: str) -> dict:
    """What the web map draws an operation with: the tile layer of its level-1 areas and
    the level that has approximate polygons (drawn for a level whose own are points)."""
    return {"outline": ogc.outline_layer(iso3), "approximate_level": ogc.approximate_level(iso3)}


@router.get(
    "/operations",
    summary="The DTM operations DTM Geo serves, with their levels and sources",
    tags=["operations"],
)
def list_operations(request: Request, session: SessionDep) -> Response:
    def render() -> Rendered:
        known = operations.all_operations(session)
        rows = [{**op.describe(), "map": _map_layers(op.iso3)} for op in known.values()]
        return Rendered(
            writers.json_body({"data": rows, "meta": {"count": len(rows)}}), writers.JSON
        )

    return cached_response(request, session, render)
