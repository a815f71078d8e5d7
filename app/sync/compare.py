"""A held round's incoming figures beside what it holds: the totals per area of the roll-up
(app.services.stats), so that a disagreement between sources is reported, not hidden."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services import stats
from app.vocabulary import QUALITIES

SHOWN_DIFFERENCES = 5

# (population type, level, pcode) -> individuals
Totals = dict[tuple[str, int, str], int]


def totals_of(rows: Iterable[dict]) -> Totals:
    """Staged observation rows (text values, as the pipeline takes them) summed per area."""
    found: Totals = defaultdict(int)
    for row in rows:
        found[(row["population_type"], int(row["level"]), row["pcode"])] += int(row["individuals"])
    return dict(found)


def held_totals(session: Session, operation: str, round_code: str, keys: Iterable) -> Totals:
    round_id = session.execute(
        text("SELECT id FROM rounds WHERE code = :c"), {"c": round_code}
    ).scalar_one()
    held: Totals = {}
    for population_type, level in sorted({(t, lv) for t, lv, _ in keys}):
        found = stats.statistics(
            session,
            stats.StatsFilter(
                level=level,
                operation=operation,
                round_ids=(round_id,),
                population_types=(population_type,),
                qualities=QUALITIES,
                collapse_reasons=True,
            ),
        )
        held.update({(population_type, level, r["pcode"]): r["individuals"] for r in found.rows})
    return held


def report(
    session: Session,
    operation: str,
    round_code: str,
    incoming: Totals,
    stronger: list[str],
    what: str,
) -> str:
    """One line: which sources hold the round, and where `what`'s figures differ."""
    stored = held_totals(session, operation, round_code, incoming)
    differ = [
        f"{pcode} (incoming {n:,}, held {stored[key]:,})"
        if key in stored
        else f"{pcode} (incoming {n:,}, held none)"
        for key, n in sorted(incoming.items())
        if stored.get(key) != n
        for pcode in (key[2],)
    ]
    head = (
        f"round {round_code} holds figures of {'; '.join(stronger)}, which take precedence "
        f"over {what} (SYNC_PRECEDENCE); not overwritten. {what}'s {len(incoming)} figures "
        f"agree with the held totals in {len(incoming) - len(differ)}"
    )
    if not differ:
        return head
    shown = ", ".join(differ[:SHOWN_DIFFERENCES])
    more = len(differ) - SHOWN_DIFFERENCES
    return f"{head}; they differ in {shown}" + (f" and {more} more" if more > 0 else "")
