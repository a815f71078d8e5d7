"""Resolve place names (English or Arabic, any known spelling) to pcodes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AdminArea, AdminAreaName
from app.names import closest, match_key, skeleton


def resolve(session: Session, name: str, level: int | None = None) -> list[str]:
    """Pcodes whose known names match `name`: exact normalised match, else a unique
    transliteration-skeleton match. Empty when nothing matches."""
    query = select(AdminAreaName.pcode).join(AdminArea, AdminArea.pcode == AdminAreaName.pcode)
    if level is not None:
        query = query.where(AdminArea.level == level)
    exact = session.execute(query.where(AdminAreaName.match_key == match_key(name))).scalars()
    pcodes = sorted(set(exact))
    if pcodes:
        return pcodes
    wanted = skeleton(name)
    rows = session.execute(query.add_columns(AdminAreaName.name)).all()
    loose = sorted({pcode for pcode, known in rows if skeleton(known) == wanted})
    return loose if len(loose) == 1 else []


def suggestions(session: Session, name: str, level: int | None = None, limit: int = 3) -> list[str]:
    """Up to `limit` 'English name (pcode)' labels close to `name`, for error messages."""
    query = select(AdminAreaName.match_key, AdminArea.name_en, AdminArea.pcode).join(
        AdminArea, AdminArea.pcode == AdminAreaName.pcode
    )
    if level is not None:
        query = query.where(AdminArea.level == level)
    candidates = {key: f"{en} ({pcode})" for key, en, pcode in session.execute(query)}
    return closest(name, candidates, limit)
