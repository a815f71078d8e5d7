"""Data access of the sync's own tables (app.models.sync): sources and what they held."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.serialize import dumps


@dataclass(frozen=True)
class Held:
    sha256: str
    status: str
    size: int | None = None
    last_modified: str | None = None


def ensure_source(session: Session, name: str, kind: str, operation: str, url: str) -> None:
    session.execute(
        text("""
        INSERT INTO sync_sources (name, kind, operation, url) VALUES (:n, :k, :o, :u)
        ON CONFLICT (name) DO UPDATE SET url = EXCLUDED.url
        WHERE sync_sources.url IS DISTINCT FROM EXCLUDED.url"""),
        {"n": name, "k": kind, "o": operation, "u": url},
    )


def attempted(session: Session, name: str) -> None:
    session.execute(
        text("UPDATE sync_sources SET last_attempt_at = now() WHERE name = :n"), {"n": name}
    )


def finished(session: Session, name: str, error: str | None, success: bool) -> None:
    """The end of a source's sync: `success` when it was read (some of its rounds may
    still have been refused: `error` says so); a failure keeps the last success's time."""
    session.execute(
        text("""
        UPDATE sync_sources SET last_error = :e,
               last_success_at = CASE WHEN :ok THEN now() ELSE last_success_at END
        WHERE name = :n"""),
        {"n": name, "e": error, "ok": success},
    )


def next_run(session: Session, when: datetime | None) -> None:
    session.execute(text("UPDATE sync_sources SET next_run_at = :w"), {"w": when})


def held(session: Session, name: str) -> dict[str, Held]:
    rows = session.execute(
        text(
            "SELECT item, sha256, status, size, last_modified FROM sync_items "
            "WHERE source_name = :n"
        ),
        {"n": name},
    )
    return {r.item: Held(r.sha256, r.status, r.size, r.last_modified) for r in rows}


def save_item(
    session: Session,
    name: str,
    item: str,
    *,
    round_code: str | None,
    sha256: str,
    records: int,
    status: str,
    message: str | None = None,
    record_ids: dict | None = None,
    url: str | None = None,
    size: int | None = None,
    last_modified: str | None = None,
) -> None:
    session.execute(
        text("""
        INSERT INTO sync_items (source_name, item, round_code, sha256, records, record_ids, url,
                                size, last_modified, retrieved_at, status, message)
        VALUES (:n, :i, :r, :sha, :records, CAST(:ids AS jsonb), :url, :size, :lm, now(), :st,
                :msg)
        ON CONFLICT (source_name, item) DO UPDATE SET
            round_code = EXCLUDED.round_code, sha256 = EXCLUDED.sha256,
            records = EXCLUDED.records, record_ids = EXCLUDED.record_ids, url = EXCLUDED.url,
            size = EXCLUDED.size, last_modified = EXCLUDED.last_modified,
            retrieved_at = EXCLUDED.retrieved_at, status = EXCLUDED.status,
            message = EXCLUDED.message"""),
        {
            "n": name,
            "i": item,
            "r": round_code,
            "sha": sha256,
            "records": records,
            "ids": None if record_ids is None else dumps(record_ids).decode(),
            "url": url,
            "size": size,
            "lm": last_modified,
            "st": status,
            "msg": message,
        },
    )
