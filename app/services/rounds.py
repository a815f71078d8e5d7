"""Rounds of data collection with what each holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.memo import Memo

_ROUNDS_SQL = """
SELECT r.code, r.number, r.kind, r.event_slug, r.title, r.collection_start, r.collection_end,
       r.reporting_date, r.source, r.source_url, r.revision,
       coalesce(o.observations, 0) AS observations,
       coalesce(o.population_types, ARRAY[]::text[]) AS population_types,
       coalesce(o.levels, ARRAY[]::smallint[]) AS admin_levels,
       coalesce(o.qualities, ARRAY[]::text[]) AS qualities
FROM rounds r
LEFT JOIN LATERAL (
    SELECT count(*) AS observations,
           array_agg(DISTINCT ob.population_type ORDER BY ob.population_type) AS population_types,
           array_agg(DISTINCT a.level ORDER BY a.level) AS levels,
           array_agg(DISTINCT ob.quality ORDER BY ob.quality) AS qualities
    FROM observations ob JOIN admin_areas a ON a.pcode = ob.pcode
    WHERE ob.round_id = r.id
) o ON true
WHERE (CAST(:code AS text) IS NULL OR r.code = :code)
  AND (CAST(:kind AS text) IS NULL OR r.kind = :kind)
  AND (CAST(:event AS text) IS NULL OR r.event_slug = :event)
ORDER BY r.reporting_date NULLS LAST, r.collection_end NULLS LAST, r.code
"""


def list_rounds(
    session: Session, code: str | None = None, kind: str | None = None, event: str | None = None
) -> list[dict]:
    """Rounds in time order; each with its observation count, population types and levels."""
    rows = session.execute(text(_ROUNDS_SQL), {"code": code, "kind": kind, "event": event})
    return [dict(r) for r in rows.mappings()]


# --- the one place rounds are looked up --------------------------------------------------


@dataclass(frozen=True)
class RoundRef:
    """A round as look-ups need it; `published` counts its published figures stored
    without a reason, by (population type, admin level)."""

    id: int
    code: str
    number: int | None
    kind: str
    when: date | None  # reporting date, else end of collection, else publication
    has_flows: bool
    published: dict = field(default_factory=dict, compare=False, hash=False)

    def has_figures(self, population_type: str | None, level: int, min_units: int = 1) -> bool:
        """Whether its figures give areas of `level` a value: at least `min_units` stored
        at that level or below (of `population_type`, when given)."""
        return any(
            count >= min_units
            for (kind, stored), count in self.published.items()
            if stored >= level and population_type in (None, kind)
        )


_CATALOGUE_SQL = """
SELECT r.id, r.code, r.number, r.kind,
       COALESCE(r.reporting_date, r.collection_end, r.published_on) AS when,
       EXISTS (SELECT 1 FROM flows f WHERE f.round_id = r.id) AS has_flows,
       (SELECT json_agg(json_build_array(x.population_type, x.level, x.n)) FROM (
            SELECT o.population_type, a.level, count(*) AS n
            FROM observations o JOIN admin_areas a ON a.pcode = o.pcode
            WHERE o.round_id = r.id AND o.quality = 'published'
              AND o.displacement_reason IS NULL
            GROUP BY 1, 2) x) AS published
FROM rounds r
"""

_CATALOGUE = Memo(8)


class Catalogue:
    """Every round, read once per data version, latest last (by date, then code)."""

    def __init__(self, refs: list[RoundRef]):
        self.rounds = sorted(refs, key=lambda r: (r.when is not None, r.when or date.min, r.code))
        self._by_code = {r.code: r for r in refs}

    def get(self, code: str) -> RoundRef | None:
        return self._by_code.get(code)

    def require(self, code: str) -> RoundRef:
        found = self.get(code)
        if found is None:
            raise NotFound(f"unknown round '{code}'; list rounds with GET /api/v1/rounds")
        return found

    def resolve(self, value: str) -> list[RoundRef]:
        """A code (any case) or a mobility-tracking round number."""
        folded = value.lower()
        found = [
            r
            for r in self.rounds
            if r.code == value
            or r.code.lower() == folded
            or (r.kind == "mobility_tracking" and str(r.number) == value)
        ]
        if not found:
            raise NotFound(f"unknown round '{value}'; list rounds with GET /api/v1/rounds")
        return found

    def latest(
        self, population_type: str | None = None, level: int = 0, min_units: int = 1
    ) -> RoundRef | None:
        """The latest round with published figures for areas of `level`."""
        return next(
            (r for r in reversed(self.rounds) if r.has_figures(population_type, level, min_units)),
            None,
        )

    def latest_with_flows(self) -> RoundRef | None:
        return next((r for r in reversed(self.rounds) if r.has_flows), None)


def catalogue(session: Session) -> Catalogue:
    return _CATALOGUE.get(session, "rounds", lambda: _read_catalogue(session))


def _read_catalogue(session: Session) -> Catalogue:
    refs = []
    for row in session.execute(text(_CATALOGUE_SQL)).mappings():
        published = {(kind, level): n for kind, level, n in row["published"] or ()}
        refs.append(
            RoundRef(
                row["id"],
                row["code"],
                row["number"],
                row["kind"],
                row["when"],
                row["has_flows"],
                published,
            )
        )
    return Catalogue(refs)
