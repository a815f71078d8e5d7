"""Transactions around the pipeline: idempotency keys, dry runs, round metadata, history."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.auth import KeyInfo
from app.errors import Forbidden, InvalidParameter, NotFound
from app.ingest.cancel import CancelToken, cancellable
from app.ingest.pipeline import (
    PreconditionFailed,
    Submission,
    ValidationFailed,
    advisory_lock,
    bump_revision,
    finish_submission,
    lock_round,
    record_submission,
    request_checksum,
    round_etag,
    run,
)
from app.ingest.specs import SPECS
from app.serialize import dumps
from app.services import operations, rollup


def replay(session: Session, sub: Submission):
    """The stored (status, body) of an earlier submission with this Idempotency-Key.

    A key names one request: reused for a different one (another round, dataset, mode or
    payload), it is refused rather than answered with the other request's result.
    """
    if not (sub.key and sub.idempotency_key):
        return None
    row = session.execute(
        text(
            "SELECT response_status, response_body, round_code, dataset, mode, payload_sha256, "
            "request_sha256 FROM submissions WHERE api_key_id = :k AND idempotency_key = :i"
        ),
        {"k": sub.key.id, "i": sub.idempotency_key},
    ).first()
    if row is None:
        return None
    dataset = sub.dataset_label or sub.spec.name
    checksum = request_checksum(sub)
    # submissions recorded before migration 0004 have no request checksum to compare
    if (
        row.round_code,
        row.dataset,
        row.mode,
        row.payload_sha256,
        row.request_sha256 or checksum,
    ) != (
        sub.round_code,
        dataset,
        sub.mode,
        sub.payload_sha256,
        checksum,
    ):
        raise InvalidParameter(
            "Idempotency-Key",
            f"'{sub.idempotency_key}' was used for another request (round {row.round_code}, "
            f"{row.dataset}, {row.mode}, with its own payload and parameters); use a new key "
            "for a new request",
            sub.idempotency_key,
            where="header",
        )
    return (row.response_status, row.response_body)


def submit(
    sessions: sessionmaker,
    parts: list[Submission],
    progress=lambda _: None,
    cancel: CancelToken | None = None,
) -> tuple[int, dict]:
    """Run one or more datasets of one submission in a single transaction.

    Returns (status, body): 200 with the report (a combined one for several datasets), or
    422 with every problem found. A dry run and a failure both roll back everything, and so
    does `cancel` (the client went away) at any point before the commit.
    """
    first = parts[0]
    cancel = cancel or CancelToken()
    with sessions() as session, cancellable(session, cancel):
        return _submit(session, parts, first, progress, cancel)


def _submit(session, parts, first, progress, cancel) -> tuple[int, dict]:
    earlier = replay(session, first)
    if earlier:
        return earlier

    def step(message: str) -> None:
        cancel.check()
        progress(message)

    try:
        reports = []
        for i, part in enumerate(parts):
            if i > 0:
                # recorded once, on the first part; If-Match checked once, before it
                part.idempotency_key = part.if_match = None
            reports.append(run(session, part, step))
        body = reports[0] if len(reports) == 1 else _combine(reports)
        if first.dry_run:
            session.rollback()
        else:
            if len(reports) > 1:
                finish_submission(session, reports[0]["submission_id"], 200, body)
            cancel.check()
            session.commit()
        return 200, body
    except ValidationFailed as failed:
        session.rollback()
        return 422, {
            "status": 422,
            "detail": str(failed),
            "total_errors": failed.total,
            "listed_errors": len(failed.errors),
            "error_counts": failed.groups,
            "errors": failed.errors,
        }
    except IntegrityError:
        # The same Idempotency-Key raced in from another request: answer as it did.
        session.rollback()
        earlier = replay(session, first)
        if earlier:
            return earlier
        raise
    except BaseException:
        session.rollback()
        raise


def _combine(reports: list[dict]) -> dict:
    totals = {
        k: sum(r[k] for r in reports)
        for k in ("rows", "inserted", "updated", "unchanged", "removed")
    }
    last = reports[-1]
    return {
        "round": last["round"],
        "dataset": "file",
        "mode": last["mode"],
        "dry_run": last["dry_run"],
        **totals,
        "parts": reports,
        "round_revision": last.get("round_revision"),
        "submission_id": reports[0].get("submission_id"),
        "payload_sha256": last["payload_sha256"],
    }


ROUND_FIELDS = (
    "number",
    "kind",
    "event_slug",
    "title",
    "collection_start",
    "collection_end",
    "reporting_date",
    "published_on",
    "source",
    "source_url",
)


def round_view(session: Session, code: str) -> dict | None:
    row = (
        session.execute(
            text(
                f"SELECT code, operation, revision, updated_at, {', '.join(ROUND_FIELDS)} "
                "FROM rounds WHERE code = :c"
            ),
            {"c": code},
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def put_round(
    session: Session,
    code: str,
    fields: dict,
    key: KeyInfo | None,
    if_match: str | None,
    payload_sha256: str,
    repeated_number: bool = False,
) -> tuple[dict, bool]:
    """Create or update a round's metadata; returns (round, created). `repeated_number`:
    the publisher itself gives this number to two rounds (the DTM API, Iraq's round 48)."""
    start = fields.get("collection_start")
    for name in ("collection_end", "reporting_date", "published_on"):
        later = fields.get(name)
        if isinstance(start, date) and isinstance(later, date) and later < start:
            raise InvalidParameter(
                name, f"{later} is before collection_start {start}", str(later), where="body"
            )
    op = operations.resolve(session, fields.pop("operation", None))
    if key is not None and not key.may_write(op.iso3):
        raise Forbidden(
            f"this key writes the rounds of {key.operation} only, not of {op.name_en} ({op.iso3})"
        )
    advisory_lock(session, f"dtm-geo-round:{code}")
    if fields.get("number") is not None:
        # Two new rounds may claim one number under different codes: serialise them too.
        advisory_lock(session, f"dtm-geo-round-number:{fields['number']}")
    current = round_view(session, code)
    held = session.execute(text("SELECT operation FROM rounds WHERE code = :c"), {"c": code})
    held = held.scalar()
    if held is not None and held != op.iso3:
        raise InvalidParameter(
            "operation",
            f"round {code} belongs to the operation {held}, not {op.iso3}; a round's "
            "operation never changes",
            op.iso3,
            where="body",
        )
    if if_match:
        # If-Match: * asks for the round to exist (RFC 9110); an ETag, for it to be current.
        exists = current is not None
        wanted = if_match.strip()
        if not exists or (wanted != "*" and wanted != round_etag(code, current["revision"])):
            raise PreconditionFailed(
                f"round {code} has changed (or does not exist); fetch it again for its ETag"
            )
    if (
        fields.get("kind") == "mobility_tracking"
        and fields.get("number") is not None
        and not repeated_number
    ):
        clash = session.execute(
            text(
                "SELECT code FROM rounds WHERE number = :n AND kind = 'mobility_tracking' "
                "AND code <> :c AND operation = :op"
            ),
            {"n": fields["number"], "c": code, "op": op.iso3},
        ).scalar()
        if clash:
            raise InvalidParameter(
                "number",
                f"round number {fields['number']} is already round {clash}",
                fields["number"],
                where="body",
            )
    values = {f: fields.get(f) for f in ROUND_FIELDS}
    if current is None:
        session.execute(
            text(
                f"INSERT INTO rounds (operation, code, {', '.join(ROUND_FIELDS)}) "
                f"VALUES (:operation, :code, {', '.join(':' + f for f in ROUND_FIELDS)})"
            ),
            {"operation": op.iso3, "code": code, **values},
        )
        changed = True
    else:
        changed = any(current[f] != values[f] for f in ROUND_FIELDS)
        if changed:
            session.execute(
                text(
                    f"UPDATE rounds SET {', '.join(f'{f} = :{f}' for f in ROUND_FIELDS)} "
                    "WHERE code = :code"
                ),
                {"code": code, **values},
            )
    round_row = lock_round(session, code)
    if changed:
        if current is not None:
            bump_revision(session, round_row["id"])
        else:
            rollup.version_changed(session)  # a new round: no figures to roll up yet
    view = round_view(session, code)
    counts = {
        "rows": 1,
        "inserted": int(current is None),
        "updated": int(current is not None and changed),
        "unchanged": int(not changed),
        "removed": 0,
    }
    sid = record_submission(
        session,
        key=key,
        round_code=code,
        dataset="round",
        mode="metadata",
        payload_sha256=payload_sha256,
        counts=counts,
        revision=view["revision"],
    )
    if current is not None and changed:
        # the metadata it replaced, as every other write keeps the rows it changed
        old = {f: current[f] for f in ("revision", *ROUND_FIELDS)}
        session.execute(
            text("""
            INSERT INTO row_history (submission_id, table_name, change, row_key, old_values)
            VALUES (:sid, 'rounds', 'update', jsonb_build_object('code', CAST(:code AS text)),
                    CAST(:old AS jsonb))"""),
            {"sid": sid, "code": code, "old": dumps(old).decode()},
        )
    finish_submission(session, sid, 201 if current is None else 200, {"round": code, **counts})
    return view, current is None


def delete_round(
    session: Session, code: str, key: KeyInfo | None, if_match: str | None, payload_sha256: str
) -> dict:
    round_row = lock_round(session, code)
    if if_match and if_match.strip() not in ("*", round_etag(code, round_row["revision"])):
        raise PreconditionFailed(
            f"round {code} is at revision {round_row['revision']}; fetch "
            "it again for its current ETag"
        )
    removed = {}
    sid = record_submission(
        session,
        key=key,
        round_code=code,
        dataset="round",
        mode="delete",
        payload_sha256=payload_sha256,
        counts={},
        revision=round_row["revision"] + 1,
    )
    for table in ("observations", "flows", "migrant_nationalities"):
        removed[table] = session.execute(
            text(f"""
            WITH gone AS (DELETE FROM {table} x WHERE round_id = :r RETURNING x.*)
            INSERT INTO row_history (submission_id, table_name, change, row_key, old_values)
            SELECT :sid, '{table}', 'delete', jsonb_build_object('round', :code),
                   to_jsonb(gone) - 'id' - 'round_id' FROM gone"""),
            {"r": round_row["id"], "sid": sid, "code": code},
        ).rowcount
    session.execute(
        text("""
        INSERT INTO row_history (submission_id, table_name, change, row_key, old_values)
        SELECT :sid, 'rounds', 'delete', jsonb_build_object('code', code), to_jsonb(r) - 'id'
        FROM rounds r WHERE id = :r"""),
        {"sid": sid, "r": round_row["id"]},
    )
    session.execute(text("DELETE FROM rounds WHERE id = :r"), {"r": round_row["id"]})
    rollup.data_changed(session, [])  # its roll-up went with it (ON DELETE CASCADE)
    body = {"round": code, "deleted": True, "removed": removed, "submission_id": sid}
    finish_submission(session, sid, 200, body)
    return body


def history(session: Session, code: str) -> list[dict]:
    rows = session.execute(
        text("""
        SELECT id AS submission_id, created_at, key_name, dataset, mode, round_revision,
               payload_sha256, counts
        FROM submissions WHERE round_code = :c ORDER BY id"""),
        {"c": code},
    ).mappings()
    return [dict(r) for r in rows]


def submission_detail(session: Session, submission_id: int) -> dict:
    row = (
        session.execute(
            text("""
        SELECT id AS submission_id, created_at, key_name, round_code, dataset, mode,
               round_revision, payload_sha256, counts, response_status
        FROM submissions WHERE id = :i"""),
            {"i": submission_id},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(
            f"unknown submission {submission_id}; list a round's submissions with "
            "GET /api/v1/rounds/{code}/history"
        )
    previous = session.execute(
        text("""
        SELECT table_name, change, row_key, old_values FROM row_history
        WHERE submission_id = :i ORDER BY id"""),
        {"i": submission_id},
    ).mappings()
    return {**dict(row), "previous_values": [dict(p) for p in previous]}


def file_parts(datasets: dict[str, list[dict]], round_code: str, **fields) -> list[Submission]:
    """One Submission per dataset a file holds, sharing the submission's fields."""
    return [
        Submission(
            spec=SPECS[name], round_code=round_code, rows=rows, dataset_label="file", **fields
        )
        for name, rows in datasets.items()
    ]
