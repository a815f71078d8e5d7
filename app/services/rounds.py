"""Rounds of data collection with what each holds."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

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
