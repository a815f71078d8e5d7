"""One submission, start to finish, inside the caller's transaction.

Rows are streamed with COPY into a temporary staging table of text columns, validated
there in one set-based pass (every error at once, with its row and column), compared
with what is stored (inserted, updated, unchanged, removed), and applied with set-based
statements. Previous values go to `row_history` and the write to `submissions`. A
transaction-scoped advisory lock serialises submissions to the same round.

The caller owns the transaction: commit on success, roll back on any exception or on a
dry run. Nothing is ever half-written.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.auth import KeyInfo
from app.errors import DtmGeoError, Forbidden, NotFound
from app.ingest import problems as bounded
from app.ingest.parse import CELLS
from app.ingest.problems import MAX_LISTED, Problems
from app.ingest.specs import DISPLACEMENT_REASONS, POPULATION_TYPES, Spec
from app.serialize import dumps
from app.services import names, rollup

MAX_ERRORS = MAX_LISTED  # problems listed in a refusal (all are counted)
# Staged instead of the pcode of a row whose area name did not resolve: that row's
# problem was reported when it was read, so the checks of its pcode pass over it.
UNRESOLVED = "\x01unresolved"
WORK_MEM = "128MB"
STAGE_BATCH = 50_000  # rows per COPY into staging
EXAMPLES = 5
Progress = Callable[[str], None]

# "Iraq (IRQ)" for an operation's ISO3 code in SQL
_OPERATION_NAME = "(SELECT o.name_en || ' (' || o.iso3 || ')' FROM operations o WHERE o.iso3 = {})"


class ValidationFailed(DtmGeoError):
    """The submission has bad rows; `errors` lists them (row, column, value, message)."""

    status = 422

    def __init__(self, errors: list[dict], total: int, groups: list[dict] | None = None):
        super().__init__(f"{total} problem(s) in the submission; nothing was written")
        self.errors, self.total, self.groups = errors, total, groups or []


class PreconditionFailed(DtmGeoError):
    """If-Match named a revision of the round that is no longer current."""

    status = 412


class RoundBusy(DtmGeoError):
    """Another write held the round's lock for longer than this one may wait."""

    status = 409

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def round_etag(code: str, revision: int) -> str:
    return f'"round-{code}-r{revision}"'


@dataclass
class Submission:
    spec: Spec
    round_code: str
    rows: Iterable[dict]
    source: str
    payload_sha256: str
    mode: str = "upsert"
    dry_run: bool = False
    quality: str = "published"
    source_url: str | None = None
    key: KeyInfo | None = None
    idempotency_key: str | None = None
    if_match: str | None = None
    dataset_label: str | None = None  # 'file' for uploads; defaults to the spec's name
    # the scope a replace covers, when not the staged rows' (spec.scope's values): a replace
    # with no rows then removes the round's rows of that scope (a sync whose source no
    # longer gives a round any flows); without it, no rows is a mistake
    scope_values: tuple[str, ...] | None = None
    problems: Problems = field(default_factory=Problems)  # found while parsing
    operation: str | None = None  # the round's, once it is locked
    cells: dict[tuple, str] = field(default_factory=dict)  # (type, column) -> sheet column


def request_checksum(sub: Submission) -> str:
    """What identifies a submission besides its payload: a file's query parameters, or a
    JSON body's source and quality (already in its payload, harmless to repeat)."""
    fields = {k: getattr(sub, k) for k in ("source", "source_url", "quality", "dry_run")}
    return hashlib.sha256(dumps(fields)).hexdigest()


def advisory_lock(session: Session, name: str) -> None:
    """Take a transaction-scoped advisory lock, waiting at most the session's
    `round_lock_wait` seconds (else its lock_timeout); RoundBusy when that runs out."""
    wait = session.info.get("round_lock_wait")
    if wait:
        session.execute(text(f"SET LOCAL lock_timeout = {int(wait * 1000)}"))
    try:
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:n))"), {"n": name})
    except OperationalError as exc:
        if getattr(exc.orig, "pgcode", None) != "55P03":  # lock_not_available
            raise
        code = name.rpartition(":")[2]
        raise RoundBusy(
            f"round {code} is being written by another request; try again shortly",
            retry_after=max(1, round(wait or 1)),
        ) from None
    if wait:
        session.execute(text("SET LOCAL lock_timeout TO DEFAULT"))


