"""Records shaped like IOM's DTM API (v2 and v3), from the same roll-up as the native API.

The DTM API serves IDP figures from DTM's baseline assessments. Here that is the
published IDP figures of Libya's mobility-tracking rounds; flash updates and other
population types are served by the native API only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from app.services import names, stats
from app.services.hierarchy import within_any
from app.services.stats import StatsFilter

OPERATION = "Libya Crisis"
COUNTRY = "Libya"
ADMIN0_PCODE = "LBY"
NOT_AVAILABLE = "Not available"
ASSESSMENT_TYPE = "BA"
V3_ONLY = (
    "displacementReason",
    "numberMales",
    "numberFemales",
    "idpOriginAdmin1Name",
    "idpOriginAdmin1Pcode",
)


class CompatError(ValueError):
    """A request the DTM API would refuse; the message goes into errorMessages."""


@dataclass(frozen=True)
class CompatQuery:
    operation: str | None = None
    country_name: str | None = None
    admin0_pcode: str | None = None
    admin1_name: str | None = None
    admin1_pcode: str | None = None
    admin2_name: str | None = None
    admin2_pcode: str | None = None
    from_date: date | None = None
    to_date: date | None = None
    from_round: int | None = None
    to_round: int | None = None


def _same(a: str | None, b: str) -> bool:
    return a is not None and a.strip().casefold() == b.casefold()


def is_libya(q: CompatQuery) -> bool:
    """Whether the query's operation/country/admin0 selectors all point at Libya."""
    if not (q.operation or q.country_name or q.admin0_pcode):
        raise CompatError(
            "Please provide at least one of the following parameters: Operation, CountryName "
            "or Admin0Pcode."
        )
    checks = [
        q.operation is None or _same(q.operation, OPERATION),
        q.country_name is None or _same(q.country_name, COUNTRY),
        q.admin0_pcode is None or q.admin0_pcode.strip().upper() in (ADMIN0_PCODE, "LY"),
    ]
    return all(checks)


def _selectors(session: Session, q: CompatQuery) -> list[set[str]]:
    """One set of pcodes per admin selector given (an empty set: it matches nothing)."""
    selected: list[set[str]] = []
    for pcode in (q.admin1_pcode, q.admin2_pcode):
        if pcode:
            selected.append({pcode.strip().upper()})
    for name, name_level in ((q.admin1_name, 1), (q.admin2_name, 2)):
        if name:
            selected.append(set(names.resolve(session, name, name_level)))
    return selected


def records(session: Session, q: CompatQuery, level: int, version: int) -> list[dict]:
    """DTM API records at admin `level` (0, 1 or 2; 3, the muhalla, is this service's
    addition) for API `version` (2 or 3)."""
    if not is_libya(q):
        return []
    selected = _selectors(session, q)
    if any(not s for s in selected):
        return []
    # The finest selector narrows the query; every selector must hold for each record.
    areas = tuple(sorted(selected[-1])) if selected else None
    flt = StatsFilter(
        level=level,
        population_types=("idp",),
        qualities=("published",),
        areas=areas,
        round_from=q.from_round,
        round_to=q.to_round,
        date_from=q.from_date,
        date_to=q.to_date,
    )
    # the DTM API has no way to say a figure is partial: a sum of only some areas is no
    # record of it
    rows = [
        r
        for r in stats.statistics(session, flt).rows
        if r["round_kind"] == "mobility_tracking" and r["complete"]
    ]
    if selected and level > 0:
        # The DTM API filters on the record's own admin columns, not on ancestors, and
        # each parameter narrows the others (Admin1Pcode and Admin2Pcode must agree).
        rows = [r for r in rows if all(within_any(r["ancestry"], s) for s in selected)]
    return [_record(r, level, version) for r in rows]


def _record(row: dict, level: int, version: int) -> dict:
    reported = row["reporting_date"]
    record: dict = {}
    if level > 0:
        record["id"] = row["record_id"]
    record.update(operation=OPERATION, admin0Name=COUNTRY, admin0Pcode=ADMIN0_PCODE)
    if level == 1:
        record.update(admin1Name=row["name_en"], admin1Pcode=row["pcode"])
    if level == 2:
        record.update(
            admin1Name=row["parent_name_en"],
            admin1Pcode=row["parent_pcode"],
            admin2Name=row["name_en"],
            admin2Pcode=row["pcode"],
        )
    if level == 3:
        record.update(
            admin1Name=row["grandparent_name_en"],
            admin1Pcode=row["grandparent_pcode"],
            admin2Name=row["parent_name_en"],
            admin2Pcode=row["parent_pcode"],
            admin3Name=row["name_en"],
            admin3Pcode=row["pcode"],
        )
    record.update(
        numPresentIdpInd=row["individuals"],
        reportingDate=f"{reported.isoformat()}T00:00:00" if reported else None,
        yearReportingDate=reported.year if reported else None,
        monthReportingDate=reported.month if reported else None,
        roundNumber=row["round_number"],
        displacementReason=row["displacement_reason"] or NOT_AVAILABLE,
        numberMales=row["males"],
        numberFemales=row["females"],
        idpOriginAdmin1Name=NOT_AVAILABLE,
        idpOriginAdmin1Pcode=NOT_AVAILABLE,
        assessmentType=ASSESSMENT_TYPE,
    )
    if version == 2:
        for key in V3_ONLY:
            record.pop(key)
    return record


def country_list() -> list[dict]:
    return [{"admin0Name": COUNTRY, "admin0Pcode": ADMIN0_PCODE}]


def operation_list() -> list[dict]:
    return [
        {
            "operation": OPERATION,
            "operationStatus": "Active",
            "admin0Name": COUNTRY,
            "admin0Pcode": ADMIN0_PCODE,
        }
    ]
