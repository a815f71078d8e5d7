"""Liveness and readiness probes."""

from fastapi import APIRouter

from app.api.deps import SessionDep, SettingsDep
from app.api.writers import JSONResponse
from app.services import status

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict:
    """Answered on the event loop: no thread hop, no database."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Ready to serve: database reachable, migrations at head, data loaded",
    responses={503: {"description": "Not ready; the body says which check failed"}},
)
def readyz(session: SessionDep, settings: SettingsDep) -> JSONResponse:
    report = status.readiness(session, settings.effective_database_url)
    return JSONResponse(report, status_code=200 if report["ready"] else 503)
