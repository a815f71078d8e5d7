"""The admin hierarchy's rules, each defined once: what lies within an area, the area at a
level that holds another, and how figures roll up without double counting.

An area's `ancestry` (admin_areas, kept by a trigger; copied into the stored roll-up) is
the list of pcodes from its country down to itself. So an area lies within another, at any
depth, when the other's pcode is in its ancestry (`within`), and its ancestor at level n
is `ancestry[n + 1]` (`ancestor_at`).

Figures may be stored at any level (a national total, mantika, baladiya or muhalla
figures). The value of an area is its own stored figure when there is one, otherwise
the sum of its children's values, recursively. So a published national total is never
added to the baladiya figures it already includes, and an area with no stored figure of
its own gets the sum of what is known below it (`units` says how many stored figures).

The roll-up SQL is built once per shape: `dims` are the grouping columns (round,
population type, reason...) and `measures` the summed ones. Sums of optional measures
(households, males, females) are only given when every summed figure has them.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.vocabulary import ADMIN_LEVELS, PCODE_LENGTH

DEEPEST = max(ADMIN_LEVELS)


def within(alias: str, param: str = "areas", column: str = "ancestry") -> str:
    """SQL: the area of row `alias` (its ancestry in `column`) is one of the areas in the
    array parameter `param`, or lies within one of them, at any depth."""
    return f"{alias}.{column} && CAST(:{param} AS varchar({PCODE_LENGTH})[])"


def ancestor_at(alias: str, level: str) -> str:
    """SQL: the pcode of the area at `level` (an SQL integer expression) that holds the
    area of row `alias`; NULL when that area lies above `level`."""
    return f"{alias}.ancestry[({level}) + 1]"


def within_any(ancestry: Sequence[str], areas: set[str] | frozenset[str]) -> bool:
    """`within`, for a row already read: its ancestry meets `areas`."""
    return not areas.isdisjoint(ancestry)


def rollup_sql(
    leaf_sql: str, dims: Sequence[str], measures: Sequence[str], optional: Sequence[str]
) -> str:
    """CTEs `leaf` and `l<n>` for every level n over `leaf_sql`; each `l<n>` holds the
    level-n values.

    `leaf_sql` must select: id, level, pcode, parent_pcode, quality, the dims and measures.
    Stored rows sharing an area and dims (figures by reason with the reason collapsed)
    add up into one value of that area.
    Each `l<n>` row has: pcode, parent_pcode, dims, measures, quality (worst of its
    parts), ids (the stored rows it sums) and `complete`: stored at this level, or summed
    from every one of its children, each complete itself (a sum of some children is a
    partial total).
    """
    summed = ", ".join(
        [f"sum(s.{m})::bigint AS {m}" for m in measures]
        + [
            f"CASE WHEN count(s.{m}) = count(*) THEN sum(s.{m})::bigint END AS {m}"
            for m in optional
        ]
    )
    stored_dims = ", ".join(f"s.{c}" for c in dims)
    same_dims = " AND ".join(f"d.{c} IS NOT DISTINCT FROM s.{c}" for c in dims)
    worst_quality = (
        "CASE WHEN bool_or(s.quality = 'synthetic') THEN 'synthetic' "
        "WHEN bool_or(s.quality = 'modelled') THEN 'modelled' ELSE 'published' END"
    )

    def stored(n: int) -> str:
        """Level-n values stored as such, one per area and dims."""
        return f"""
    SELECT s.pcode, s.parent_pcode, {stored_dims}, {summed}, {worst_quality} AS quality,
           array_agg(s.id ORDER BY s.id) AS ids, true AS complete
    FROM leaf s WHERE s.level = {n}
    GROUP BY s.pcode, s.parent_pcode, {stored_dims}"""

    def summed_up(n: int) -> str:
        """Level-n values summed from level n + 1, where no level-n value is stored."""
        return f"""
l{n} AS ({stored(n)}
    UNION ALL
    SELECT s.parent_pcode AS pcode, g.parent_pcode, {stored_dims}, {summed},
           {worst_quality} AS quality, array_cat_agg(s.ids) AS ids,
           bool_and(s.complete) AND count(*) = (
               SELECT count(*) FROM admin_areas c WHERE c.parent_pcode = s.parent_pcode
           ) AS complete
    FROM l{n + 1} s JOIN admin_areas g ON g.pcode = s.parent_pcode
    WHERE NOT EXISTS (
        SELECT 1 FROM leaf d WHERE d.level = {n} AND d.pcode = s.parent_pcode AND {same_dims})
    GROUP BY s.parent_pcode, g.parent_pcode, {stored_dims}
)"""

    levels = ",".join(summed_up(n) for n in reversed(ADMIN_LEVELS) if n < DEEPEST)
    return f"""
leaf AS ({leaf_sql}),
l{DEEPEST} AS ({stored(DEEPEST)}
),{levels}"""
