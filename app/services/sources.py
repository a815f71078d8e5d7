"""The live sources as readers see them: each with its last sync, and how fresh the data
of each operation is."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services import operations, rounds

_SOURCES_SQL = """
SELECT s.name, s.kind, s.operation, s.url, s.last_attempt_at, s.last_success_at,
       s.last_error, s.next_run_at,
       count(i.id) FILTER (WHERE i.status = 'written') AS rounds_written,
       count(i.id) FILTER (WHERE i.status = 'held') AS rounds_held,
       count(i.id) FILTER (WHERE i.status = 'refused') AS refused,
       count(i.id) FILTER (WHERE i.status = 'skipped') AS skipped,
       coalesce(sum(i.records) FILTER (WHERE i.status IN ('written', 'held')), 0)::bigint
           AS records,
       max(i.retrieved_at) AS last_retrieved_at
FROM sync_sources s LEFT JOIN sync_items i ON i.source_name = s.name
WHERE CAST(:op AS text) IS NULL OR s.operation = :op
GROUP BY s.name ORDER BY s.operation, s.kind, s.name
"""


def listing(session: Session, operation: str | None) -> list[dict]:
    return [dict(r) for r in session.execute(text(_SOURCES_SQL), {"op": operation}).mappings()]


def data_as_of(session: Session, operation: str | None) -> dict[str, dict | None]:
    """{operation: the date, code and source of its latest round} ("the latest round" as
    every reader means it: app.services.rounds)."""
    known = operations.all_operations(session)
    wanted = [operation] if operation else list(known)
    found = {}
    for iso3 in wanted:
        latest = rounds.catalogue(session, iso3).latest()
        if latest is None:
            found[iso3] = None
            continue
        source = session.execute(
            text("SELECT source FROM rounds WHERE id = :i"), {"i": latest.id}
        ).scalar()
        found[iso3] = {"date": latest.when, "round": latest.code, "source": source}
    return found
