"""The stored roll-up: observations rolled up the admin hierarchy once per write.

`rolled_up_figures` holds, for every selection of qualities and both ways of treating
reasons, each level's values as app.services.hierarchy defines them, with their stored
parts, sources and per-capita rates, and copies of their round's and area's columns.
Every write that changes figures calls `data_changed` in its own transaction, so readers
see the figures and their roll-up change together, and statistics are filtered and paged
by SQL over one indexed table.

A round's roll-up depends on that round's observations and columns alone (the round is a
grouping dimension), so a write to a round (figures or its own columns) rebuilds only
that round; writes that change areas or denominators (the default load) rebuild all.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import combinations

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.serialize import dumps
from app.services.hierarchy import rollup_sql
from app.vocabulary import ADMIN_LEVELS, PLURAL, POPULATION_TYPES, QUALITIES

# a statistics row as the API gives it, in order: the columns `encoded` holds
ROW_COLUMNS = (
    "round_code",
    "round_number",
    "round_kind",
    "event_slug",
    "reporting_date",
    "level",
    "pcode",
    "name_en",
    "name_ar",
    "parent_pcode",
    "parent_name_en",
    "parent_name_ar",
    "grandparent_pcode",
    "grandparent_name_en",
    "grandparent_name_ar",
    "population_type",
    "displacement_reason",
    "individuals",
    "households",
    "males",
    "females",
    "quality",
    "units",
    "complete",
    "record_id",
    "stored_levels",
    "sources",
    "population",
    "population_year",
    "per_1000",
)

# every non-empty selection of qualities, each in vocabulary order (7 of them)
SELECTIONS: tuple[tuple[str, ...], ...] = tuple(
    c for n in range(1, len(QUALITIES) + 1) for c in combinations(QUALITIES, n)
)


def selection(qualities: Iterable[str]) -> list[str]:
    """The stored key of a set of qualities: each once, in vocabulary order."""
    chosen = set(qualities)
    return [q for q in QUALITIES if q in chosen]


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
    WHERE o.quality = ANY(:qualities)
      AND (:all_rounds OR o.round_id = ANY(:round_ids))
      -- collapsing reasons (done here, before rolling up)
      AND (NOT :collapse OR {reason_total("t.quality = ANY(:qualities)")})
"""

_COLUMNS = (
    "pcode, round_id, population_type, reason, individuals, households, males, females, "
    "quality, ids, complete"
)

# every level's values, one table
_LEVELS = " UNION ALL".join(
    f"\n    SELECT {n} AS level, {_COLUMNS} FROM l{n}" for n in ADMIN_LEVELS
)

