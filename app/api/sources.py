"""The live sources: when each was last synced, what it holds, how fresh the data is."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.api import schemas, writers
from app.api.deps import SessionDep
from app.api.params import OperationQuery
from app.services import operations, sources

router = APIRouter(prefix="/api/v1", tags=["operations"], responses=schemas.READ_ERRORS)


@router.get(
    "/sources",
    summary="Live sources (DTM API, HDX): last sync, its error, rounds held; data as of",
    description="Each source an operation syncs from (`dtm-geo sync`): its last attempt "
    "and last success, the error of the last attempt (or null), the rounds written or held "
    "back by precedence, the records they came from and the next run. `data_as_of`: per "
    "operation, the date, code and source of its latest round. Not cached: it changes "
    "without the data changing.",
)
def list_sources(session: SessionDep, operation: OperationQuery = None) -> Response:
    op = operations.resolve(session, operation).iso3 if operation else None
    body = {
        "data": sources.listing(session, op),
        "data_as_of": sources.data_as_of(session, op),
    }
    return writers.json_response(body, headers={"Cache-Control": "no-cache"})
