"""Resolve place names (English or Arabic, any known spelling) to pcodes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AdminArea, AdminAreaName
from app.names import closest, match_key, skeleton


def _in(query, operation: str | None):
    """Only areas of the operation (its ISO3 code first in their ancestry), when given."""
    return query if operation is None else query.where(AdminArea.ancestry[1] == operation)


def resolve(
    session: Session, name: str, level: int | None = None, operation: str | None = None
) -> list[str]:
    """Pcodes of the areas (of `level`, when given) one of whose known names (official, as
    a provider spells it, or a curated transliteration) is `name`, up to case, accents,
    Arabic letter variants and the article (app.names.match_key). Never a near miss: those
    are `suggestions`. Empty when nothing matches."""
    query = select(AdminAreaName.pcode).join(AdminArea, AdminArea.pcode == AdminAreaName.pcode)
    if level is not None:
        query = query.where(AdminArea.level == level)
    query = _in(query, operation)
    exact = session.execute(query.where(AdminAreaName.match_key == match_key(name))).scalars()
    return sorted(set(exact))


def resolve_at(
    session: Session, name: str, level: int | None, operation: str | None = None
) -> list[str]:
    """The areas a name means at `level`: those of that level, else those of the closest
    level above it (Derna at the muhalla level: the baladiya, not the mantika), else any
    it names."""
    query = _in(
        select(AdminArea.pcode, AdminArea.level).join(
            AdminAreaName, AdminArea.pcode == AdminAreaName.pcode
        ),
        operation,
    )
    found = set(session.execute(query.where(AdminAreaName.match_key == match_key(name))).all())
    above = [lvl for _, lvl in found if level is not None and lvl <= level]
    if above:
        found = {(p, lvl) for p, lvl in found if lvl == max(above)}
    return sorted(p for p, _ in found)


def suggestions(
    session: Session,
    name: str,
    level: int | None = None,
    limit: int = 3,
    operation: str | None = None,
) -> list[str]:
    """Up to `limit` 'English name (pcode)' labels of areas whose names come close to
    `name` (the same transliteration skeleton first, then similar spellings), for the
    message of a 404."""
    query = select(AdminAreaName.name, AdminArea.name_en, AdminArea.pcode).join(
        AdminArea, AdminArea.pcode == AdminAreaName.pcode
    )
    if level is not None:
        query = query.where(AdminArea.level == level)
    rows = session.execute(_in(query, operation)).all()
    wanted = skeleton(name)
    alike = [f"{en} ({pcode})" for known, en, pcode in rows if skeleton(known) == wanted]
    candidates = {match_key(known): f"{en} ({pcode})" for known, en, pcode in rows}
    labels = list(dict.fromkeys([*sorted(alike), *closest(name, candidates, limit)]))
    return labels[:limit]
