"""Rounds of data collection."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query

from app.api.deps import SessionDep
from app.api.responses import JSON
from app.services import rounds

router = APIRouter(prefix="/api/v1", tags=["rounds"])


@router.get("/rounds", summary="Rounds (mobility tracking, flash updates) in time order")
def list_rounds(
    session: SessionDep,
    kind: Annotated[
        Literal["mobility_tracking", "flash_update", "event_tracking"] | None,
        Query(description="Only rounds of this kind."),
    ] = None,
    event: Annotated[
        str | None,
        Query(
            pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$",
            description="Only rounds of this event.",
            examples=["storm-daniel-2023"],
        ),
    ] = None,
) -> JSON:
    rows = rounds.list_rounds(session, kind=kind, event=event)
    return JSON({"data": rows, "meta": {"count": len(rows)}})


@router.get("/rounds/{code}", summary="One round", responses={404: {"description": "Unknown"}})
def get_round(
    session: SessionDep,
    code: Annotated[
        str, Path(max_length=64, description="Round code, e.g. R54.", examples=["R54"])
    ],
) -> JSON:
    found = rounds.list_rounds(session, code=code)
    if not found:
        raise HTTPException(404, f"unknown round '{code}'; list rounds with GET /api/v1/rounds")
    return JSON({"data": found[0]})