_REFRESH = f"""
WITH {
    rollup_sql(
        _LEAF,
        dims=("round_id", "population_type", "reason"),
        measures=("individuals",),
        optional=("households", "males", "females"),
    )
},
latest_pop AS (
    SELECT DISTINCT ON (pcode) pcode, population, year
    FROM populations ORDER BY pcode, year DESC, source
),
pop_area AS MATERIALIZED (
    -- denominators summed from baladiyas; complete only if every baladiya has one
    SELECT a.pcode, sum(lp.population) AS population, max(lp.year) AS population_year,
           count(lp.pcode) = count(*) AS complete
    FROM admin_areas a
    JOIN admin_areas b ON b.level = 2 AND a.pcode = ANY(b.ancestry)
    LEFT JOIN latest_pop lp ON lp.pcode = b.pcode
    GROUP BY a.pcode
),
levels AS ({_LEVELS}
)
INSERT INTO rolled_up_figures (
    qualities, reasons_collapsed, level, round_id, pcode,
    round_code, round_number, round_kind, event_slug, reporting_date,
    name_en, name_ar, parent_pcode, parent_name_en, parent_name_ar,
    grandparent_pcode, grandparent_name_en, grandparent_name_ar, ancestry, population_type,
    displacement_reason, individuals, households, males, females, quality, units, complete,
    record_id, stored_levels, sources, population, population_year, per_1000)
SELECT CAST(:qualities AS varchar(10)[]), :collapse, res.level, res.round_id, res.pcode,
       r.code, r.number, r.kind, r.event_slug, r.reporting_date,
       a.name_en, a.name_ar, a.parent_pcode, p.name_en, p.name_ar,
       p.parent_pcode, gp.name_en, gp.name_ar, a.ancestry,
       res.population_type, res.reason, res.individuals, res.households, res.males,
       res.females, res.quality, cardinality(res.ids),
       -- in a round that assessed every area, an area without a figure had none
       res.complete OR r.all_areas_assessed,
       stored.record_id, stored.stored_levels, stored.sources,
       CASE WHEN pa.complete THEN pa.population END,
       CASE WHEN pa.complete THEN pa.population_year END,
       CASE WHEN pa.complete AND pa.population > 0
            THEN round(res.individuals * 1000.0 / pa.population, 3)::float8 END
FROM levels res
JOIN rounds r ON r.id = res.round_id
JOIN admin_areas a ON a.pcode = res.pcode
LEFT JOIN admin_areas p ON p.pcode = a.parent_pcode
LEFT JOIN admin_areas gp ON gp.pcode = p.parent_pcode
LEFT JOIN pop_area pa ON pa.pcode = res.pcode
CROSS JOIN LATERAL (
    -- the stored figures summed: index look-ups by id, never a scan per row
    SELECT min(o.id) AS record_id,
           array_agg(DISTINCT x.level ORDER BY x.level) AS stored_levels,
           array_agg(DISTINCT o.source ORDER BY o.source) AS sources
    FROM unnest(res.ids) AS i(id)
    JOIN observations o ON o.id = i.id
    JOIN admin_areas x ON x.pcode = o.pcode
) stored
"""


def refresh(session: Session, round_ids: Iterable[int] | None = None) -> None:
    """Rebuild the stored roll-up and map of these rounds (of every round when None)."""
    rounds = None if round_ids is None else sorted(set(round_ids))
    if rounds == []:
        return
    shared = refresh_figures(session, rounds)
    _delete(session, "mapped_areas", rounds)
    chosen = _chosen(rounds)
    _map(session, {**chosen, "selections": [",".join(c) for c in set(shared.values())]})
    _copy(session, "mapped_areas", _MAP_COPIED, shared, chosen)


def refresh_figures(session: Session, rounds: list[int] | None) -> dict[tuple, tuple]:
    """Rebuild the stored roll-up (not the map) of these rounds (every round when None);
    returns each stored selection's computed one (see `shared_selections`)."""
    _delete(session, "rolled_up_figures", rounds)
    insert = text(_REFRESH)
    chosen = _chosen(rounds)
    shared = shared_selections(session, chosen)
    for qualities in sorted(set(shared.values()), key=SELECTIONS.index):
        for collapse in (False, True):
            session.execute(insert, {"qualities": list(qualities), "collapse": collapse, **chosen})
    _encode(session, chosen)
    _copy(session, "rolled_up_figures", _FIGURES_COPIED, shared, chosen)
    return shared


def shared_selections(session: Session, chosen: dict) -> dict[tuple, tuple]:
    """{selection: the selection whose roll-up is the same}: a selection's figures are those
    of its qualities that the rounds hold, so with published figures alone, published and
    modelled is published's roll-up again, copied rather than computed. Selections of
    qualities the rounds do not hold have no figures and are left out."""
    held = set(
        session.execute(
            text(
                "SELECT DISTINCT quality FROM observations "
                "WHERE :all_rounds OR round_id = ANY(:round_ids)"
            ),
            chosen,
        ).scalars()
    )
    found = {}
    for qualities in SELECTIONS:
        present = tuple(q for q in qualities if q in held)
        if present:
            found[qualities] = present
    return found


def _copy(session: Session, table: str, columns: str, shared: dict, chosen: dict) -> None:
    """The rows of each computed selection again under the selections that share it."""
    for qualities, computed in shared.items():
        if qualities == computed:
            continue
        session.execute(
            text(f"""
            INSERT INTO {table} (qualities, {columns})
            SELECT CAST(:qualities AS varchar(10)[]), {columns} FROM {table}
            WHERE qualities = CAST(:computed AS varchar(10)[])
              AND (:all_rounds OR round_id = ANY(:round_ids))"""),
            {"qualities": list(qualities), "computed": list(computed), **chosen},
        )


