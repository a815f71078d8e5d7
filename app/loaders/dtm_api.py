"""Reading the DTM API's own IDP records (v2 `IdpAdmin{0,1,2}Data`, v3 `displacement/
admin{0,1,2}`: the same record fields) into rounds and observations of an operation.

- The API writes pcodes its own way (Iraq: `IRQ-G01Q01` for COD's `IQG01Q01`); the
  operation's crosswalk maps them, and a record whose pcode does not map is reported,
  never silently dropped.
- A round is stored once, at the finest level it has records for; the service rolls it
  up. Where the API also gives a national record, it is compared with the sum of the
  finest records and the notes say whether they agree.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from app.errors import LoadError
from app.loaders.sources import count
from app.vocabulary import DisplacementReason

ENDPOINTS = {0: "IdpAdmin0Data", 1: "IdpAdmin1Data", 2: "IdpAdmin2Data"}
# v3's displacementReason values (as the samples give them) -> the vocabulary's. A record
# with a reason is never stored without one: a reason-less figure is its area's total
# (app.services.rollup), so a label not listed here is stored as "other".
REASONS = {
    "conflict": DisplacementReason.CONFLICT.value,
    "natural disaster": DisplacementReason.NATURAL_HAZARD.value,
    "insecurity": DisplacementReason.INSECURITY.value,
    "no reason for displacement reported": DisplacementReason.NOT_REPORTED.value,
    "no reason reported": DisplacementReason.NOT_REPORTED.value,
    "other": DisplacementReason.OTHER.value,
    "other reason": DisplacementReason.OTHER.value,
}


def reason_of(value) -> str | None:
    """A record's displacementReason in the vocabulary; None when it gives none."""
    if not isinstance(value, str) or not value.strip():
        return None
    return REASONS.get(value.strip().casefold(), DisplacementReason.OTHER.value)


NOT_A_PLACE = {"not available", "n/a", "unknown"}


@dataclass(frozen=True)
class ApiOperation:
    """What reading an operation's API records needs to know of it (its catalogue row)."""

    iso3: str  # DTM's admin0Pcode
    ocha_prefix: str  # the COD's country prefix
    round_prefix: str  # round codes are f"{round_prefix}R{number}"
    dtm_operation: str
    name_en: str


@dataclass(frozen=True)
class Record:
    id: int | None
    level: int
    api_pcode: str
    name: str | None
    round_number: int
    reporting_date: date
    individuals: int
    reason: str | None
    males: int | None
    females: int | None
    assessment: str | None = None  # v3's assessmentType: BA (baseline) or SA (site)
    origin_pcode: str | None = None  # v3's idpOriginAdmin1Pcode, when it names a place


@dataclass
class ApiRows:
    rounds: list[dict] = field(default_factory=list)
    observations: list[dict] = field(default_factory=list)
    dtm_pcodes: list[dict] = field(default_factory=list)
    # the API's own place names beside the COD's: {cod pcode: names the API writes}
    provider_names: dict[str, set[str]] = field(default_factory=dict)
    unmapped: list[Record] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    complete_rounds: set[str] = field(default_factory=set)


def read_response(path: Path, name: str) -> list[dict]:
    """The records of one saved API response (`{"result": [...], "isSuccess": ...}`)."""
    if not path.exists():
        raise LoadError(name, "file not found in the data directory")
    try:
        body = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise LoadError(name, "not a JSON document") from None
    if not isinstance(body, dict) or not isinstance(body.get("result"), list):
        raise LoadError(name, "not a DTM API response: expected an object with a 'result' list")
    if body.get("isSuccess") is False:
        errors = "; ".join(str(e) for e in body.get("errorMessages") or []) or "no message"
        raise LoadError(name, f"the DTM API answered with an error: {errors}")
    return body["result"]


def parse_records(rows: list[dict], level: int, name: str) -> list[Record]:
    """Typed records of one level; a missing or malformed field is a LoadError naming the
    record (its position and id)."""
    records = []
    pcode_field = f"admin{level}Pcode"
    for i, row in enumerate(rows, start=1):
        where = f"record {i}" + (f" (id {row['id']})" if row.get("id") is not None else "")
        try:
            api_pcode = row[pcode_field]
            number = row["roundNumber"]
            reported = row["reportingDate"]
        except (KeyError, TypeError) as exc:
            raise LoadError(name, f"{where}: missing field {exc}") from None
        if not isinstance(number, int) or number < 1:
            raise LoadError(name, f"{where}: roundNumber {number!r} is not a round number")
        try:
            reporting_date = date.fromisoformat(str(reported)[:10])
        except ValueError:
            raise LoadError(name, f"{where}: reportingDate {reported!r} is not a date") from None
        reason = row.get("displacementReason")
        records.append(
            Record(
                id=row.get("id"),
                level=level,
                api_pcode=str(api_pcode),
                name=row.get(f"admin{level}Name"),
                round_number=number,
                reporting_date=reporting_date,
                individuals=_count(row.get("numPresentIdpInd"), name, where, "numPresentIdpInd"),
                reason=reason_of(reason),
                males=_count(row.get("numberMales"), name, where, "numberMales", True),
                females=_count(row.get("numberFemales"), name, where, "numberFemales", True),
                assessment=row.get("assessmentType"),
                origin_pcode=_place(row.get("idpOriginAdmin1Pcode")),
            )
        )
    return records


def _place(value) -> str | None:
    """A pcode the API gives, or None for its "Not available" (which is no place)."""
    if not isinstance(value, str) or not value.strip():
        return None
    return None if value.strip().casefold() in NOT_A_PLACE else value.strip()


