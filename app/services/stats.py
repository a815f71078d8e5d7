"""Round statistics at a DTM admin level, rolled up without double counting."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from app import nationalities as nationalities_ar
from app.memo import Memo
from app.serialize import dumps
from app.services import rollup
from app.services.hierarchy import rollup_sql, within
from app.services.paging import EVERY_ROW, Page, Paged
from app.services.prepared import Prepared, Rows
from app.services.rounds import RoundRef, catalogue
from app.vocabulary import ADMIN_LEVELS, POPULATION_TYPES


@dataclass(frozen=True)
class StatsFilter:
    """Parsed, validated filters (see app.api.params for the HTTP side)."""

    level: int = 0
    operation: str = "LBY"  # the ISO3 code of the operation (app.services.operations)
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

    def __post_init__(self) -> None:
        if self.collapse_reasons and not self.any_reason:
            # the stored roll-up collapses every reason, never one chosen reason
            raise ValueError("collapse_reasons is for all reasons, not a chosen one")

    def admits(self, ref: RoundRef) -> bool:
        """Whether a round meets the filter's round number and reporting date bounds (as
        its SQL conditions do)."""
        number, when = ref.number, ref.reporting_date
        return (
            (self.round_from is None or (number is not None and number >= self.round_from))
            and (self.round_to is None or (number is not None and number <= self.round_to))
            and (self.date_from is None or (when is not None and when >= self.date_from))
            and (self.date_to is None or (when is not None and when <= self.date_to))
        )

    def params(self) -> dict:
        return {
            "level": self.level,
            "operation": self.operation,
            "all_rounds": self.round_ids is None,
            "round_ids": list(self.round_ids or ()),
            "round_id": self.round_ids[0] if self.round_ids else None,
            "round_from": self.round_from,
            "round_to": self.round_to,
            "date_from": self.date_from,
            "date_to": self.date_to,
            "types": list(self.population_types),
            "all_areas": self.areas is None,
            "areas": list(self.areas or ()),
            "reason": self.reason,
            "qualities": rollup.selection(self.qualities),
            "collapse": self.collapse_reasons,
        }


# each optional filter's condition on the stored roll-up `s`; a statement is built (once)
# for the filters a request uses, which keeps planning short
_CONDITIONS = {
    "types": "s.population_type = ANY(:types)",
    "reason": "s.displacement_reason IS NOT DISTINCT FROM :reason",
    "round": "s.round_id = :round_id",
    "rounds": "s.round_id = ANY(:round_ids)",
    "round_from": "s.round_number >= :round_from",
    "round_to": "s.round_number <= :round_to",
    "date_from": "s.reporting_date >= :date_from",
    "date_to": "s.reporting_date <= :date_to",
    "areas": within("s"),
}


def _active(flt: StatsFilter) -> tuple[str, ...]:
    """The optional conditions a filter needs."""
    given = {
        "types": set(flt.population_types) != set(POPULATION_TYPES),
        "reason": not flt.any_reason,
        "round": flt.round_ids is not None and len(flt.round_ids) == 1,
        "rounds": flt.round_ids is not None and len(flt.round_ids) != 1,
        "round_from": flt.round_from is not None,
        "round_to": flt.round_to is not None,
        "date_from": flt.date_from is not None,
        "date_to": flt.date_to is not None,
        "areas": flt.areas is not None,
    }
    return tuple(name for name, needed in given.items() if needed)


@functools.cache
def _statement(template: str, active: tuple[str, ...]) -> Prepared:
    """`template` with its `{where}` made of the selection, level and `active` conditions,
    and its `{order}` the natural-key order (within one round, the order of the stored
    roll-up's unique index: no sort)."""
    where = (
        "\nWHERE s.qualities = CAST(:qualities AS varchar(10)[])"
        " AND s.reasons_collapsed = :collapse AND s.level = :level"
        " AND s.ancestry[1] = :operation"
        + "".join(f"\n  AND {_CONDITIONS[name]}" for name in active)
    )
    order = ORDER_IN_ROUND if "round" in active else ORDER
    return Prepared(text(template.format(where=where, order=order)))


# a statistics row, as the API gives it (the stored roll-up keeps its round's and area's
# columns: no join), with the area's ancestry (app.services.hierarchy)
_COLUMNS = "\nSELECT " + ", ".join(f"s.{c}" for c in (*rollup.ROW_COLUMNS, "ancestry"))

ORDER_IN_ROUND = "s.pcode, s.population_type, s.displacement_reason NULLS FIRST"
ORDER = f"s.reporting_date NULLS LAST, s.round_code, {ORDER_IN_ROUND}"

_ROWS = f"""{_COLUMNS}, count(*) OVER () AS total
FROM rolled_up_figures s{{where}}
ORDER BY {{order}}
LIMIT :limit OFFSET :offset"""

_COUNT = "SELECT count(*) FROM rolled_up_figures s{where}"

# a page of (round, area, reason) keys, then every population type's row of each
_KEYED_ROWS = f"""
WITH keys AS (
    SELECT s.round_id, s.pcode, s.displacement_reason,
           row_number() OVER (ORDER BY min(s.reporting_date) NULLS LAST, min(s.round_code),
                              s.pcode, s.displacement_reason NULLS FIRST) AS n,
           count(*) OVER () AS total
    FROM rolled_up_figures s{{where}}
    GROUP BY s.round_id, s.pcode, s.displacement_reason
    ORDER BY n
    LIMIT :limit OFFSET :offset
){_COLUMNS}, keys.total
FROM keys
JOIN rolled_up_figures s ON s.round_id = keys.round_id AND s.pcode = keys.pcode
     AND s.displacement_reason IS NOT DISTINCT FROM keys.displacement_reason{{where}}
ORDER BY keys.n, s.population_type"""

_KEY_COUNT = (
    "SELECT count(*) FROM (SELECT 1 FROM rolled_up_figures s{where} "
    "GROUP BY s.round_id, s.pcode, s.displacement_reason) k"
)


# one page of stored encoded rows, joined into the contents of a JSON array, with what
# they are made of: one row back, whatever the page's length
_ENCODED = """
WITH page AS (
    SELECT s.encoded, s.round_code, s.quality, s.sources, s.per_1000,
           row_number() OVER (ORDER BY {order}) AS n
    FROM rolled_up_figures s{where}
    ORDER BY {order}
    LIMIT :limit OFFSET :offset
)
SELECT string_agg(encoded, convert_to(',', 'UTF8') ORDER BY n) AS rows,
       count(*) AS returned,
       (SELECT count(*) FROM rolled_up_figures s{where}) AS total,
       array_agg(DISTINCT round_code) AS rounds,
       array_agg(DISTINCT quality) AS qualities,
       (SELECT array_agg(DISTINCT x.source) FROM page, unnest(page.sources) AS x(source))
           AS sources,
       coalesce(bool_or(per_1000 IS NOT NULL), false) AS rated
FROM page"""


@dataclass
class EncodedPage:
    """A page of statistics rows stored encoded, joined (`rows`: the contents of a JSON
    array of the rows' objects), how many it holds and match, and what they are made of."""

    rows: bytes
    returned: int
    total: int
    rounds: list[str]
    sources: list[str]
    qualities: list[str]
    rated: bool  # some row has a per-capita rate


def statistics_encoded(session: Session, flt: StatsFilter, page: Page) -> EncodedPage:
    """`statistics` as stored bytes: the same rows in the same order, nothing converted."""
    params = {**flt.params(), "limit": page.limit, "offset": page.offset}
    found = _statement(_ENCODED, _active(flt)).run(session, params).one()
    return EncodedPage(
        bytes(found["rows"] or b""),
        found["returned"],
        found["total"],  # counted by the statement, even for a page past the end
        sorted(found["rounds"] or ()),
        sorted(found["sources"] or ()),
        sorted(found["qualities"] or ()),
        found["rated"],
    )


def statistics(session: Session, flt: StatsFilter, page: Page = EVERY_ROW) -> Paged:
    """A page of the rows matching the filter, in natural-key order (round, pcode, type,
    reason), and how many match: filtered, ordered and paged by SQL over the stored
    roll-up (app.services.rollup)."""
    active = _active(flt)
    return _paged(session, _statement(_ROWS, active), _statement(_COUNT, active), flt, page)


def statistics_by_key(session: Session, flt: StatsFilter, page: Page) -> Paged:
    """A page of the (round, area, reason) keys matching the filter with every population
    type's row of each key; `total` counts keys, not rows (one per row of a wide table)."""
    active = _active(flt)
    sql = _statement(_KEYED_ROWS, active)
    return _paged(session, sql, _statement(_KEY_COUNT, active), flt, page)


def _paged(
    session: Session, sql: Prepared, count_sql: Prepared, flt: StatsFilter, page: Page
) -> Paged:
    params = {**flt.params(), "limit": page.limit, "offset": page.offset}
    result = sql.run(session, params)
    keys = result.columns[:-1]
    rows = [dict(zip(keys, row[:-1], strict=True)) for row in result.rows]
    total = result.rows[-1][-1] if result.rows else None
    return Paged(rows, _total(session, total, count_sql, params))


def _total(session: Session, on_page: int | None, count_sql: Prepared, params: dict) -> int:
    """The total a page's rows carried, or, on a page with no row, counted."""
    if on_page is not None:
        return on_page
    return count_sql.run(session, params).rows[0][0] if params["offset"] else 0


# the areas of the filter's level that its areas name (admin_areas `a`)
_AREA_FILTER = f"""a.level = :level AND a.ancestry[1] = :operation
    AND (:all_areas OR {within("a")})"""


# the sources of the figures of the round a map shows (the filter's one round)
_MAP_ROUND = """
WITH whole AS MATERIALIZED (
    SELECT array_agg(DISTINCT src.source ORDER BY src.source) AS sources,
           coalesce(bool_or(s.per_1000 IS NOT NULL), false) AS rated
    FROM rolled_up_figures s CROSS JOIN LATERAL unnest(s.sources) AS src(source){where}
)"""
_MAP_VALUES = "whole.sources AS chosen_sources, whole.rated AS chosen_rated"

# a map page made of stored properties (app.services.rollup), the common case (every
# population type, reasons collapsed): one row back, the page's properties joined, with
# their areas and lengths; `stored` < `on_page` when some area has none stored
_MAP_STORED = f"""{_MAP_ROUND},
page AS (
    SELECT a.pcode, count(*) OVER () AS total
    FROM admin_areas a
    WHERE {_AREA_FILTER}
    ORDER BY a.pcode
    LIMIT :limit OFFSET :offset
),
stored AS (
    SELECT page.pcode, page.total,
           CASE WHEN :approximate AND m.properties_approximate IS NOT NULL
                THEN m.properties_approximate ELSE m.properties END AS properties
    FROM page
    LEFT JOIN mapped_areas m
           ON m.qualities = CAST(:qualities AS varchar(10)[]) AND m.level = :level
          AND m.round_id = :round_id AND m.pcode = page.pcode
)
SELECT {_MAP_VALUES}, max(stored.total) AS total,
       count(stored.pcode) AS on_page, count(stored.properties) AS stored,
       array_agg(stored.pcode ORDER BY stored.pcode) FILTER (WHERE stored.pcode IS NOT NULL)
           AS pcodes,
       array_agg(length(stored.properties) ORDER BY stored.pcode)
           FILTER (WHERE stored.pcode IS NOT NULL) AS lengths,
       string_agg(stored.properties, ''::bytea ORDER BY stored.pcode) AS properties
FROM whole
LEFT JOIN stored ON true
GROUP BY whole.sources, whole.rated"""

# a map page with its areas' figures pivoted per request to a column per population type
# (app.services.rollup.MAP_FIGURES): for any filter; the map's own values on the first row
_MAP_PIVOTED = f"""{_MAP_ROUND},
page AS (
    SELECT {rollup.MAP_AREA}, count(*) OVER () AS total,
           row_number() OVER (ORDER BY a.pcode) AS n
    FROM admin_areas a
    LEFT JOIN admin_areas p ON p.pcode = a.parent_pcode
    LEFT JOIN approximate_boundaries ab ON ab.pcode = a.pcode
    WHERE {_AREA_FILTER}
    ORDER BY a.pcode
    LIMIT :limit OFFSET :offset
)
SELECT first.*, page.*, figures.*
FROM whole
LEFT JOIN page ON true
LEFT JOIN LATERAL (SELECT {_MAP_VALUES}) first ON page.n IS NULL OR page.n = :offset + 1
LEFT JOIN LATERAL (
    SELECT {rollup.MAP_FIGURES}
    FROM rolled_up_figures s{{where}}
      AND s.pcode = page.pcode
) figures ON page.pcode IS NOT NULL
ORDER BY page.pcode"""

_AREA_COUNT = Prepared(text(f"SELECT count(*) FROM admin_areas a WHERE {_AREA_FILTER}"))


def _pivoted_areas(found: Rows, approximate: bool) -> list[tuple[str, bytes]]:
    """Each area of a pivoted map page with its properties encoded."""
    columns = found.columns
    return [
        (row["pcode"], dumps(rollup.map_properties(row, approximate)))
        for row in (dict(zip(columns, values, strict=True)) for values in found.rows)
        if row["pcode"] is not None  # else no area is on this page
    ]


def _stored_areas(found: dict) -> list[tuple[str, memoryview]]:
    """Each area of a stored map page with its properties, cut from the joined bytes."""
    joined, at, areas = memoryview(found["properties"] or b""), 0, []
    for pcode, length in zip(found["pcodes"] or (), found["lengths"] or (), strict=True):
        areas.append((pcode, joined[at : at + length]))
        at += length
    return areas


@dataclass
class MapPage:
    """A page of a map's areas (each with its properties encoded, by pcode), how many
    areas the map has, and the round it shows."""

    areas: list[tuple[str, bytes | memoryview]]
    total: int
    sources: list[str]
    rated: bool  # some figure of the round has a per-capita rate


def map_page(session: Session, flt: StatsFilter, page: Page, approximate: bool) -> MapPage:
    """The map of the filter's one round (`round_ids`: one id, or none for a map without
    figures) over the areas it names, a page of areas by SQL; households and rates per
    type as stored. Reasons are collapsed unless the filter picks one."""
    if flt.round_ids is None or len(flt.round_ids) > 1:
        raise ValueError("a map shows one round: choose it first (rounds.Catalogue.latest)")
    params = {**flt.params(), "approximate": approximate, "limit": page.limit}
    params["offset"] = page.offset
    active = _active(flt)
    chosen = None
    if flt.collapse_reasons and "types" not in active:
        found = _statement(_MAP_STORED, active).run(session, params).one()
        if found["stored"] == found["on_page"]:  # else some area has none stored: pivot
            chosen, areas = found, _stored_areas(found)
    if chosen is None:
        found = _statement(_MAP_PIVOTED, active).run(session, params)
        chosen = dict(zip(found.columns, found.rows[0], strict=True))
        areas = _pivoted_areas(found, approximate)
    total = _total(session, chosen["total"], _AREA_COUNT, params)
    return MapPage(areas, total, chosen["chosen_sources"] or [], chosen["chosen_rated"])


_DENOMINATORS = Memo(4)


def _denominators(session: Session) -> list[dict]:
    rows = session.execute(
        text("SELECT DISTINCT year, source, definition FROM populations ORDER BY year, source")
    )
    return [dict(d) for d in rows.mappings()]


def sources_metadata(session: Session, rows: list[dict]) -> dict:
    """Rounds, sources, qualities and denominators behind a set of rows."""
    return metadata(
        session,
        round_codes={r["round_code"] for r in rows},
        sources={s for r in rows for s in (r["sources"] or [])},
        qualities={r["quality"] for r in rows},
        rated=any(r["per_1000"] is not None for r in rows),
    )


def metadata(session: Session, round_codes, sources, qualities, rated: bool) -> dict:
    """The `meta` members naming what figures are made of (denominators if rated); the
    rounds in time order."""
    denominators = []
    if rated:
        denominators = _DENOMINATORS.get(session, "all", lambda: _denominators(session))
    return {
        "rounds": catalogue(session, None).in_order(round_codes),
        "sources": sorted(sources),
        "qualities": sorted(qualities),
        "denominators": denominators,
    }


_NATIONALITY_LEAF = """
    SELECT n.id, a.level, a.pcode, a.parent_pcode, n.quality, n.round_id, n.nationality,
           n.individuals
    FROM migrant_nationalities n
    JOIN admin_areas a ON a.pcode = n.pcode
    JOIN rounds r ON r.id = n.round_id
    WHERE n.quality = ANY(:qualities) AND r.operation = :operation
      AND (:all_rounds OR r.id = ANY(:round_ids))
      AND (CAST(:round_from AS int) IS NULL OR r.number >= :round_from)
      AND (CAST(:round_to AS int) IS NULL OR r.number <= :round_to)
      AND (CAST(:date_from AS date) IS NULL OR r.reporting_date >= :date_from)
      AND (CAST(:date_to AS date) IS NULL OR r.reporting_date <= :date_to)
"""


def _nationalities_sql(level: int, paged: bool = True) -> str:
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
        WHERE n.id = ANY(res.ids)) AS sources,
       count(*) OVER () AS total
FROM l{level} res
JOIN admin_areas a ON a.pcode = res.pcode
JOIN rounds r ON r.id = res.round_id
WHERE (:all_areas OR {within("a")})
ORDER BY r.reporting_date NULLS LAST, r.code, a.pcode, res.individuals DESC, res.nationality
{"LIMIT :limit OFFSET :offset" if paged else ""}
"""


_NATIONALITY_SQL = {level: Prepared(text(_nationalities_sql(level))) for level in ADMIN_LEVELS}
_NATIONALITY_COUNT = {
    level: Prepared(text(f"SELECT count(*) FROM ({_nationalities_sql(level, paged=False)}) n"))
    for level in ADMIN_LEVELS
}


def nationalities(session: Session, flt: StatsFilter, page: Page = EVERY_ROW) -> Paged:
    """A page of migrants by nationality per area and round, largest first within each
    area, paged by SQL."""
    paged = _paged(session, _NATIONALITY_SQL[flt.level], _NATIONALITY_COUNT[flt.level], flt, page)
    for r in paged.rows:
        r["nationality_ar"] = nationalities_ar.arabic(r["nationality"])
    return paged
