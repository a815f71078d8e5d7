"""IOM DTM Libya's IDP and Returnee Baseline Assessment workbook (Round 39 as published on
HDX), read per muhalla: DTM's admin 3, the community under the baladiya.

Sheets read:
- `IDPs_Returnees`: one row per muhalla (a header row, then the file's HXL row): names,
  `Muhalla_pcode` (10 characters, its first 8 the baladiya's pcode), coordinates where
  DTM gives them, IDP and returnee households and individuals. A blank IDP count where
  `IDPs in Muhalla` is `No` is read as the published zero it stands for.
- `Summary`: the previous round's national totals (the `R38` column), read as the cached
  values the workbook holds (some cells are formulas), never recomputed.
- `IDPs - Details`, `Returnees - Details`, `Access to services (Baladiya)`: indicators
  (app.loaders.dtm_indicators).

Every check names sheet, row and column; nothing is written unless all rows pass. The
same reader serves the default data set and the ingest endpoints (a Round 40 in the same
layout), so a posted workbook is held to the same rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import Point

from app.errors import LoadError
from app.loaders import dtm_indicators
from app.names import match_key

FILE = "dtm_libya_r39_idps_returnees/hdx_dtm-libya-r39-public-idps-returnees-dataset.xlsx"
ROUND_CODE = "R39"
SOURCE = "IOM DTM Libya, IDP and Returnee Baseline Assessment Round 39 (public dataset, HDX)"
SOURCE_URL = (
    "https://data.humdata.org/dataset/89d609ef-b8c0-47b5-91a6-fe29af7d147c/resource/"
    "d4d1ef14-8e39-4828-a7ea-bc323e4ca013/download/hdx_dtm-libya-r39-public-idps-returnees-"
    "dataset.xlsx"
)
PROVIDER = "IOM DTM Libya R39"
GEOM_SOURCE = "IOM DTM Libya R39 muhalla coordinates (point as published)"
NO_GEOM_SOURCE = "none: DTM publishes no coordinates for this muhalla"

SHEET = "IDPs_Returnees"
SUMMARY = "Summary"
# header -> (field, HXL tag as published)
COLUMNS = {
    "ADM3_Baladiya_EN": ("baladiya_en", "#adm3+name"),
    "ADM4_Muhalla_EN": ("name_en", "#adm4+name"),
    "ADM4_Muhalla_AR": ("name_ar", "#adm4+name+i_ar"),
    "Muhalla_pcode": ("pcode", "#adm4+code"),
    "Latitude": ("lat", "#geo+lat"),
    "Longitude": ("lon", "#geo+lon"),
    "AssessmentRound": ("round", "#meta+round"),
    "IDPs in Muhalla": ("idps_present", None),
    "IDP HH": ("idp_hh", "#affected+idps+hh"),
    "IDP Indiv": ("idp_ind", "#affected+idps+ind"),
    "Returnees in Muhalla": ("returnees_present", None),
    "Returnee HH": ("returnee_hh", "#affected+returnees+hh"),
    "Returnee Indiv": ("returnee_ind", "#affected+returnees+ind"),
}
OPTIONAL = {"Date Reported": "reported"}
PCODE = re.compile(r"^LY\d{8}$")
# Libya's extent, with a margin: a coordinate outside it is a typo, not a place
LON_RANGE, LAT_RANGE = (9.0, 26.0), (19.0, 34.0)


@dataclass
class Muhalla:
    row: int
    pcode: str
    name_en: str
    name_ar: str
    baladiya_en: str
    lon: float | None
    lat: float | None
    counts: dict[str, tuple[int, int]]  # population type -> (households, individuals)
    reported: date | None


@dataclass
class Workbook:
    """What a baseline-assessment workbook holds, validated."""

    round_number: int
    muhallas: list[Muhalla]
    previous_round: int | None = None
    previous_totals: dict[str, int] = field(default_factory=dict)  # type -> individuals
    summary_totals: dict[str, int] = field(default_factory=dict)  # this round, as published
    notes: list[str] = field(default_factory=list)


def open_workbook(path: Path, name: str):
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile, KeyError, ValueError... for a corrupt file
        raise LoadError(name, f"not a readable XLSX workbook ({type(exc).__name__})") from None


def is_baseline_workbook(sheet_names: list[str]) -> bool:
    return SHEET in sheet_names


def read_workbook(
    book, name: str, baladiyas: dict[str, set[str]] | None, round_number: int | None = None
) -> Workbook:
    """Validate and read the workbook. `baladiyas` maps each known baladiya pcode to the
    match keys of its names (None: taken from the sheet itself, each baladiya name's pcode
    being the prefix most of its muhallas share); `round_number`, when given, is the round
    every row must be."""
    if SHEET not in book.sheetnames:
        raise LoadError(name, f"expected a sheet named '{SHEET}'; found {book.sheetnames}")
    if baladiyas is None:
        baladiyas = _baladiyas_of_sheet(book[SHEET])
    muhallas, number = _muhallas(book[SHEET], f"{name} [{SHEET}]", baladiyas, round_number)
    result = Workbook(number, muhallas)
    if SUMMARY in book.sheetnames:
        _summary(book[SUMMARY], f"{name} [{SUMMARY}]", result)
    return result


def _baladiyas_of_sheet(sheet) -> dict[str, set[str]]:
    from collections import Counter

    rows = sheet.iter_rows(values_only=True)
    header = [_text(h) for h in next(rows, ())]
    if "Muhalla_pcode" not in header or "ADM3_Baladiya_EN" not in header:
        return {}  # the full check names the missing column
    at_pcode, at_name = header.index("Muhalla_pcode"), header.index("ADM3_Baladiya_EN")
    prefixes: dict[str, Counter] = {}
    for values in rows:
        if max(at_pcode, at_name) >= len(values):
            continue
        pcode, name = _text(values[at_pcode]), _text(values[at_name])
        if PCODE.match(pcode) and name:
            prefixes.setdefault(match_key(name), Counter())[pcode[:8]] += 1
    out: dict[str, set[str]] = {}
    for key, counts in prefixes.items():
        out.setdefault(counts.most_common(1)[0][0], set()).add(key)
    return out


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _count(value: Any, where: str, row: int, column: str) -> int:
    if isinstance(value, bool) or value is None or _text(value) == "":
        raise LoadError(where, "value is empty, expected a whole number", row=row, field=column)
    if isinstance(value, int | float):
        number = value
    else:
        try:
            number = float(_text(value).replace(",", ""))
        except ValueError:
            raise LoadError(where, f"'{value}' is not a number", row=row, field=column) from None
    if number < 0 or number != int(number):
        raise LoadError(where, f"{value} is not a non-negative whole number", row=row, field=column)
    return int(number)


def _coordinate(value: Any, where: str, row: int, column: str, bounds) -> float | None:
    if value is None or _text(value) == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise LoadError(where, f"'{value}' is not a coordinate", row=row, field=column) from None
    if not bounds[0] <= number <= bounds[1]:
        raise LoadError(where, f"{value} lies outside Libya", row=row, field=column)
    return number


def _header(rows, where: str) -> tuple[dict[str, int], int]:
    """Column positions by header name; the first data row (after an HXL row if any)."""
    header = next(rows, None)
    if header is None:
        raise LoadError(where, "the sheet is empty", row=1)
    names = [_text(h) for h in header]
    positions = {n: i for i, n in enumerate(names) if n}
    for column in COLUMNS:
        if column not in positions:
            raise LoadError(where, f"expected column '{column}'", row=1, field=column)
    return positions, 2


def _muhallas(sheet, where: str, baladiyas: dict[str, set[str]], round_number: int | None):
    rows = sheet.iter_rows(values_only=True)
    positions, line = _header(rows, where)
    found: dict[str, int] = {}
    muhallas: list[Muhalla] = []
    number = round_number
    for values in rows:
        if values is None or all(v is None or _text(v) == "" for v in values):
            line += 1
            continue
        first = _text(values[0])
        if first.startswith("#"):  # the HXL row under the header
            for column, (_, tag) in COLUMNS.items():
                given = _text(values[positions[column]]) if positions[column] < len(values) else ""
                if tag and given and given.split("+")[0] != tag.split("+")[0]:
                    raise LoadError(
                        where,
                        f"HXL tag {given} under '{column}' (expected {tag}): columns moved?",
                        row=line,
                        field=column,
                    )
            line += 1
            continue
        cell = {
            f: (values[positions[c]] if positions[c] < len(values) else None)
            for c, (f, _) in COLUMNS.items()
        }
        muhallas.append(_muhalla(cell, values, positions, where, line, baladiyas, found))
        this_round = _count(cell["round"], where, line, "AssessmentRound")
        if number is None:
            number = this_round
        elif this_round != number:
            raise LoadError(
                where, f"round {this_round}, expected {number}", row=line, field="AssessmentRound"
            )
        line += 1
    if not muhallas:
        raise LoadError(where, "no muhalla rows")
    return muhallas, number


def _muhalla(cell, values, positions, where, line, baladiyas, found) -> Muhalla:
    pcode = _text(cell["pcode"])
    if not PCODE.match(pcode):
        raise LoadError(
            where,
            f"'{pcode}' is not a muhalla pcode (LY and 8 digits)",
            row=line,
            field="Muhalla_pcode",
        )
    if pcode in found:
        raise LoadError(
            where,
            f"duplicate muhalla {pcode} (first on row {found[pcode]})",
            row=line,
            field="Muhalla_pcode",
        )
    found[pcode] = line
    parent = pcode[:8]
    baladiya_en = _text(cell["baladiya_en"])
    if parent not in baladiyas:
        raise LoadError(
            where,
            f"muhalla pcode {pcode} starts with {parent}, which is no known baladiya",
            row=line,
            field="Muhalla_pcode",
        )
    if baladiya_en and match_key(baladiya_en) not in baladiyas[parent]:
        named = [p for p, keys in baladiyas.items() if match_key(baladiya_en) in keys]
        hint = f" (its baladiya '{baladiya_en}' is {named[0]})" if named else ""
        raise LoadError(
            where,
            f"muhalla pcode {pcode} does not start with the pcode of its baladiya "
            f"'{baladiya_en}'{hint}",
            row=line,
            field="Muhalla_pcode",
        )
    name_en, name_ar = _text(cell["name_en"]), _text(cell["name_ar"])
    if not name_en:
        raise LoadError(where, "muhalla name is empty", row=line, field="ADM4_Muhalla_EN")
    lat = _coordinate(cell["lat"], where, line, "Latitude", LAT_RANGE)
    lon = _coordinate(cell["lon"], where, line, "Longitude", LON_RANGE)
    if (lat is None) != (lon is None):
        column = "Latitude" if lat is None else "Longitude"
        raise LoadError(where, "one coordinate without the other", row=line, field=column)
    counts = {}
    for kind, present, hh, ind, hh_col, ind_col, present_col in (
        ("idp", "idps_present", "idp_hh", "idp_ind", "IDP HH", "IDP Indiv", "IDPs in Muhalla"),
        (
            "returnee",
            "returnees_present",
            "returnee_hh",
            "returnee_ind",
            "Returnee HH",
            "Returnee Indiv",
            "Returnees in Muhalla",
        ),
    ):
        absent = _text(cell[present]).lower() == "no"
        if absent and _text(cell[hh]) == "" and _text(cell[ind]) == "":
            counts[kind] = (0, 0)  # "No" with blank counts: none present, as published
            continue
        households = _count(cell[hh], where, line, hh_col)
        individuals = _count(cell[ind], where, line, ind_col)
        if households > individuals:
            raise LoadError(
                where,
                f"{households} households is more than {individuals} individuals",
                row=line,
                field=hh_col,
            )
        if absent and individuals:
            raise LoadError(
                where,
                f"'{present_col}' is No but {individuals} are counted",
                row=line,
                field=present_col,
            )
        counts[kind] = (households, individuals)
    reported = None
    if "Date Reported" in positions and positions["Date Reported"] < len(values):
        value = values[positions["Date Reported"]]
        reported = value.date() if isinstance(value, datetime) else None
    return Muhalla(
        line, pcode, name_en, name_ar or name_en, baladiya_en, lon, lat, counts, reported
    )


def _summary(sheet, where: str, result: Workbook) -> None:
    """The previous round's national totals: the row labelled 'IDPs Present' carries IDPs
    under the first round header and returnees under the second (as published)."""
    rows = list(sheet.iter_rows(min_row=1, max_row=40, values_only=True))
    for index, values in enumerate(rows):
        cells = [_text(v) for v in values]
        rounds = [(i, c) for i, c in enumerate(cells) if re.fullmatch(r"R\d+", c)]
        if len(rounds) < 2 or index + 1 >= len(rows):
            continue
        below = rows[index + 1]
        if _text(below[0]).lower() != "idps present":
            continue
        # IDPs: first pair of round headers; returnees: second pair
        pairs = [rounds[i : i + 2] for i in range(0, len(rounds), 2)]
        for kind, pair in zip(("idp", "returnee"), pairs, strict=False):
            if len(pair) < 2:
                continue
            (prev_col, prev), (this_col, this) = pair
            prev_n, this_n = int(prev[1:]), int(this[1:])
            if this_n != result.round_number:
                result.notes.append(
                    f"{where}: row {index + 1} names round {this}, not R{result.round_number}; "
                    "its totals were not read"
                )
                return
            result.previous_round = prev_n
            for column, target in ((prev_col, result.previous_totals), (this_col, None)):
                value = below[column] if column < len(below) else None
                if value is None:  # a formula without a cached value: nothing to read
                    result.notes.append(
                        f"{where}: row {index + 2}, column {column + 1} holds no value "
                        f"(a formula never calculated?): {kind} total not read"
                    )
                    continue
                number = _count(
                    value, where, index + 2, f"{kind} {prev if target is not None else this}"
                )
                if target is not None:
                    target[kind] = number
                else:
                    result.summary_totals[kind] = number
        return


def muhalla_rows(
    book: Workbook, round_code: str, regions: dict[str, str], source: str, source_url: str | None
) -> dict[str, list[dict]]:
    """admin_areas (level 3), names and observations rows for a read workbook."""
    areas, names, observations = [], [], []
    for m in book.muhallas:
        point = None if m.lon is None else from_shape(Point(m.lon, m.lat), srid=4326)
        areas.append(
            {
                "pcode": m.pcode,
                "level": 3,
                "parent_pcode": m.pcode[:8],
                "region_pcode": regions[m.pcode[:8]],
                "ocha_pcode": None,
                "ocha_level": None,
                "name_en": m.name_en,
                "name_ar": m.name_ar,
                "geom": point,
                "geom_source": GEOM_SOURCE if point is not None else NO_GEOM_SOURCE,
                "valid_on": m.reported,
            }
        )
        for name, lang in ((m.name_en, "en"), (m.name_ar, "ar")):
            if match_key(name):
                names.append(
                    {
                        "pcode": m.pcode,
                        "name": name,
                        "lang": lang,
                        "kind": "official",
                        "provider": PROVIDER,
                        "match_key": match_key(name),
                    }
                )
        for kind, (households, individuals) in m.counts.items():
            observations.append(
                {
                    "round_code": round_code,
                    "pcode": m.pcode,
                    "population_type": kind,
                    "displacement_reason": None,
                    "individuals": individuals,
                    "households": households,
                    "males": None,
                    "females": None,
                    "source": source,
                    "source_url": source_url,
                    "quality": "published",
                }
            )
    return {"admin_areas": areas, "admin_area_names": names, "observations": observations}


def previous_round_rows(
    book: Workbook, round_codes: dict[int, str], source: str, source_url: str | None
) -> list[dict]:
    """The Summary sheet's previous-round national totals, as published (individuals)."""
    code = round_codes.get(book.previous_round or -1)
    if code is None:
        if book.previous_totals:
            book.notes.append(
                f"the Summary sheet's R{book.previous_round} totals were not stored: "
                "no such round in the catalog"
            )
        return []
    return [
        {
            "round_code": code,
            "pcode": "LBY",
            "population_type": kind,
            "displacement_reason": None,
            "individuals": individuals,
            "households": None,
            "males": None,
            "females": None,
            "source": f"{source}, Summary sheet (R{book.previous_round} national total)",
            "source_url": source_url,
            "quality": "published",
        }
        for kind, individuals in sorted(book.previous_totals.items())
    ]