def _count(value, name: str, where: str, field: str, optional: bool = False) -> int | None:
    try:
        return count(value, name, 0, field, optional)
    except LoadError as exc:
        raise LoadError(name, f"{where}: {field} {exc.reason}") from None


def crosswalk(operation: ApiOperation, api_pcodes: set[str], cod_pcodes: set[str]) -> dict:
    """{API pcode: COD pcode} for the API pcodes that name an area of the COD.

    The country is the operation's ISO3 code; v2 writes `{ISO3}-{rest}` where the COD
    writes `{OCHA prefix}{rest}`; v3 writes the COD's own pcodes."""
    mapped = {}
    for api in api_pcodes:
        if api == operation.iso3:
            cod = operation.iso3
        elif api.startswith(f"{operation.iso3}-"):
            cod = operation.ocha_prefix + api[len(operation.iso3) + 1 :]
        else:
            cod = api
        if cod in cod_pcodes:
            mapped[api] = cod
    return mapped


def round_code(operation: ApiOperation, number: int, reporting_date: date, repeat: bool) -> str:
    """`IRQ-R132`; a round number the API gives twice (Iraq's round 48, April and June
    2016) keeps it for the first date and adds the month to the later one: `IRQ-R48-2016-06`."""
    code = f"{operation.round_prefix}R{number}"
    return f"{code}-{reporting_date:%Y-%m}" if repeat else code


def api_rows(
    operation: ApiOperation,
    records: dict[int, list[Record]],
    cod_pcodes: set[str],
    source_url_of_level: dict[int, str],
    skip_rounds: frozenset[str] = frozenset(),
) -> ApiRows:
    """Rounds, observations (finest level per round) and crosswalk rows; `skip_rounds`
    are rounds whose figures come from a finer dataset (their rounds are still made)."""
    out = ApiRows()
    all_pcodes = {r.api_pcode for level in records.values() for r in level}
    mapping = crosswalk(operation, all_pcodes, cod_pcodes)
    out.dtm_pcodes = [
        {"operation": operation.iso3, "dtm_pcode": api, "pcode": cod}
        for api, cod in sorted(mapping.items())
    ]
    by_round: dict[tuple[int, date], dict[int, list[Record]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for level, level_records in records.items():
        for r in level_records:
            if r.api_pcode not in mapping:
                out.unmapped.append(r)
                continue
            by_round[(r.round_number, r.reporting_date)][level].append(r)
            if r.name:
                out.provider_names.setdefault(mapping[r.api_pcode], set()).add(r.name)
    for r in out.unmapped:
        out.notes.append(
            f"{ENDPOINTS[r.level]} record {r.id} (round {r.round_number}, "
            f"{r.reporting_date}): pcode {r.api_pcode} is no area of {operation.name_en}; "
            "not stored"
        )
    areas_of_level = {
        level: {mapping[r.api_pcode] for r in rs if r.api_pcode in mapping}
        for level, rs in records.items()
    }
    seen_numbers: set[int] = set()
    agree, disagree = 0, []
    partial: list[int] = []  # areas with a record, per round stored below the country
    for number, reported in sorted(by_round):
        levels = by_round[(number, reported)]
        code = round_code(operation, number, reported, repeat=number in seen_numbers)
        seen_numbers.add(number)
        finest = max(levels)
        rows = levels[finest]
        total = sum(r.individuals for r in rows)
        whole = True
        if 0 in levels and finest > 0:
            national = sum(r.individuals for r in levels[0])
            if national == total:
                agree += 1
            else:
                whole = False
                disagree.append(f"{code}: national {national:,}, sum {total:,}")
        out.rounds.append(round_row(operation, code, number, reported, source_url_of_level[0]))
        if whole:
            out.complete_rounds.add(code)
        if code in skip_rounds:
            continue
        out.observations += [
            _observation(operation, code, mapping[r.api_pcode], r, source_url_of_level[r.level])
            for r in rows
        ]
        if finest:
            partial.append(len({mapping[r.api_pcode] for r in rows}))
    out.notes.insert(
        0,
        f"DTM API {operation.name_en}: national record and the sum of the finest records "
        f"agree in {agree} of {agree + len(disagree)} rounds"
        + ("" if not disagree else "; they differ in " + "; ".join(disagree)),
    )
    fewer = [n for n in partial if n < len(areas_of_level.get(max(records), ()))]
    if fewer:
        out.notes.append(
            f"{len(fewer)} of {len(partial)} rounds have records for fewer areas than the "
            f"{len(areas_of_level[max(records)])} the API names (fewest {min(fewer)}): an area "
            "without a record had no IDPs to report where the national record agrees"
        )
    return out


def round_row(operation: ApiOperation, code: str, number: int, reported: date, url: str) -> dict:
    return {
        "operation": operation.iso3,
        "code": code,
        "number": number,
        "kind": "mobility_tracking",
        "event_slug": None,
        "title": f"DTM {operation.name_en} Round {number} ({reported:%B %Y}), DTM API",
        "collection_start": None,
        "collection_end": None,
        "reporting_date": reported,
        "source": f"IOM DTM API, {operation.dtm_operation}",
        "source_url": url,
    }


def _observation(operation: ApiOperation, code: str, pcode: str, r: Record, url: str) -> dict:
    return {
        "round_code": code,
        "pcode": pcode,
        "population_type": "idp",
        "displacement_reason": r.reason,
        "individuals": r.individuals,
        "households": None,
        "males": r.males,
        "females": r.females,
        # one source per endpoint and operation: a record is the endpoint's figure for its
        # round and pcode (a source per record id would list every record in each sum)
        "source": f"IOM DTM API {ENDPOINTS[r.level]}, {operation.dtm_operation}",
        "source_url": url,
        "quality": "published",
    }
