"""Roll figures up the admin hierarchy without double counting.

Figures may be stored at any level (a national total, mantika, baladiya or muhalla
figures). The value of an area is its own stored figure when there is one, otherwise
the sum of its children's values, recursively. So a published national total is never
added to the baladiya figures it already includes, and an area with no stored figure of
its own gets the sum of what is known below it (`units` says how many stored figures).

The SQL is built once per shape: `dims` are the grouping columns (round, population type,
reason...) and `measures` the summed ones. Sums of optional measures (households, males,
females) are only given when every summed figure has them.
"""

from __future__ import annotations

from collections.abc import Sequence


def rollup_sql(
    leaf_sql: str, dims: Sequence[str], measures: Sequence[str], optional: Sequence[str]
) -> str:
    """CTEs `leaf`, `l3`, `l2`, `l1`, `l0` over `leaf_sql`; each `lN` holds level-N values.

    `leaf_sql` must select: id, level, pcode, parent_pcode, quality, the dims and measures.
    Stored rows sharing an area and dims (figures by reason with the reason collapsed)
    add up into one value of that area.
    Each `lN` row has: pcode, dims, measures, quality (worst of its parts), ids (the
    stored rows it sums) and `complete`: stored at this level, or summed from every one
    of its children, each complete itself (a sum of some children is a partial total).
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

    def stored(n: int, keys: str = "s.pcode") -> str:
        """Level-n values stored as such, one per area and dims."""
        return f"""
    SELECT {keys}, {stored_dims}, {summed}, {worst_quality} AS quality,
           array_agg(s.id ORDER BY s.id) AS ids, true AS complete
    FROM leaf s WHERE s.level = {n}
    GROUP BY {keys}, {stored_dims}"""

    def level(n: int, child: str, parent_expr: str, keep_parent: bool = False) -> str:
        # a baladiya summed from its muhallas keeps its own parent (for the mantika step)
        grand = ", g.parent_pcode" if keep_parent else ""
        join = f" JOIN admin_areas g ON g.pcode = {parent_expr}" if keep_parent else ""
        group = "1, 2" if keep_parent else "1"
        keys = "s.pcode, s.parent_pcode" if keep_parent else "s.pcode"
        return f"""
l{n} AS ({stored(n, keys)}
    UNION ALL
    SELECT {parent_expr} AS pcode{grand}, {stored_dims}, {summed},
           {worst_quality} AS quality, array_cat_agg(s.ids) AS ids,
           bool_and(s.complete) AND count(*) = (
               SELECT count(*) FROM admin_areas c WHERE c.parent_pcode = {parent_expr}
           ) AS complete
    FROM {child} s{join}
    WHERE NOT EXISTS (
        SELECT 1 FROM leaf d WHERE d.level = {n} AND d.pcode = {parent_expr} AND {same_dims})
    GROUP BY {group}, {stored_dims}
)"""

    return f"""
leaf AS ({leaf_sql}),
l3 AS ({stored(3, "s.pcode, s.parent_pcode")}
),{level(2, "l3", "s.parent_pcode", keep_parent=True)},{level(1, "l2", "s.parent_pcode")},{
        level(0, "l1", "'LBY'")
    }"""