def default_rows(
    data_dir: Path,
    expected_sha256: str | None,
    baladiyas: dict[str, set[str]],
    regions: dict[str, str],
    round_codes: dict[int, str],
    other_spellings: dict[str, tuple[str, str]],
    other_provider: str,
) -> tuple[dict[str, list[dict]], list[str]]:
    """The default data set's Round 39: muhallas, their names (with another round's
    spellings kept as provider names), observations and Round 38's national totals; and
    notes for the load report (muhallas without coordinates, pcodes the rounds disagree on).
    """
    from app.loaders.sources import sha256

    path = data_dir / FILE
    if not path.exists():
        raise LoadError(FILE, "file not found in the data directory (run `dtm-geo data fetch`)")
    if expected_sha256 and (digest := sha256(path)) != expected_sha256:
        raise LoadError(
            FILE,
            f"sha256 {digest[:16]}... differs from the manifest's {expected_sha256[:16]}...: "
            "an altered or corrupt copy; nothing was loaded (delete it and run "
            "`dtm-geo data fetch`)",
        )
    book = open_workbook(path, FILE)
    try:
        read = read_workbook(book, FILE, baladiyas, round_number=39)
        known = {m.pcode for m in read.muhallas} | set(baladiyas)
        indicators = dtm_indicators.indicator_rows(book, FILE, ROUND_CODE, known, SOURCE)
    finally:
        book.close()
    rows = muhalla_rows(read, ROUND_CODE, regions, SOURCE, SOURCE_URL)
    rows["indicators"] = indicators
    rows["observations"] += previous_round_rows(read, round_codes, SOURCE, SOURCE_URL)
    notes = list(read.notes)
    for kind, published in sorted(read.summary_totals.items()):
        summed = sum(m.counts[kind][1] for m in read.muhallas)
        if summed != published:
            notes.append(
                f"R39 {kind}s: the muhallas add up to {summed:,}, the Summary sheet says "
                f"{published:,}"
            )
    missing = sorted(m.pcode for m in read.muhallas if m.lon is None)
    notes.append(
        f"R39: {len(read.muhallas)} muhallas; {len(missing)} without coordinates in the "
        f"workbook, stored without geometry: {', '.join(missing)}"
    )
    rows["admin_area_names"] += _spellings(read, other_spellings, other_provider)
    notes += reconcile(read, other_spellings, other_provider)
    return rows, notes


