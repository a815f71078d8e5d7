"""Round statistics at a DTM admin level, rolled up without double counting."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from app import nationalities as nationalities_ar
from app.memo import Memo
from app.services.hierarchy import rollup_sql
from app.vocabulary import ADMIN_LEVELS, POPULATION_TYPES


@dataclass(frozen=True)
class StatsFilter:
    """Parsed, validated filters (see app.api.params for the HTTP side)."""

    level: int = 0
    round_ids: tuple[int, ...] | None = None
    round_from: int | None = None
    round_to: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    population_types: tuple[str, ...] = POPULATION_TYPES
    areas: tuple[str, ...] | None = None
    reason: str | None = None
    any_reason: bool = True
    qualities: tuple[str, ...] = ("published",)
    collapse_reasons: bool = False  # one total per area instead of one row per reason
    extra: dict = field(default_factory=dict, compare=False)

    def params(self) -> dict:
        return {
            "level": self.level,
            "all_rounds": self.round_ids is None,
            "round_ids": list(self.round_ids or ()),
            "round_from": self.round_from,
            "round_to": self.round_to,
            "date_from": self.date_from,
            "date_to": self.date_to,
            "types": list(self.population_types),
            "all_areas": self.areas is None,
            "areas": list(self.areas or ()),
            "any_reason": self.any_reason,
            "reason": self.reason,
            "qualities": list(self.qualities),
            "collapse": self.collapse_reasons,
        }


def reason_total(quality_condition: str) -> str:
    """SQL condition on observation `o`: it counts towards its area's total across reasons.
    An area's total is its reason-less figure when it has one, else the sum of its figures
    by reason."""
    return f"""(o.displacement_reason IS NULL OR NOT EXISTS (
          SELECT 1 FROM observations t
          WHERE t.round_id = o.round_id AND t.pcode = o.pcode
            AND t.population_type = o.population_type AND t.displacement_reason IS NULL
            AND {quality_condition}))"""


_LEAF = f"""
    SELECT o.id, a.level, a.pcode, a.parent_pcode, o.quality, o.round_id, o.population_type,
           CASE WHEN :collapse THEN NULL ELSE o.displacement_reason END AS reason,
           o.individuals, o.households, o.males, o.females
    FROM observations o
    JOIN admin_areas a ON a.pcode = o.pcode
    JOIN rounds r ON r.id = o.round_id
    WHERE o.quality = ANY(:qualities)
      AND o.population_type = ANY(:types)
      AND (:any_reason OR o.displacement_reason IS NOT DISTINCT FROM :reason)
      -- collapsing reasons (done here, before rolling up)
      AND (NOT :collapse OR {reason_total("t.quality = ANY(:qualities)")})
      AND (:all_rounds OR r.id = ANY(:round_ids))
      AND (CAST(:round_from AS int) IS NULL OR r.number >= :round_from)
      AND (CAST(:round_to AS int) IS NULL OR r.number <= :round_to)
      AND (CAST(:date_from AS date) IS NULL OR r.reporting_date >= :date_from)
      AND (CAST(:date_to AS date) IS NULL OR r.reporting_date <= :date_to)
"""

_POPULATIONS = """
latest_pop AS (
    SELECT DISTINCT ON (pcode) pcode, population, year
    FROM populations ORDER BY pcode, year DESC, source
),
pop_area AS MATERIALIZED (
    -- denominators summed from baladiyas; complete only if every baladiya has one
    SELECT a.pcode, sum(lp.population) AS population, max(lp.year) AS population_year,
           count(lp.pcode) = count(*) AS complete
    FROM admin_areas a
    JOIN admin_areas b ON b.level = 2
         AND (b.pcode = a.pcode OR b.parent_pcode = a.pcode OR a.level = 0)
    LEFT JOIN latest_pop lp ON lp.pcode = b.pcode
    WHERE a.level = :level
    GROUP BY a.pcode
)"""


def _stats_sql(level: int) -> str:
    rollup = rollup_sql(
        _LEAF,
        dims=("round_id", "population_type", "reason"),
        measures=("individuals",),
        optional=("households", "males", "females"),
    )
    return f"""
WITH {rollup},
{_POPULATIONS}
SELECT r.code AS round_code, r.number AS round_number, r.kind AS round_kind,
       r.event_slug, r.reporting_date,
       a.level, a.pcode, a.name_en, a.name_ar,
       a.parent_pcode, p.name_en AS parent_name_en, p.name_ar AS parent_name_ar,
       p.parent_pcode AS grandparent_pcode, gp.name_en AS grandparent_name_en,
       gp.name_ar AS grandparent_name_ar,
       res.population_type, res.reason AS displacement_reason,
       res.individuals, res.households, res.males, res.females, res.quality,
       cardinality(res.ids) AS units, res.complete,
       stored.record_id, stored.stored_levels, stored.sources,
       CASE WHEN pa.complete THEN pa.population END AS population,
       CASE WHEN pa.complete THEN pa.population_year END AS population_year,
       CASE WHEN pa.complete AND pa.population > 0
            THEN round(res.individuals * 1000.0 / pa.population, 3)::float8 END AS per_1000