_FIGURES_COPIED = ", ".join(
    ["reasons_collapsed", "level", "round_id", "pcode", "ancestry", "encoded"]
    + [c for c in ROW_COLUMNS if c not in ("level", "pcode")]
)
_MAP_COPIED = "level, round_id, pcode, properties, properties_approximate"


def _chosen(rounds: list[int] | None) -> dict:
    """The statements' parameters for these rounds (every round when None)."""
    return {"all_rounds": rounds is None, "round_ids": rounds or []}


def _delete(session: Session, table: str, rounds: list[int] | None) -> None:
    if rounds is None:
        session.execute(text(f"DELETE FROM {table}"))
    else:
        session.execute(text(f"DELETE FROM {table} WHERE round_id = ANY(:r)"), {"r": rounds})


def _encode(session: Session, chosen: dict) -> None:
    """Each new row as the API's JSON object, by the API's encoder: a page of statistics
    is then put together from stored bytes instead of being converted and encoded."""
    rows = session.execute(
        text(
            f"SELECT id, {', '.join(ROW_COLUMNS)} FROM rolled_up_figures "
            "WHERE :all_rounds OR round_id = ANY(:round_ids)"
        ),
        chosen,
    )
    ids, encoded = [], []
    for row in rows:
        ids.append(row[0])
        encoded.append(dumps(dict(zip(ROW_COLUMNS, row[1:], strict=True))))
    session.execute(
        text("""
        UPDATE rolled_up_figures f SET encoded = e.encoded
        FROM unnest(CAST(:ids AS bigint[]), CAST(:encoded AS bytea[])) AS e(id, encoded)
        WHERE f.id = e.id"""),
        {"ids": ids, "encoded": encoded},
    )


# --- the statistics map ------------------------------------------------------------------

# an area's figures on the map of a round, from its rolled-up rows `s`: a column per
# population type, as in a wide table (app.services.formats); one row per type once
# reasons are collapsed or one is chosen, so max() is that row's value
MAP_FIGURES = ", ".join(
    ["max(s.round_code) AS round_code", "max(s.reporting_date) AS reporting_date"]
    + [
        f"max(s.individuals) FILTER (WHERE s.population_type = '{t}') AS {PLURAL[t]}, "
        f"max(s.households) FILTER (WHERE s.population_type = '{t}') AS {t}_households"
        for t in POPULATION_TYPES
    ]
    + [
        f"max(s.per_1000) FILTER (WHERE s.population_type = '{t}') AS {PLURAL[t]}_per_1000"
        for t in POPULATION_TYPES
    ]
    + [
        "max(s.population) AS population, max(s.population_year) AS population_year",
        "CASE WHEN bool_or(s.quality = 'synthetic') THEN 'synthetic' "
        "WHEN bool_or(s.quality = 'modelled') THEN 'modelled' "
        "WHEN count(*) > 0 THEN 'published' END AS quality",
        "bool_and(s.complete) AS complete",
    ]
)
_FIGURE_KEYS = (
    "round_code",
    "reporting_date",
    *(k for t in POPULATION_TYPES for k in (PLURAL[t], f"{t}_households")),
    *(f"{PLURAL[t]}_per_1000" for t in POPULATION_TYPES),
    "population",
    "population_year",
    "quality",
    "complete",
)
# what the map needs of an area `a` (parent `p`, approximate boundary `ab`)
MAP_AREA = """a.pcode, a.level, a.name_en, a.name_ar, a.parent_pcode,
       p.name_en AS parent_name_en, p.name_ar AS parent_name_ar,
       a.geom IS NULL AS no_geometry, ST_Dimension(a.geom) = 2 AS is_polygon,
       ab.pcode IS NOT NULL AS has_approximate"""
_AREA_KEYS = (
    "pcode",
    "level",
    "name_en",
    "name_ar",
    "parent_pcode",
    "parent_name_en",
    "parent_name_ar",
)


