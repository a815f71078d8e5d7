"""Origin-destination flows: aggregated up the hierarchy, with shares and area balances.

Flows are stored at whatever level their source gives (DTM v3: origin mantika; event
data: origin baladiya). A requested level coarser than the stored one sums the flows of
the areas below; a finer one cannot be made up, so such flows stay at their stored level
(each row says its levels).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services.hierarchy import ancestor_at, within
from app.vocabulary import DEFAULT_FLOW_QUALITIES, POPULATION_TYPES

DEFAULT_QUALITIES = DEFAULT_FLOW_QUALITIES


@dataclass(frozen=True)
class FlowFilter:
    round_ids: tuple[int, ...]
    population_types: tuple[str, ...] = POPULATION_TYPES
    origin_level: int | None = None  # None: as stored
    destination_level: int | None = None
    origins: tuple[str, ...] | None = None  # pcodes, matched against the area or its parents
    destinations: tuple[str, ...] | None = None
    min_count: int = 0
    top: int | None = None
    qualities: tuple[str, ...] = DEFAULT_QUALITIES
    include_internal: bool = True

    def params(self) -> dict:
        return {
            "round_ids": list(self.round_ids),
            "types": list(self.population_types),
            "qualities": list(self.qualities),
            "origin_level": self.origin_level,
            "destination_level": self.destination_level,
            "any_origin": self.origins is None,
            "origins": list(self.origins or ()),
            "any_destination": self.destinations is None,
            "destinations": list(self.destinations or ()),
            "min_count": self.min_count,
            "top": self.top,
            "internal": self.include_internal,
        }


def _at(alias: str, level_param: str) -> str:
    """The area of `alias` summed up to the requested level (as stored when none is
    requested, or when it lies above that level)."""
    return f"COALESCE({ancestor_at(alias, f'CAST(:{level_param} AS int)')}, {alias}.pcode)"


# Stored flows at the requested levels. `selected`: the stored origin and destination are
# in the requested areas (matched before aggregating, so a baladiya filter works at any
# level); shares are of all flows, selected or not.
_BASE = f"""
WITH base AS (
    SELECT f.round_id, f.population_type,
           {_at("oa", "origin_level")} AS origin, {_at("da", "destination_level")} AS destination,
           f.individuals, f.households, f.quality, f.source, f.source_url,
           (:any_origin OR {within("oa", "origins")})
           AND (:any_destination OR {within("da", "destinations")}) AS selected
    FROM flows f
    JOIN admin_areas oa ON oa.pcode = f.origin_pcode
    JOIN admin_areas da ON da.pcode = f.destination_pcode
    WHERE f.round_id = ANY(:round_ids) AND f.population_type = ANY(:types)
      AND f.quality = ANY(:qualities)
)"""

_WORST_QUALITY = """CASE WHEN bool_or(quality = 'synthetic') THEN 'synthetic'
                WHEN bool_or(quality = 'modelled') THEN 'modelled' ELSE 'published' END"""

_FLOWS = f"""
{_BASE},
agg AS (
    SELECT round_id, population_type, origin, destination,
           sum(individuals)::bigint AS individuals,
           CASE WHEN count(households) = count(*) THEN sum(households)::bigint END
               AS households,
           {_WORST_QUALITY} AS quality,
           array_agg(DISTINCT source ORDER BY source) AS sources,
           array_agg(DISTINCT source_url ORDER BY source_url)
               FILTER (WHERE source_url IS NOT NULL) AS source_urls,
           count(*) AS stored_flows
    FROM base WHERE selected
    GROUP BY 1, 2, 3, 4
),
out_total AS (
    SELECT round_id, population_type, origin, sum(individuals) AS n FROM base GROUP BY 1, 2, 3
),
in_total AS (
    SELECT round_id, population_type, destination, sum(individuals) AS n
    FROM base GROUP BY 1, 2, 3
)
SELECT r.code AS round_code, s.population_type,
       s.origin AS origin_pcode, o.level AS origin_level,
       o.name_en AS origin_name_en, o.name_ar AS origin_name_ar,
       s.destination AS destination_pcode, d.level AS destination_level,
       d.name_en AS destination_name_en, d.name_ar AS destination_name_ar,
       s.individuals, s.households,
       round(s.individuals::numeric / NULLIF(ot.n, 0), 4)::float AS share_of_origin,
       round(s.individuals::numeric / NULLIF(it.n, 0), 4)::float AS share_of_destination,
       s.origin = s.destination AS internal,
       s.quality, s.sources, s.source_urls, s.stored_flows,
       ST_X(ST_PointOnSurface(o.geom)) AS origin_lon, ST_Y(ST_PointOnSurface(o.geom)) AS origin_lat,
       ST_X(ST_PointOnSurface(d.geom)) AS destination_lon,
       ST_Y(ST_PointOnSurface(d.geom)) AS destination_lat
FROM agg s
JOIN out_total ot USING (round_id, population_type, origin)
JOIN in_total it USING (round_id, population_type, destination)
JOIN rounds r ON r.id = s.round_id
JOIN admin_areas o ON o.pcode = s.origin
JOIN admin_areas d ON d.pcode = s.destination
WHERE s.individuals >= :min_count AND (:internal OR s.origin <> s.destination)
ORDER BY s.individuals DESC, r.code, s.population_type, s.origin, s.destination
LIMIT :top
"""

_BALANCE = f"""
{_BASE},
sides AS (
    SELECT round_id, population_type, destination AS pcode, quality,
           CASE WHEN origin <> destination THEN individuals ELSE 0 END AS inflow,
           0 AS outflow, CASE WHEN origin = destination THEN individuals ELSE 0 END AS internal
    FROM base
    UNION ALL
    SELECT round_id, population_type, origin, quality, 0, individuals, 0
    FROM base WHERE origin <> destination
)
SELECT r.code AS round_code, s.population_type, s.pcode, a.level, a.name_en, a.name_ar,
       sum(inflow)::bigint AS inflow, sum(outflow)::bigint AS outflow,
       sum(internal)::bigint AS internal,
       (sum(inflow) - sum(outflow))::bigint AS net,
       (sum(inflow) + sum(internal))::bigint AS hosted,
       (sum(outflow) + sum(internal))::bigint AS displaced_from,
       {_WORST_QUALITY} AS quality
FROM sides s
JOIN rounds r ON r.id = s.round_id
JOIN admin_areas a ON a.pcode = s.pcode
WHERE (CAST(:areas AS text[]) IS NULL OR {within("a")})
GROUP BY r.code, s.population_type, s.pcode, a.level, a.name_en, a.name_ar
ORDER BY r.code, s.population_type, s.pcode
"""


def flows(session: Session, flt: FlowFilter) -> list[dict]:
    """Flows at the requested levels, largest first, with their shares and end points."""
    rows = session.execute(text(_FLOWS), flt.params()).mappings().all()
    return [dict(r) for r in rows]


def balances(session: Session, flt: FlowFilter, level: int, areas: tuple[str, ...] | None):
    """Per area of `level`: inflow, outflow, internal (within the area), net, hosted,
    displaced from; `areas` keeps those in (or equal to) the given areas."""
    params = {
        **flt.params(),
        "origin_level": level,
        "destination_level": level,
        "areas": list(areas) if areas else None,
    }
    return [dict(r) for r in session.execute(text(_BALANCE), params).mappings().all()]