FROM l{level} res
JOIN admin_areas a ON a.pcode = res.pcode
JOIN rounds r ON r.id = res.round_id
LEFT JOIN admin_areas p ON p.pcode = a.parent_pcode
LEFT JOIN admin_areas gp ON gp.pcode = p.parent_pcode
LEFT JOIN pop_area pa ON pa.pcode = a.pcode
CROSS JOIN LATERAL (
    -- the stored figures summed: index look-ups by id, never a scan per row
    SELECT min(o.id) AS record_id,
           array_agg(DISTINCT x.level ORDER BY x.level) AS stored_levels,
           array_agg(DISTINCT o.source ORDER BY o.source) AS sources
    FROM unnest(res.ids) AS i(id)
    JOIN observations o ON o.id = i.id
    JOIN admin_areas x ON x.pcode = o.pcode
) stored
WHERE (:all_areas OR a.pcode = ANY(:areas) OR a.parent_pcode = ANY(:areas)
       OR p.parent_pcode = ANY(:areas) OR 'LBY' = ANY(:areas))
ORDER BY r.reporting_date NULLS LAST, r.code, a.pcode, res.population_type,
         res.reason NULLS FIRST
"""


_SQL = {level: _stats_sql(level) for level in ADMIN_LEVELS}


_ROWS = Memo(256)


def statistics(session: Session, flt: StatsFilter) -> list[dict]:
    """Every row matching the filter, in natural-key order (round, pcode, type, reason).

    Rolled up once per data version and filter, then remembered: pages, formats and maps
    of the same figures share the rows. Callers must not change them."""
    return _ROWS.get(session, flt, lambda: _query(session, flt))


def _query(session: Session, flt: StatsFilter) -> list[dict]:
    rows = session.execute(text(_SQL[flt.level]), flt.params()).mappings().all()
    return [dict(r) for r in rows]


_DENOMINATORS = Memo(4)


def _denominators(session: Session) -> list[dict]:
    rows = session.execute(
        text("SELECT DISTINCT year, source, definition FROM populations ORDER BY year, source")
    )
    return [dict(d) for d in rows.mappings()]


def sources_metadata(session: Session, rows: list[dict]) -> dict:
    """Rounds, sources, qualities and denominators behind a set of rows."""
    rounds = sorted({r["round_code"] for r in rows})
    sources = sorted({s for r in rows for s in (r["sources"] or [])})
    denominators = []
    if any(r["per_1000"] is not None for r in rows):
        denominators = _DENOMINATORS.get(session, "all", lambda: _denominators(session))
    return {
        "rounds": rounds,
        "sources": sources,
        "qualities": sorted({r["quality"] for r in rows}),
        "denominators": denominators,
    }


_NATIONALITY_LEAF = """
    SELECT n.id, a.level, a.pcode, a.parent_pcode, n.quality, n.round_id, n.nationality,
           n.individuals
    FROM migrant_nationalities n
    JOIN admin_areas a ON a.pcode = n.pcode
    JOIN rounds r ON r.id = n.round_id
    WHERE n.quality = ANY(:qualities)
      AND (:all_rounds OR r.id = ANY(:round_ids))
      AND (CAST(:round_from AS int) IS NULL OR r.number >= :round_from)
      AND (CAST(:round_to AS int) IS NULL OR r.number <= :round_to)
      AND (CAST(:date_from AS date) IS NULL OR r.reporting_date >= :date_from)
      AND (CAST(:date_to AS date) IS NULL OR r.reporting_date <= :date_to)
"""


def _nationalities_sql(level: int) -> str:
    rollup = rollup_sql(
        _NATIONALITY_LEAF, dims=("round_id", "nationality"), measures=("individuals",), optional=()
    )
    return f"""
WITH {rollup}
SELECT r.code AS round_code, r.number AS round_number, r.reporting_date,
       a.level, a.pcode, a.name_en, a.name_ar, a.parent_pcode,
       res.nationality, res.individuals, res.quality, res.complete,
       round(100.0 * res.individuals / nullif(sum(res.individuals) OVER (
           PARTITION BY res.round_id, res.pcode), 0), 2)::float8 AS share_percent,
       (SELECT array_agg(DISTINCT n.source ORDER BY n.source) FROM migrant_nationalities n
        WHERE n.id = ANY(res.ids)) AS sources
FROM l{level} res
JOIN admin_areas a ON a.pcode = res.pcode
JOIN rounds r ON r.id = res.round_id
WHERE (:all_areas OR a.pcode = ANY(:areas) OR a.parent_pcode = ANY(:areas)
       OR 'LBY' = ANY(:areas))
ORDER BY r.reporting_date NULLS LAST, r.code, a.pcode, res.individuals DESC, res.nationality
"""


_NATIONALITY_SQL = {level: _nationalities_sql(level) for level in ADMIN_LEVELS}


def nationalities(session: Session, flt: StatsFilter) -> list[dict]:
    """Migrants by nationality per area and round, largest first within each area."""
    rows = session.execute(text(_NATIONALITY_SQL[flt.level]), flt.params()).mappings().all()
    return [{**r, "nationality_ar": nationalities_ar.arabic(r["nationality"])} for r in rows]