def lock_round(session: Session, code: str) -> dict:
    """Take the round's advisory lock (until commit) and return its row."""
    advisory_lock(session, f"dtm-geo-round:{code}")
    row = (
        session.execute(
            text("SELECT id, code, number, revision, operation FROM rounds WHERE code = :c"),
            {"c": code},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"unknown round '{code}': create it first with PUT /api/v1/rounds/{code}")
    return dict(row)


def run(session: Session, sub: Submission, progress: Progress = lambda _: None) -> dict:
    spec = sub.spec
    round_row = lock_round(session, sub.round_code)
    if sub.key is not None and not sub.key.may_write(round_row["operation"]):
        raise Forbidden(
            f"this key writes the rounds of {sub.key.operation} only; round {sub.round_code} "
            f"belongs to {round_row['operation']}"
        )
    sub.operation = round_row["operation"]
    if sub.if_match and sub.if_match.strip() not in (
        "*",
        round_etag(sub.round_code, round_row["revision"]),
    ):
        raise PreconditionFailed(
            f"round {sub.round_code} is at revision {round_row['revision']} "
            f"(ETag {round_etag(sub.round_code, round_row['revision'])}); fetch it again"
        )
    # Hash joins and sorts over the whole submission: in memory rather than in batches.
    session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    progress("staging rows")
    count = _stage(session, spec, sub)
    progress(f"validating {count} rows")
    errors, total, groups = _validate(session, spec, round_row, sub.cells)
    errors = sorted([*sub.problems, *errors], key=lambda e: (e["row"], e["column"]))
    total += sub.problems.total
    groups.update(sub.problems.groups)
    if count == 0 and not errors and not (sub.scope_values and sub.mode == "replace"):
        empty = {"row": 0, "column": "", "value": "", "message": "the submission holds no rows"}
        errors, total = [empty], 1
        groups[("", empty["message"])] = 1
    if errors:
        raise ValidationFailed(errors[:MAX_ERRORS], total, bounded.summary(groups))
    progress("comparing with stored data")
    report = _diff(session, spec, sub, round_row, count)
    if sub.dry_run:
        return report
    progress("writing history")
    return _apply(session, spec, sub, round_row, report, progress)


# --- staging ---------------------------------------------------------------------------


def _stage(session: Session, spec: Spec, sub: Submission) -> int:
    columns = ("line", "round", *spec.columns)
    # A file may carry several datasets, staged one after the other in one transaction.
    session.execute(text("DROP TABLE IF EXISTS ingest_stage, ingest_diff"))
    session.execute(
        text(
            f"CREATE TEMP TABLE ingest_stage ({', '.join(f'{c} text' for c in columns)}) "
            "ON COMMIT DROP"
        )
    )
    buffer, count = io.StringIO(), 0
    writer = csv.writer(buffer)
    names_memo: dict[tuple, list[str]] = {}
    copy = (
        f"COPY ingest_stage ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, "
        f"FORCE_NOT_NULL ({', '.join(columns)}))"  # empty fields are '' rather than NULL
    )
    for row in sub.rows:
        if CELLS in row:
            # one sheet per dataset: a (population type, column) has one workbook column
            kind = row.get("population_type", "")
            for column, where in row[CELLS].items():
                sub.cells[(kind, column)] = where
        if any(isinstance(v, str) and "\x00" in v for v in row.values()):
            row = _without_nul(row, sub.problems)
        if not row.get("pcode") and row.get("name") and "pcode" in spec.columns:
            pcode = _pcode_for(session, row, names_memo, sub.problems, sub.operation)
            row = {**row, "pcode": pcode}
        writer.writerow([row.get(c, "") if row.get(c) is not None else "" for c in columns])
        count += 1
        if count % STAGE_BATCH == 0:  # rows streamed from a file: memory stays flat
            _copy(session, copy, buffer)
    _copy(session, copy, buffer)
    session.execute(text("ANALYZE ingest_stage"))
    return count


def _copy(session: Session, sql: str, buffer: io.StringIO) -> None:
    """COPY what `buffer` holds, then empty it."""
    buffer.seek(0)
    session.connection().connection.cursor().copy_expert(sql, buffer)
    buffer.seek(0)
    buffer.truncate()


def _without_nul(row: dict, problems: Problems) -> dict:
    """PostgreSQL text cannot hold NUL: report each such cell and stage it empty."""
    clean = dict(row)
    for column, value in row.items():
        if isinstance(value, str) and "\x00" in value:
            problems.append(
                {
                    "row": int(row["line"]),
                    "column": column,
                    "value": value.replace("\x00", "\\0")[:200],
                    "message": "must not contain a NUL character",
                }
            )
            clean[column] = ""
    return clean


def _pcode_for(session, row, memo, problems, operation: str | None) -> str:
    """The pcode of the row's `name` (at its `level` when given), or '' and a problem."""
    name = str(row["name"])
    level = int(row["level"]) if re.fullmatch(r"[0-3]", str(row.get("level", ""))) else None
    if (name, level) not in memo:
        memo[(name, level)] = names.resolve(session, name, level, operation)
    found = memo[(name, level)]
    if len(found) == 1:
        return found[0]
    if (name, level, "problem") in memo:  # asked already: the same answer, one look-up
        problems.append({**memo[(name, level, "problem")], "row": int(row["line"])})
        return UNRESOLVED
    # past the listed problems only the count matters: no look-up of suggestions
    listed = len(problems.listed) < MAX_LISTED
    hint = names.suggestions(session, name, operation=operation) if listed else []
    message = (
        f"no area is named '{name}'"
        if not found
        else f"'{name}' names several areas ({', '.join(found)}): give the pcode"
    )
    if hint and not found:
        message += f"; did you mean {', '.join(hint)}?"
    problem = {"row": int(row["line"]), "column": "name", "value": name, "message": message}
    if len(memo) < 100_000:
        memo[(name, level, "problem")] = problem
    problems.append(problem)
    return UNRESOLVED


# --- validation ------------------------------------------------------------------------


def _checks(spec: Spec) -> list[tuple[str, str, str]]:
    """(column, value expression, message expression: null when the row passes)."""
    checks = [
        (
            "round",
            "s.round",
            "CASE WHEN s.round <> '' AND s.round NOT IN (:code, :number) "
            "THEN 'differs from the target round ' || :code END",
        ),
    ]
    for column in spec.pcodes:
        alias = f"a_{column}"
        checks.append(
            (
                column,
                f"s.{column}",
                f"CASE WHEN s.{column} = '' THEN 'a pcode is required' "
                f"WHEN s.{column} = :unresolved THEN NULL "
                f"WHEN {alias}.pcode IS NULL THEN 'unknown pcode' "
                # a round's figures are of its operation's areas (an Iraq row posted to Libya)
                f"WHEN {alias}.ancestry[1] <> :operation THEN 'is an area of ' "
                f"|| {_OPERATION_NAME.format(f'{alias}.ancestry[1]')} || ', not of ' "
                f"|| {_OPERATION_NAME.format(':operation')} || ', which round ' "
                "|| :code || ' belongs to' END",
            )
        )
        if "level" in spec.columns:
            checks.append(
                (
                    column,
                    f"s.{column}",
                    f"CASE WHEN s.level <> '' AND {alias}.pcode IS NOT NULL "
                    f"AND {alias}.level::text <> s.level THEN 'is a level-' || {alias}.level || "
                    f"' area (' || {alias}.name_en || '); expected level ' || s.level END",
                )
            )
    if "population_type" in spec.columns:
        checks.append(
            (
                "population_type",
                "s.population_type",
                "CASE WHEN s.population_type NOT IN "
                f"({_sql_list(POPULATION_TYPES)}) THEN 'expected one of "
                f"{', '.join(POPULATION_TYPES)}' END",
            )
        )
    if "reason" in spec.columns:
        checks.append(
            (
                "reason",
                "s.reason",
                f"CASE WHEN s.reason NOT IN ('', {_sql_list(DISPLACEMENT_REASONS)})"
                f" THEN 'expected one of {', '.join(DISPLACEMENT_REASONS)} or empty' END",
            )
        )
    if "nationality" in spec.columns:
        checks.append(
            (
                "nationality",
                "s.nationality",
                "CASE WHEN s.nationality = '' THEN 'a nationality is required' END",
            )
        )
    for i, column in enumerate(spec.counts):
        required = "WHEN s.{c} = '' THEN 'a count is required' " if i == 0 else ""
        checks.append(
            (
                column,
                f"s.{column}",
                (
                    f"CASE {required}"
                    "WHEN s.{c} = '' THEN NULL "
                    "WHEN s.{c} ~ '^-' THEN 'must not be negative' "
                    "WHEN s.{c} ~ '^[0-9]*[.,][0-9]+$' THEN 'must be a whole number' "
                    "WHEN s.{c} !~ '^[0-9]+$' THEN 'is not a number' "
                    "WHEN length(s.{c}) > 15 THEN 'is too large' END"
                ).replace("{c}", column),
            )
        )
    if "households" in spec.counts:
        checks.append(
            (
                "households",
                "s.households",
                "CASE WHEN s.households ~ '^[0-9]{1,15}$' AND "
                "s.individuals ~ '^[0-9]{1,15}$' AND s.households::bigint > "
                "s.individuals::bigint THEN 'is more than individuals (' || s.individuals || ')' "
                "END",
            )
        )
    if "males" in spec.counts:
        checks.append(
            (
                "males",
                "s.males",
                "CASE WHEN s.males ~ '^[0-9]{1,15}$' AND s.females ~ "
                "'^[0-9]{1,15}$' AND s.individuals ~ '^[0-9]{1,15}$' AND s.males::bigint + "
                "s.females::bigint > s.individuals::bigint THEN 'males plus females (' || "
                "(s.males::bigint + s.females::bigint) || ') is more than individuals (' || "
                "s.individuals || ')' END",
            )
        )
    return checks


def _sql_list(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _validate(
    session: Session, spec: Spec, round_row: dict, cells: dict | None = None
) -> tuple[list[dict], int]:
    joins = " ".join(f"LEFT JOIN admin_areas a_{c} ON a_{c}.pcode = s.{c}" for c in spec.pcodes)
    key_columns = ", ".join(f"s.{c}" for c in spec.columns if c in _key_staging(spec))
    blank_keys_excluded = " AND ".join(f"s.{c} <> '' AND s.{c} <> :unresolved" for c in spec.pcodes)
    kind = "s.population_type" if "population_type" in spec.columns else "''"
    checks = _checks(spec)
    values = ", ".join(f"('{column}', {value}, {message})" for column, value, message in checks)
    # Most rows pass every check: test them once, and fan out only the rows that fail one.
    suspect = " OR ".join(f"({message}) IS NOT NULL" for _, _, message in checks)
    params = {
        "code": round_row["code"],
        "operation": round_row["operation"],
        "number": str(round_row["number"] or ""),
        "cap": MAX_ERRORS,
        "unresolved": UNRESOLVED,
    }
    problems = f"""
            SELECT s.line::bigint AS row_no, c.col AS col, c.val AS val, c.msg AS msg,
                   {kind} AS kind
            FROM ingest_stage s {joins}
            CROSS JOIN LATERAL (VALUES {values}) AS c(col, val, msg)
            WHERE c.msg IS NOT NULL AND ({suspect})
            UNION ALL
            SELECT d.line::bigint, 'row', '', 'duplicates the key of row ' || d.first, ''
            FROM (SELECT s.line, first_value(s.line) OVER w AS first,
                         row_number() OVER w AS n
                  FROM ingest_stage s WHERE {blank_keys_excluded}
                  WINDOW w AS (PARTITION BY {key_columns} ORDER BY s.line::bigint)) d
            WHERE d.n > 1"""
    sql = f"""
        WITH problems AS ({problems})
        SELECT *, count(*) OVER () AS total FROM problems
        ORDER BY row_no, col LIMIT :cap
    """
    rows = session.execute(text(sql), params).mappings().all()
    errors, seen = [], set()
    for r in rows:
        error = {"row": r["row_no"], "column": r["col"], "value": r["val"], "message": r["msg"]}
        cell = (cells or {}).get((r["kind"], r["col"]))
        if cell:
            error["cell"] = cell  # where a workbook holds it: sheet and column
        # a workbook row staged once per population type repeats its pcode's problems
        once = (error["row"], cell or error["column"], error["value"], error["message"])
        if once not in seen:
            seen.add(once)
            errors.append(error)
    _suggest(session, errors)
    if not rows:
        return errors, 0, Counter()
    # every problem counted by column and kind of message (app.ingest.problems)
    grouped = session.execute(
        text(f"""
        WITH problems AS ({problems})
        SELECT col, regexp_replace(regexp_replace(msg, :quoted, :quoted_as, 'g'),
                                  :number, 'N', 'g') AS kind, count(*) AS n
        FROM problems GROUP BY 1, 2 ORDER BY 3 DESC LIMIT {10 * bounded.MAX_GROUPS}"""),
        {**params, "quoted": bounded.QUOTED, "quoted_as": "'...'", "number": bounded.NUMBER},
    ).all()
    groups = Counter({(col, kind): n for col, kind, n in grouped})
    return errors, rows[0]["total"] - (len(rows) - len(errors)), groups


def _key_staging(spec: Spec) -> set[str]:
    return {c for c in spec.columns if any(f"s.{c}" in expr for expr in spec.key.values())}


def _suggest(session: Session, errors: list[dict]) -> None:
    """Add the closest known areas to 'unknown pcode' errors."""
    unknown = [e for e in errors if e["message"] == "unknown pcode"]
    if not unknown:
        return
    areas = dict(session.execute(text("SELECT pcode, name_en FROM admin_areas")).all())
    for error in unknown:
        close = difflib.get_close_matches(error["value"].upper(), list(areas), n=3, cutoff=0.7)
        if close:
            error["message"] += (
                "; did you mean " + ", ".join(f"{areas[p]} ({p})" for p in close) + "?"
            )
        else:
            error["message"] += "; list areas with GET /api/v1/areas?level=2"


# --- comparing -------------------------------------------------------------------------


def _typed_sql(spec: Spec) -> str:
    cols = [f"{expr} AS {col}" for col, expr in {**spec.key, **spec.values}.items()]
    return f"SELECT s.line::bigint AS line, {', '.join(cols)} FROM ingest_stage s"


def _key_match(spec: Spec) -> str:
    """Equality on the natural key, NULL-free so PostgreSQL can hash or merge on it.

    `IS NOT DISTINCT FROM` would match NULLs too, but only a nested loop can run it: hours
    for a re-submission of a large round. A NULL key value (an observation without a
    displacement reason) is compared as '', a value no row may hold (migration 0005).
    """
    return " AND ".join(
        f"coalesce(t.{c}, '') = coalesce(x.{c}, '')"
        if c in spec.nullable_keys
        else f"t.{c} = x.{c}"
        for c in spec.key
    )


def diff_sql(spec: Spec, sub: Submission) -> str:
    """Staged rows beside the stored row of the same key (if any) and what to do with them."""
    compared = [*spec.values, "source", "quality", *(["source_url"] if spec.tracked else [])]
    return f"""
        SELECT t.*, x.id AS existing_id,
               CASE WHEN x.id IS NULL THEN 'insert'
                    WHEN ({", ".join(f"x.{c}" for c in compared)}) IS DISTINCT FROM
                         ({", ".join(f"t.{c}" for c in spec.values)}, :source, :quality
                          {", :source_url" if spec.tracked else ""}) THEN 'update'
                    ELSE 'unchanged' END AS action
        FROM ({_typed_sql(spec)}) t
        LEFT JOIN {spec.table} x ON x.round_id = :round_id AND {_key_match(spec)}
    """


def _diff(session: Session, spec: Spec, sub: Submission, round_row: dict, count: int) -> dict:
    session.execute(
        text(f"CREATE TEMP TABLE ingest_diff ON COMMIT DROP AS {diff_sql(spec, sub)}"),
        _value_params(sub, round_row),
    )
    session.execute(text("ANALYZE ingest_diff"))  # its row count and actions, for the plans
    removed_sql = _removed_sql(spec, sub)
    counts = dict(
        session.execute(text("SELECT action, count(*) FROM ingest_diff GROUP BY action")).all()
    )
    removed = (
        session.execute(
            text(f"SELECT count(*) FROM ({removed_sql}) r"), _value_params(sub, round_row)
        ).scalar_one()
        if removed_sql
        else 0
    )
    return {
        "round": sub.round_code,
        "dataset": spec.name,
        "mode": sub.mode,
        "dry_run": sub.dry_run,
        "rows": count,
        "inserted": counts.get("insert", 0),
        "updated": counts.get("update", 0),
        "unchanged": counts.get("unchanged", 0),
        "removed": removed,
        "examples": _examples(session, spec, sub, round_row, removed_sql),
        "payload_sha256": sub.payload_sha256,
    }


def _value_params(sub: Submission, round_row: dict) -> dict:
    return {
        "round_id": round_row["id"],
        "source": sub.source,
        "source_url": sub.source_url,
        "quality": sub.quality,
        "scope_values": list(sub.scope_values or ()),
    }


def _removed_sql(spec: Spec, sub: Submission) -> str | None:
    """Stored rows of the round (within the submission's scope) it no longer contains.

    In replace mode, every such row. Otherwise, only modelled flows when real flows
    arrive: observed origin-destination data replaces a model's for that population type.
    """
    only = ""
    if sub.mode != "replace":
        if spec.table != "flows" or sub.quality != "published":
            return None
        only = "AND x.quality = 'modelled'"
    scope = ""
    if spec.scope and sub.scope_values is not None:
        scope = f"AND x.{spec.scope} = ANY(:scope_values)"
    elif spec.scope:
        scope = (
            f"AND x.{spec.scope} IN (SELECT DISTINCT {spec.key[spec.scope].replace('s.', '')}"
            " FROM ingest_stage)"
        )
    return f"""SELECT x.* FROM {spec.table} x WHERE x.round_id = :round_id {scope} {only}
               AND NOT EXISTS (SELECT 1 FROM ingest_diff d WHERE d.existing_id = x.id)"""


def _examples(session, spec, sub, round_row, removed_sql) -> dict:
    keys = ", ".join(f"d.{c}" for c in spec.key)
    out = {}
    for action in ("insert", "update"):
        rows = (
            session.execute(
                text(f"""
            SELECT d.line AS row, {keys}, {", ".join(f"d.{c}" for c in spec.values)},
                   to_jsonb(x) - 'id' - 'round_id' - 'updated_at' AS before
            FROM (SELECT * FROM ingest_diff WHERE action = :action ORDER BY line LIMIT :n) d
            LEFT JOIN {spec.table} x ON x.id = d.existing_id ORDER BY d.line"""),
                {"action": action, "n": EXAMPLES},
            )
            .mappings()
            .all()
        )
        out["inserted" if action == "insert" else "updated"] = [
            {k: v for k, v in r.items() if not (k == "before" and v is None)} for r in rows
        ]
    if removed_sql:
        rows = (
            session.execute(
                text(
                    "SELECT to_jsonb(r) - 'id' - 'round_id' - 'updated_at' AS row "
                    f"FROM ({removed_sql}) r "
                    f"ORDER BY {', '.join(f'r.{c}' for c in spec.key)} LIMIT :n"
                ),
                {**_value_params(sub, round_row), "n": EXAMPLES},
            )
            .scalars()
            .all()
        )
        out["removed"] = list(rows)
    return out


# --- applying --------------------------------------------------------------------------


def _apply(session, spec: Spec, sub: Submission, round_row: dict, report: dict, progress) -> dict:
    params = _value_params(sub, round_row)
    changed = bool(report["inserted"] or report["updated"] or report["removed"])
    # One submission is one revision, however many datasets (parts) it carries: a part
    # after one that already raised it in this transaction keeps the revision it reads.
    transaction = session.execute(text("SELECT txid_current()")).scalar_one()
    if session.info.get("rounds_bumped", (None,))[0] != transaction:
        session.info["rounds_bumped"] = (transaction, set())
    bumped = session.info["rounds_bumped"][1]
    bump = changed and round_row["id"] not in bumped
    revision = round_row["revision"] + (1 if bump else 0)
    submission_id = record_submission(
        session,
        key=sub.key,
        round_code=sub.round_code,
        dataset=sub.dataset_label or spec.name,
        mode=sub.mode,
        payload_sha256=sub.payload_sha256,
        counts=report,
        revision=revision,
        idempotency_key=sub.idempotency_key,
        request_sha256=request_checksum(sub),
    )
    key_json = ", ".join(f"'{c}', x.{c}" for c in spec.key)
    snapshot = _snapshot(spec)
    session.execute(
        text(f"""
        INSERT INTO row_history (submission_id, table_name, change, row_key, old_values)
        SELECT :sid, '{spec.table}', 'update', jsonb_build_object({key_json}), {snapshot}
        FROM ingest_diff d JOIN {spec.table} x ON x.id = d.existing_id
        WHERE d.action = 'update'"""),
        {"sid": submission_id},
    )
    removed_sql = _removed_sql(spec, sub)
    if removed_sql:
        session.execute(
            text(f"""
            INSERT INTO row_history (submission_id, table_name, change, row_key, old_values)
            SELECT :sid, '{spec.table}', 'delete', jsonb_build_object({key_json}), {snapshot}
            FROM ({removed_sql}) x"""),
            {**params, "sid": submission_id},
        )
        session.execute(
            text(f"DELETE FROM {spec.table} WHERE id IN (SELECT id FROM ({removed_sql}) r)"), params
        )
    progress("updating changed rows")
    sets = [f"{c} = d.{c}" for c in spec.values] + ["source = :source", "quality = :quality"]
    extra_columns, extra_values = [], []
    if spec.tracked:
        sets += ["source_url = :source_url", "updated_at = now()"]
        extra_columns, extra_values = ["source_url"], [":source_url"]
    session.execute(
        text(f"""
        UPDATE {spec.table} x SET {", ".join(sets)}
        FROM ingest_diff d WHERE x.id = d.existing_id AND d.action = 'update'"""),
        params,
    )
    progress("inserting new rows")
    columns = ["round_id", *spec.key, *spec.values, "source", "quality", *extra_columns]
    values = [
        ":round_id",
        *(f"d.{c}" for c in spec.key),
        *(f"d.{c}" for c in spec.values),
        ":source",
        ":quality",
        *extra_values,
    ]
    session.execute(
        text(f"""
        INSERT INTO {spec.table} ({", ".join(columns)})
        SELECT {", ".join(values)} FROM ingest_diff d WHERE d.action = 'insert'"""),
        params,
    )
    if bump:
        bump_revision(session, round_row["id"])
        bumped.add(round_row["id"])
    report.update(round_revision=revision, submission_id=submission_id)
    finish_submission(session, submission_id, 200, report)
    return report


def _snapshot(spec: Spec) -> str:
    """A stored row `x` as JSON, without its id and round: what `to_jsonb(x) - 'id' -
    'round_id'` gives, built column by column (several times faster on a million rows)."""
    columns = [*spec.key, *spec.values, "source", "quality"]
    columns += ["source_url", "updated_at"] if spec.tracked else []
    pairs = ", ".join(f"'{c}', x.{c}" for c in dict.fromkeys(columns))
    return f"jsonb_build_object({pairs})"


def bump_revision(session: Session, round_id: int) -> None:
    session.execute(
        text("UPDATE rounds SET revision = revision + 1, updated_at = now() WHERE id = :id"),
        {"id": round_id},
    )
    rollup.data_changed(session, [round_id])


def record_submission(
    session: Session,
    *,
    key: KeyInfo | None,
    round_code: str,
    dataset: str,
    mode: str,
    payload_sha256: str,
    counts: dict,
    revision: int,
    idempotency_key: str | None = None,
    request_sha256: str | None = None,
) -> int:
    """Insert the audit row of a write (its answer is filled in by `finish_submission`)."""
    summary = {k: counts.get(k, 0) for k in ("rows", "inserted", "updated", "unchanged", "removed")}
    return session.execute(
        text("""
        INSERT INTO submissions (api_key_id, key_name, round_code, dataset, mode, payload_sha256,
                                 request_sha256, counts, round_revision, idempotency_key,
                                 response_status, response_body)
        VALUES (:key_id, :key_name, :round, :dataset, :mode, :sha, :request_sha,
                CAST(:counts AS jsonb), :revision, :idem, 0, '{}'::jsonb)
        RETURNING id"""),
        {
            "key_id": key.id if key else None,
            "key_name": key.name if key else "cli",
            "round": round_code,
            "dataset": dataset,
            "mode": mode,
            "sha": payload_sha256,
            "request_sha": request_sha256,
            "counts": dumps(summary).decode(),
            "revision": revision,
            "idem": idempotency_key,
        },
    ).scalar_one()


def finish_submission(session: Session, submission_id: int, status: int, body: dict) -> None:
    session.execute(
        text(
            "UPDATE submissions SET response_status = :s, "
            "response_body = CAST(:b AS jsonb) WHERE id = :id"
        ),
        {"s": status, "b": dumps(body).decode(), "id": submission_id},
    )
