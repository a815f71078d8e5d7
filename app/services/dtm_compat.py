"""Records shaped like IOM's DTM API (v2 and v3), from the same roll-up as the native API.

The DTM API serves IDP figures from DTM's baseline assessments. Here that is the
published IDP figures of each operation's mobility-tracking rounds; flash updates and
other population types are served by the native API only. Pcodes are written as the
DTM API writes them (the operation's crosswalk, `dtm_pcodes`; Iraq's `IRQ-G01Q01`) and
read either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.memo import Memo
from app.services import names, operations, stats
from app.services.hierarchy import within_any
from app.services.operations import Operation
from app.services.stats import StatsFilter

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


def check(q: CompatQuery) -> None:
    """CompatError unless the query names an operation, a country or an admin0 pcode."""
    if not (q.operation or q.country_name or q.admin0_pcode):
        raise CompatError(
            "Please provide at least one of the following parameters: Operation, CountryName "
            "or Admin0Pcode."
        )


def operation_of(session: Session, q: CompatQuery) -> Operation | None:
    """The operation all of the query's operation/country/admin0 selectors point at."""
    check(q)
    for op in operations.all_operations(session).values():
        if (
            (q.operation is None or _same(q.operation, op.dtm_operation))
            and (q.country_name is None or _same(q.country_name, op.name_en))
            and (
                q.admin0_pcode is None
                or q.admin0_pcode.strip().upper() in (op.iso3, op.ocha_prefix)
            )
        ):
            return op
    return None


_MEMO = Memo(8)


def crosswalk(session: Session, iso3: str) -> tuple[dict[str, str], dict[str, str]]:
    """({DTM API pcode: pcode}, {pcode: DTM API pcode}) of an operation."""

    def read():
        rows = session.execute(
            text("SELECT dtm_pcode, pcode FROM dtm_pcodes WHERE operation = :op"), {"op": iso3}
        ).all()
        return dict(rows), {pcode: dtm for dtm, pcode in rows}

    return _MEMO.get(session, f"crosswalk:{iso3}", read)


def _selectors(session: Session, q: CompatQuery, op: Operation) -> list[set[str]]:
    """One set of pcodes per admin selector given (an empty set: it matches nothing)."""
    to_ours, _ = crosswalk(session, op.iso3)
    selected: list[set[str]] = []
    for pcode in (q.admin1_pcode, q.admin2_pcode):
        if pcode:
            code = pcode.strip().upper()
            selected.append({to_ours.get(code, code)})
    for name, name_level in ((q.admin1_name, 1), (q.admin2_name, 2)):
        if name:
            selected.append(set(names.resolve(session, name, name_level, op.iso3)))
    return selected


def records(session: Session, q: CompatQuery, level: int, version: int) -> list[dict]:
    """DTM API records at admin `level` (0, 1 or 2; 3, the muhalla, is this service's
    addition) for API `version` (2 or 3)."""
    op = operation_of(session, q)
    if op is None:
        return []
    selected = _selectors(session, q, op)
    if any(not s for s in selected):
        return []
    # The finest selector narrows the query; every selector must hold for each record.
    areas = tuple(sorted(selected[-1])) if selected else None
    flt = StatsFilter(
        level=level,
        operation=op.iso3,
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
    _, to_dtm = crosswalk(session, op.iso3)
    return [_record(r, level, version, op, to_dtm) for r in rows]


def _record(row: dict, level: int, version: int, op: Operation, to_dtm: dict) -> dict:
    reported = row["reporting_date"]
    record: dict = {}
    if level > 0:
        record["id"] = row["record_id"]
    record.update(operation=op.dtm_operation, admin0Name=op.name_en, admin0Pcode=op.iso3)
    # (name, pcode) columns from the area itself upwards, the finest level last
    chain = [("name_en", "pcode"), ("parent_name_en", "parent_pcode")]
    chain.append(("grandparent_name_en", "grandparent_pcode"))
    for n in range(1, level + 1):
        name, pcode = chain[level - n]
        record[f"admin{n}Name"] = row[name]
        record[f"admin{n}Pcode"] = to_dtm.get(row[pcode], row[pcode])
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


def country_list(session: Session) -> list[dict]:
    return [
        {"admin0Name": op.name_en, "admin0Pcode": op.iso3}
        for op in sorted(operations.all_operations(session).values(), key=lambda o: o.name_en)
    ]


def operation_list(session: Session) -> list[dict]:
    return [
        {
            "operation": op.dtm_operation,
            "operationStatus": "Active",
            "admin0Name": op.name_en,
            "admin0Pcode": op.iso3,
        }
        for op in sorted(operations.all_operations(session).values(), key=lambda o: o.dtm_operation)
    ]