def map_properties(area: dict, approximate: bool) -> dict:
    """A map feature's properties: the area (MAP_AREA), the geometry it is drawn with,
    and its figures (MAP_FIGURES; none when the round has none for it)."""
    if area["no_geometry"]:
        kind, quality = "none", None
    elif area["is_polygon"]:
        kind, quality = "official_polygon", "official"
    elif approximate and area["has_approximate"]:
        kind, quality = "approximate_polygon", "approximate"
    else:
        kind, quality = "official_point", "official"
    return {
        **{k: area[k] for k in _AREA_KEYS},
        "geometry_kind": kind,
        "geometry_quality": quality,
        **{k: area.get(k) for k in _FIGURE_KEYS},
    }


# every area of each map that has figures at its level, with its figures (none where the
# round has none for it)
_MAPPED = f"""
WITH figures AS (
    SELECT s.qualities, s.level, s.round_id, s.pcode, {MAP_FIGURES}
    FROM rolled_up_figures s
    WHERE s.reasons_collapsed AND (:all_rounds OR s.round_id = ANY(:round_ids))
      AND array_to_string(s.qualities, ',') = ANY(:selections)
    GROUP BY s.qualities, s.level, s.round_id, s.pcode
),
maps AS (SELECT DISTINCT qualities, level, round_id FROM figures)
SELECT maps.qualities, maps.round_id, {MAP_AREA}, {", ".join(f"f.{k}" for k in _FIGURE_KEYS)}
FROM maps
JOIN rounds r ON r.id = maps.round_id
-- the areas of the level in the round's operation (the first in their ancestry)
JOIN admin_areas a ON a.level = maps.level AND a.ancestry[1] = r.operation
LEFT JOIN admin_areas p ON p.pcode = a.parent_pcode
LEFT JOIN approximate_boundaries ab ON ab.pcode = a.pcode
LEFT JOIN figures f
       ON f.qualities = maps.qualities AND f.round_id = maps.round_id AND f.pcode = a.pcode
"""


def _map(session: Session, chosen: dict) -> None:
    """Every area's map properties in each round, level and selection with figures,
    encoded by the API's encoder, with the approximate polygon as well where that changes
    them."""
    result = session.execute(text(_MAPPED), chosen)
    keys = list(result.keys())
    rows: dict[str, list] = {k: [] for k in ("qualities", "level", "round", "pcode", "p", "pa")}
    for values in result:
        area = dict(zip(keys, values, strict=True))
        # each selection as an array literal: unnest() would flatten an array of arrays
        rows["qualities"].append("{" + ",".join(area["qualities"]) + "}")
        rows["level"].append(area["level"])
        rows["round"].append(area["round_id"])
        rows["pcode"].append(area["pcode"])
        rows["p"].append(dumps(map_properties(area, approximate=False)))
        approximate = map_properties(area, approximate=True)
        differs = approximate["geometry_kind"] == "approximate_polygon"
        rows["pa"].append(dumps(approximate) if differs else None)
    session.execute(
        text("""
        INSERT INTO mapped_areas (qualities, level, round_id, pcode, properties,
                                  properties_approximate)
        SELECT CAST(q AS varchar(10)[]), l, r, c, p, pa
        FROM unnest(CAST(:qualities AS text[]), CAST(:level AS smallint[]),
                    CAST(:round AS int[]), CAST(:pcode AS text[]), CAST(:p AS bytea[]),
                    CAST(:pa AS bytea[])) AS m(q, l, r, c, p, pa)"""),
        rows,
    )


def data_changed(session: Session, round_ids: Iterable[int] | None = None) -> None:
    """After a write, in its transaction: rebuild the roll-up of the rounds it touched
    (all when None) and raise the data version (which ETags and memos key on)."""
    refresh(session, round_ids)
    version_changed(session)


def version_changed(session: Session) -> None:
    """Raise the data version alone: for a write that changes no figure (a new round,
    which has none to roll up yet)."""
    session.execute(text("UPDATE data_version SET version = version + 1, changed_at = now()"))
