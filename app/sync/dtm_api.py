"""`dtm-geo sync dtm-api`: an operation's IDP records from the DTM API v3, round by round,
through the ingest pipeline.

- Records are read from `/v3/displacement/admin{0,1,2}?Admin0Pcode=...` and grouped into
  rounds by round number and reporting date (app.loaders.dtm_api names the rounds).
- Each record is a published figure at its own level (the roll-up takes a stored figure
  over the sum of its parts); records of one area and reason add up (v3 gives one per
  origin). Where an area has baseline (BA) and site (SA) assessment records for a round,
  the baseline's stand: the two count the same people.
- `idpOriginAdmin1Pcode`, where it names a place, gives flows from the round's finest
  records.
- A round is written in one transaction (its figures, flows and what was read); the
  checksum of its records makes a second sync with nothing new write nothing. A round
  holding figures of a source that takes precedence (app.sync.precedence) is compared,
  not overwritten.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import httpx
import orjson
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from app.auth import KeyInfo
from app.errors import LoadError
from app.ingest import service
from app.ingest.pipeline import RoundBusy, Submission, ValidationFailed, lock_round, run
from app.ingest.specs import FLOWS, OBSERVATIONS
from app.loaders import dtm_api as records_of
from app.services import operations
from app.services.hierarchy import within
from app.sync import compare, precedence, state
from app.sync.http import Client, SourceError

KIND = "dtm-api"
LEVELS = (0, 1, 2)
PATH = "/v3/displacement/admin{level}"


def source_name(iso3: str) -> str:
    return f"{KIND}/{iso3}"


def figures_source(op: operations.Operation) -> str:
    """The source text of a synced figure (its family is the DTM API's, see precedence)."""
    return f"IOM DTM API v3, {op.dtm_operation}"


@dataclass(frozen=True)
class Outcome:
    source: str
    round_code: str | None
    status: str  # added, changed, unchanged, held, refused
    message: str = ""


@dataclass
class ApiRound:
    code: str
    number: int
    reporting_date: date
    repeat: bool = False  # its number is an earlier round's too (Iraq's round 48)
    raw: dict[int, list[dict]] = field(default_factory=lambda: defaultdict(list))

    @property
    def records(self) -> int:
        return sum(len(rows) for rows in self.raw.values())

    def sha256(self) -> str:
        """Of the records as read, whatever order the API gives them in."""
        digest = hashlib.sha256()
        for level, rows in sorted(self.raw.items()):
            digest.update(f"admin{level}\n".encode())
            for record in sorted(orjson.dumps(r, option=orjson.OPT_SORT_KEYS) for r in rows):
                digest.update(record + b"\n")
        return digest.hexdigest()


@dataclass
class Plan:
    observations: list[dict]
    flows: list[dict]
    record_ids: dict[str, list[int]]
    lines: dict[int, list[int]]  # staged row -> the record ids it adds up
    finest: int


class Refused(Exception):
    """A round that cannot be written: the message names the round and the record."""


def api_operation(op: operations.Operation) -> records_of.ApiOperation:
    return records_of.ApiOperation(
        op.iso3, op.ocha_prefix, op.round_prefix, op.dtm_operation, op.name_en
    )


def level_url(base: str, level: int) -> str:
    return base.rstrip("/") + PATH.format(level=level)


def fetch(client: Client, base: str, iso3: str, from_round: int | None) -> dict[int, list[dict]]:
    """Every record of the operation at each level (the API does not page)."""
    found = {}
    for level in LEVELS:
        params = {"Admin0Pcode": iso3}
        if from_round is not None:
            params["FromRoundNumber"] = str(from_round)
        url = level_url(base, level)
        body = client.get_json(url, params)
        shown = str(httpx.URL(url, params=params))
        if not isinstance(body, dict) or not isinstance(body.get("result"), list):
            raise SourceError(f"{shown}: not a DTM API answer (no 'result' list); refused")
        if body.get("isSuccess") is False:
            errors = "; ".join(str(e) for e in body.get("errorMessages") or []) or "no message"
            raise SourceError(f"{shown}: the DTM API answered with an error: {errors}")
        found[level] = body["result"]
    return found


def rounds_of(
    op: records_of.ApiOperation, raw: dict[int, list[dict]]
) -> tuple[list[ApiRound], list[str]]:
    """The records grouped into rounds, in order; and a line for each record that names
    no round (no usable round number or reporting date)."""
    grouped: dict[tuple[int, date], ApiRound] = {}
    stray = []
    for level, rows in raw.items():
        for i, row in enumerate(rows, start=1):
            number = row.get("roundNumber") if isinstance(row, dict) else None
            try:
                when = date.fromisoformat(str(row.get("reportingDate"))[:10])
            except (ValueError, AttributeError):
                when = None
            if not isinstance(number, int) or number < 1 or when is None:
                ident = row.get("id") if isinstance(row, dict) else None
                stray.append(
                    f"admin{level} record {i}"
                    + (f" (id {ident})" if ident is not None else "")
                    + ": no valid roundNumber and reportingDate; not stored"
                )
                continue
            if (number, when) not in grouped:
                grouped[(number, when)] = ApiRound("", number, when)
            grouped[(number, when)].raw[level].append(row)
    seen: set[int] = set()
    ordered = []
    for number, when in sorted(grouped):
        rnd = grouped[(number, when)]
        rnd.repeat = number in seen
        rnd.code = records_of.round_code(op, number, when, rnd.repeat)
        seen.add(number)
        ordered.append(rnd)
    return ordered, stray


def plan(op: records_of.ApiOperation, rnd: ApiRound, cod_pcodes: set[str]) -> Plan:
    """The rows a round stages, or Refused naming the first bad record."""
    parsed = {}
    for level, rows in sorted(rnd.raw.items()):
        try:
            parsed[level] = records_of.parse_records(rows, level, f"admin{level}")
        except LoadError as exc:
            raise Refused(f"round {rnd.code}: {exc}") from None
    named = {r.api_pcode for rs in parsed.values() for r in rs}
    named |= {r.origin_pcode for rs in parsed.values() for r in rs if r.origin_pcode}
    mapping = records_of.crosswalk(op, named, cod_pcodes)
    for level, rs in parsed.items():
        for r in rs:
            for pcode, what in ((r.api_pcode, "pcode"), (r.origin_pcode, "origin pcode")):
                if pcode and pcode not in mapping:
                    raise Refused(
                        f"round {rnd.code}: admin{level} record {r.id}: {what} {pcode} is no "
                        f"area of {op.name_en}"
                    )
    sums: dict[tuple, dict] = {}
    ids: dict[tuple, list[int]] = defaultdict(list)
    finest = max(level for level, rs in parsed.items() if rs)
    flows: dict[tuple[str, str], int] = defaultdict(int)
    for level, rs in parsed.items():
        for r in _one_assessment(rs):
            key = (level, mapping[r.api_pcode], r.reason)
            total = sums.setdefault(
                key, {"individuals": 0, "males": 0, "females": 0, "sexed": True}
            )
            total["individuals"] += r.individuals
            if r.males is None or r.females is None:
                total["sexed"] = False
            else:
                total["males"] += r.males
                total["females"] += r.females
            if r.id is not None:
                ids[key].append(r.id)
            if level == finest and r.origin_pcode:
                origin, destination = mapping[r.origin_pcode], mapping[r.api_pcode]
                if origin != destination:
                    flows[(origin, destination)] += r.individuals
    observations, lines, record_ids = [], {}, {}
    for line, (key, total) in enumerate(sorted(sums.items(), key=_order), start=1):
        level, pcode, reason = key
        observations.append(
            {
                "line": line,
                "round": rnd.code,
                "pcode": pcode,
                "level": str(level),
                "population_type": "idp",
                "reason": reason or "",
                "individuals": str(total["individuals"]),
                "males": str(total["males"]) if total["sexed"] else "",
                "females": str(total["females"]) if total["sexed"] else "",
            }
        )
        lines[line] = ids[key]
        record_ids[f"admin{level}:{pcode}" + (f":{reason}" if reason else "")] = ids[key]
    flow_rows = [
        {
            "line": line,
            "round": rnd.code,
            "population_type": "idp",
            "origin_pcode": origin,
            "destination_pcode": destination,
            "individuals": str(n),
        }
        for line, ((origin, destination), n) in enumerate(sorted(flows.items()), start=1)
    ]
    return Plan(observations, flow_rows, record_ids, lines, finest)


def _order(item) -> tuple:
    (level, pcode, reason), _ = item
    return (level, pcode, reason or "")


def _one_assessment(records: list[records_of.Record]) -> list[records_of.Record]:
    """An area's baseline (BA) records where it has them, else its others."""
    baseline = {r.api_pcode for r in records if (r.assessment or "").upper() == "BA"}
    return [
        r for r in records if r.api_pcode not in baseline or (r.assessment or "").upper() == "BA"
    ]


@dataclass
class Writer:
    """Writes the rounds of one operation's API records."""

    sessions: sessionmaker
    op: operations.Operation
    base: str
    order: tuple[str, ...]
    name: str = ""

    def __post_init__(self) -> None:
        self.name = self.name or source_name(self.op.iso3)
        self.key = KeyInfo(id=None, name=f"sync {self.name}", scopes=frozenset({"ingest"}))

    def write(self, rnd: ApiRound, sha: str, cod_pcodes: set[str]) -> Outcome:
        try:
            rows = plan(api_operation(self.op), rnd, cod_pcodes)
        except Refused as exc:
            return self._refused(rnd, sha, str(exc))
        with self.sessions() as session:
            try:
                outcome = self._write(session, rnd, sha, rows)
            except ValidationFailed as failed:
                session.rollback()
                return self._refused(rnd, sha, _first_problem(rnd.code, failed, rows))
            except RoundBusy as busy:
                session.rollback()
                return Outcome(self.name, rnd.code, "refused", f"{busy}; the next sync retries")
            session.commit()
            return outcome

    def _write(self, session: Session, rnd: ApiRound, sha: str, rows: Plan) -> Outcome:
        url = f"{level_url(self.base, rows.finest)}?Admin0Pcode={self.op.iso3}"
        url += f"&FromRoundNumber={rnd.number}&ToRoundNumber={rnd.number}"
        existing = service.round_view(session, rnd.code)
        if existing is None:
            fields = records_of.round_row(
                api_operation(self.op), rnd.code, rnd.number, rnd.reporting_date, url
            )
            fields = {f: fields.get(f) for f in (*service.ROUND_FIELDS, "operation")}
            service.put_round(session, rnd.code, fields, self.key, None, sha, rnd.repeat)
        else:
            lock_round(session, rnd.code)
        holders = session.execute(
            text("""
            SELECT DISTINCT o.source FROM observations o JOIN rounds r ON r.id = o.round_id
            WHERE r.code = :c AND o.population_type = 'idp'"""),
            {"c": rnd.code},
        ).scalars()
        stronger = precedence.stronger(holders, KIND, self.order)
        if stronger:
            message = compare.report(
                session,
                self.op.iso3,
                rnd.code,
                compare.totals_of(rows.observations),
                stronger,
                "the DTM API",
            )
            self._save(session, rnd, sha, "held", message, rows.record_ids)
            return Outcome(self.name, rnd.code, "held", message)
        common = {
            "round_code": rnd.code,
            "source": figures_source(self.op),
            "source_url": url,
            "payload_sha256": sha,
            "mode": "replace",
            "key": self.key,
        }
        reports = [run(session, Submission(spec=OBSERVATIONS, rows=rows.observations, **common))]
        had_flows = (
            existing is not None
            and session.execute(
                text("""
            SELECT EXISTS (SELECT 1 FROM flows f JOIN rounds r ON r.id = f.round_id
                           WHERE r.code = :c AND f.source = :s)"""),
                {"c": rnd.code, "s": common["source"]},
            ).scalar()
        )
        if rows.flows or had_flows:  # flows the API no longer gives are removed
            flows = Submission(spec=FLOWS, rows=rows.flows, scope_values=("idp",), **common)
            reports.append(run(session, flows))
        self._save(session, rnd, sha, "written", None, rows.record_ids)
        if existing is None:
            return Outcome(self.name, rnd.code, "added", f"{len(rows.observations)} figures")
        changed = {k: sum(r[k] for r in reports) for k in ("inserted", "updated", "removed")}
        if not any(changed.values()):
            return Outcome(self.name, rnd.code, "unchanged")
        return Outcome(
            self.name, rnd.code, "changed", ", ".join(f"{n} {k}" for k, n in changed.items())
        )

    def _save(self, session, rnd, sha, status, message, record_ids=None) -> None:
        state.save_item(
            session,
            self.name,
            rnd.code,
            round_code=rnd.code,
            sha256=sha,
            records=rnd.records,
            status=status,
            message=message,
            record_ids=record_ids,
        )

    def _refused(self, rnd: ApiRound, sha: str, message: str) -> Outcome:
        with self.sessions() as session:
            if service.round_view(session, rnd.code) is not None:
                self._save(session, rnd, sha, "refused", message)
                session.commit()
        return Outcome(self.name, rnd.code, "refused", message)


def _first_problem(code: str, failed: ValidationFailed, rows: Plan) -> str:
    first = failed.errors[0]
    records = rows.lines.get(first["row"], [])
    which = f"record {', '.join(map(str, records))}" if records else f"row {first['row']}"
    more = f" ({failed.total} problems in all)" if failed.total > 1 else ""
    return f"round {code}: {which}: {first['column']} {first['value']!r}: {first['message']}{more}"


def sync_operation(
    client: Client,
    sessions: sessionmaker,
    op: operations.Operation,
    base: str,
    order: tuple[str, ...],
    from_round: int | None,
    progress: Callable[[str, int, int], None] = lambda *_: None,
) -> list[Outcome]:
    """Sync one operation; SourceError when the API cannot be read (nothing written)."""
    name = source_name(op.iso3)
    with sessions() as session:
        state.ensure_source(session, name, KIND, op.iso3, level_url(base, 2))
        state.attempted(session, name)
        session.commit()
    try:
        raw = fetch(client, base, op.iso3, from_round)
    except SourceError as exc:
        _finish(sessions, name, str(exc), success=False)
        raise
    rounds, stray = rounds_of(api_operation(op), raw)
    with sessions() as session:
        known = state.held(session, name)
        cod_pcodes = set(
            session.execute(
                text(f"SELECT pcode FROM admin_areas a WHERE {within('a')}"), {"areas": [op.iso3]}
            ).scalars()
        )
    writer = Writer(sessions, op, base, order, name)
    outcomes = [Outcome(name, None, "refused", line) for line in stray]
    for i, rnd in enumerate(rounds, start=1):
        progress(name, i - 1, len(rounds))
        sha = rnd.sha256()
        before = known.get(rnd.code)
        if before is not None and before.sha256 == sha and before.status in ("written", "held"):
            outcomes.append(Outcome(name, rnd.code, "unchanged"))
            continue
        outcomes.append(writer.write(rnd, sha, cod_pcodes))
    progress(name, len(rounds), len(rounds))
    refused = [o for o in outcomes if o.status == "refused"]
    error = None
    if refused:
        error = f"{len(refused)} round(s) refused; first: {refused[0].message}"
    _finish(sessions, name, error, success=True)
    return outcomes


def _finish(sessions: sessionmaker, name: str, error: str | None, success: bool) -> None:
    with sessions() as session:
        state.finished(session, name, error, success)
        session.commit()