def _spellings(read: Workbook, other: dict[str, tuple[str, str]], provider: str) -> list[dict]:
    known = {m.pcode for m in read.muhallas}
    rows = []
    for pcode, (name_en, name_ar) in sorted(other.items()):
        if pcode not in known:
            continue
        for name, lang in ((name_en, "en"), (name_ar, "ar")):
            if name and match_key(name):
                rows.append(
                    {
                        "pcode": pcode,
                        "name": name,
                        "lang": lang,
                        "kind": "provider",
                        "provider": provider,
                        "match_key": match_key(name),
                    }
                )
    return rows


def reconcile(read: Workbook, other: dict[str, tuple[str, str]], provider: str) -> list[str]:
    """Pcodes one round has and the other lacks, and pcodes whose names differ in both
    languages (a different community under the same code, or a renaming)."""
    ours = {m.pcode: m for m in read.muhallas}
    only_ours = sorted(set(ours) - set(other))
    only_theirs = sorted(set(other) - set(ours))
    differ = sorted(
        p
        for p in set(ours) & set(other)
        if match_key(ours[p].name_en) != match_key(other[p][0])
        and match_key(ours[p].name_ar) != match_key(other[p][1])
    )
    spelled = sum(
        1
        for p in set(ours) & set(other)
        if match_key(ours[p].name_en) != match_key(other[p][0])
        or match_key(ours[p].name_ar) != match_key(other[p][1])
    )
    notes = [
        f"muhallas vs {provider}: {len(set(ours) & set(other))} pcodes in both "
        f"({spelled} spelled differently in one language; both spellings kept); "
        f"only in R{read.round_number}: {', '.join(only_ours) or 'none'}; "
        f"only in {provider}: {', '.join(only_theirs) or 'none'}"
    ]
    if differ:
        notes.append(
            f"muhalla pcodes named differently in R{read.round_number} and {provider} "
            "(both spellings kept): "
            + "; ".join(f"{p} '{ours[p].name_en}' / '{other[p][0]}'" for p in differ)
        )
    return notes
