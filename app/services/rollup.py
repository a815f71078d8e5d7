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
from app.vocabulary import QUALITIES

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
    JOIN admin_areas b ON b.level = 2
         AND (b.pcode = a.pcode OR b.parent_pcode = a.pcode OR a.level = 0)
    LEFT JOIN latest_pop lp ON lp.pcode = b.pcode
    GROUP BY a.pcode
),
levels AS (
    SELECT 0 AS level, {_COLUMNS} FROM l0
    UNION ALL SELECT 1, {_COLUMNS} FROM l1
    UNION ALL SELECT 2, {_COLUMNS} FROM l2
    UNION ALL SELECT 3, {_COLUMNS} FROM l3
)
INSERT INTO rolled_up_figures (
    qualities, reasons_collapsed, level, round_id, pcode,
    round_code, round_number, round_kind, event_slug, reporting_date,
    name_en, name_ar, parent_pcode, parent_name_en, parent_name_ar,
    grandparent_pcode, grandparent_name_en, grandparent_name_ar, population_type,
    displacement_reason, individuals, households, males, females, quality, units, complete,
    record_id, stored_levels, sources, population, population_year, per_1000)
SELECT CAST(:qualities AS varchar(10)[]), :collapse, res.level, res.round_id, res.pcode,
       r.code, r.number, r.kind, r.event_slug, r.reporting_date,
       a.name_en, a.name_ar, a.parent_pcode, p.name_en, p.name_ar,
       p.parent_pcode, gp.name_en, gp.name_ar,
       res.population_type, res.reason, res.individuals, res.households, res.males,
       res.females, res.quality, cardinality(res.ids), res.complete,
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
    """Rebuild the stored roll-up of these rounds (of every round when None)."""
    rounds = None if round_ids is None else sorted(set(round_ids))
    if rounds == []:
        return
    if rounds is None:
        session.execute(text("DELETE FROM rolled_up_figures"))
    else:
        session.execute(
            text("DELETE FROM rolled_up_figures WHERE round_id = ANY(:r)"), {"r": rounds}
        )
    insert = text(_REFRESH)
    chosen = {"all_rounds": rounds is None, "round_ids": rounds or []}
    for qualities in SELECTIONS:
        for collapse in (False, True):
            session.execute(insert, {"qualities": list(qualities), "collapse": collapse, **chosen})
    _encode(session, chosen)


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


def data_changed(session: Session, round_ids: Iterable[int] | None = None) -> None:
    """After a write, in its transaction: rebuild the roll-up of the rounds it touched
    (all when None) and raise the data version (which ETags and memos key on)."""
    refresh(session, round_ids)
    session.execute(text("UPDATE data_version SET version = version + 1, changed_at = now()"))
