"""Readiness: database reachable, schema at the migrations' head, data loaded."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.db import migration_state
from app.models import AdminArea, DataVersion, Observation


def readiness(session: Session, url: str) -> dict:
    checks: dict[str, dict] = {}
    try:
        session.execute(select(1))
        checks["database"] = {"ok": True}
    except SQLAlchemyError:
        checks["database"] = {"ok": False, "detail": "database unreachable"}
        return {"ready": False, "checks": checks}
    try:
        current, head = migration_state(url)
    except SQLAlchemyError:
        current, head = None, "unknown"
    checks["migrations"] = {"ok": current == head, "current": current, "head": head}
    if current == head:
        areas = session.execute(select(func.count()).select_from(AdminArea)).scalar_one()
        observations = session.execute(select(func.count()).select_from(Observation)).scalar_one()
        version = session.execute(select(DataVersion.version)).scalar_one()
        checks["data"] = {
            "ok": areas > 0 and observations > 0,
            "admin_areas": areas,
            "observations": observations,
            "data_version": version,
        }
    else:
        checks["data"] = {"ok": False, "detail": "schema not at head"}
    return {"ready": all(c["ok"] for c in checks.values()), "checks": checks}
