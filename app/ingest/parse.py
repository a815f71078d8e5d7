"""Turn what people post into canonical rows of text (one dict per row, with `line`).

JSON rows, the documented long CSV format (an HXL tag row is accepted), and the DTM Libya
XLSX layouts: the migrant baseline (R54) and the IDP and returnee baseline. Values stay
text here; the staging table's checks judge them, so every problem is reported at once.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pandas as pd

from app.errors import DtmGeoError
from app.loaders import dtm_r54
from app.loaders.dtm_r54 import NATIONALITY_NAMES


class LayoutError(DtmGeoError):
    """The file cannot be read, or its sheets or columns are not the expected ones."""


# Rows read from a workbook carry, under this key, where each of their fields came from
# (sheet and column), so that an error can name the cell as the person who posts sees it.
CELLS = "_cells"


def _cells(sheet: str, columns: dict[str, str | None]) -> dict[str, str]:
    return {
        field: f"sheet '{sheet.strip()}', column '{header}'"
        for field, header in columns.items()
        if header
    }


# Accepted names for each canonical column (case-insensitive).
ALIASES = {
    "round": ("round", "round_code", "round_number", "assessmentround"),
    "pcode": ("pcode", "admin_pcode", "adm_pcode", "admin2_pcode", "admin1_pcode"),
    "name": ("name", "admin_name", "area", "area_name"),
    "level": ("level", "admin_level"),
    "population_type": ("population_type", "population", "type"),
    "reason": ("reason", "displacement_reason"),
    "individuals": ("individuals", "ind", "count", "value"),
    "households": ("households", "hh"),
    "males": ("males", "male"),
    "females": ("females", "female"),
    "origin_pcode": ("origin_pcode", "origin"),
    "destination_pcode": ("destination_pcode", "destination", "dest"),
    "nationality": ("nationality",),
}
REQUIRED = {
    "observations": (("pcode", "name"), ("population_type",), ("individuals",)),
    "flows": (("origin_pcode",), ("destination_pcode",), ("population_type",), ("individuals",)),
    "nationalities": (("pcode", "name"), ("nationality",), ("individuals",)),
}


def _text(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, bool):
        return str(value).lower()  # reported as 'is not a number' where a count is due
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _canonical(header: list[str]) -> dict[str, str]:
    """{source column: canonical column} for the columns we know."""
    lookup = {alias: canon for canon, aliases in ALIASES.items() for alias in aliases}
    return {h: lookup[h.strip().lower()] for h in header if h and h.strip().lower() in lookup}


def _check_columns(dataset: str, present: set[str], where: str) -> None:
    for options in REQUIRED[dataset]:
        if not present & set(options):
            raise LayoutError(f"{where}: expected a column named {' or '.join(options)}")


def json_rows(dataset: str, rows: list) -> Iterator[dict]:
    for i, item in enumerate(rows, start=1):
        if not isinstance(item, dict):
            raise LayoutError(f"rows[{i - 1}]: expected an object with named fields")
        mapping = _canonical(list(item))
        yield {"line": i, **{mapping[k]: _text(v) for k, v in item.items() if k in mapping}}


def csv_rows(dataset: str, data: bytes) -> Iterator[dict]:
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LayoutError("the CSV is not UTF-8 text") from None
    reader = csv.reader(io.StringIO(content))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise LayoutError(f"CSV header (line 1): {exc}") from None
    if not header:
        raise LayoutError("the CSV is empty: expected a header row")
    mapping = _canonical(header)
    named = [mapping[h] for h in header if h in mapping]
    twice = sorted({c for c in named if named.count(c) > 1})
    if twice:
        raise LayoutError(f"the CSV header names {', '.join(twice)} more than once")
    _check_columns(dataset, set(mapping.values()), "CSV header")
    index = {i: mapping[h] for i, h in enumerate(header) if h in mapping}
    try:
        for line, record in enumerate(reader, start=2):
            cells = [cell.strip() for cell in record if cell.strip()]
            if line == 2 and cells and all(cell.startswith("#") for cell in cells):
                continue  # HXL hashtag row
            if not cells:
                continue
            yield {
                "line": line,
                **{col: record[i].strip() for i, col in index.items() if i < len(record)},
            }
    except csv.Error as exc:
        raise LayoutError(f"CSV line {reader.line_num}: {exc}") from None


# --- XLSX ------------------------------------------------------------------------------

IDP_RETURNEE_COLUMNS = {
    "pcode": re.compile(r"baladiya\s*p\s*-?\s*code", re.I),
    "round": re.compile(r"assessment\s*round", re.I),
    ("idp", "individuals"): re.compile(r"^idps?\s*\(?\s*ind", re.I),
    ("idp", "households"): re.compile(r"^idps?\s*\(?\s*(hh|households)", re.I),
    ("returnee", "individuals"): re.compile(r"^returnees?\s*\(?\s*ind", re.I),
    ("returnee", "households"): re.compile(r"^returnees?\s*\(?\s*(hh|households)", re.I),
}
EXPECTED_LAYOUTS = (
    "expected the DTM Libya migrant baseline layout (sheet 'Baladiya Main' with columns "
    "'Baladiya PCode' and 'Migrants (IND)', header on row 2) or the IDP and returnee baseline "
    "layout (a sheet with 'Baladiya PCode' and 'IDPs (IND)' and/or 'Returnees (IND)' columns, "
    "optionally 'IDPs (HH)', 'Returnees (HH)', 'AssessmentRound', header within the first 5 rows)"
)


def xlsx_datasets(data: bytes) -> dict[str, list[dict]]:
    """{'observations': rows, 'nationalities': rows?} from a DTM Libya workbook."""
    try:
        book = pd.ExcelFile(io.BytesIO(data), engine="openpyxl")
    except Exception as exc:  # openpyxl raises several types for a file that is not xlsx
        raise LayoutError(f"not a readable XLSX workbook ({type(exc).__name__})") from None
    with book:
        sheets = {name.strip().lower(): name for name in book.sheet_names}
        if dtm_r54.BALADIYA_SHEET.strip().lower() in sheets:
            return _migrant_baseline(book, sheets)
        for name in book.sheet_names:
            found = _idp_returnee_sheet(book, name)
            if found is not None:
                return {"observations": found}
    raise LayoutError(f"no sheet has a known layout: {EXPECTED_LAYOUTS}")


def _migrant_baseline(book: pd.ExcelFile, sheets: dict[str, str]) -> dict[str, list[dict]]:
    sheet = sheets[dtm_r54.BALADIYA_SHEET.strip().lower()]
    frame = pd.read_excel(book, sheet_name=sheet, header=dtm_r54.BALADIYA_HEADER_ROW - 1)
    for column in ("Baladiya PCode", "Migrants (IND)"):
        if column not in frame.columns:
            raise LayoutError(
                f"sheet '{sheet.strip()}': expected a column '{column}' on row "
                f"{dtm_r54.BALADIYA_HEADER_ROW}"
            )
    observations = []
    for offset, r in enumerate(frame.to_dict("records")):
        if all(_text(v) == "" for v in r.values()):
            continue
        observations.append(
            {
                "line": dtm_r54.BALADIYA_HEADER_ROW + 1 + offset,
                "pcode": _text(r["Baladiya PCode"]),
                "level": "2",
                "round": _text(r.get("AssessmentRound")),
                "population_type": "migrant",
                "individuals": _text(r["Migrants (IND)"]),
                CELLS: _cells(
                    sheet,
                    {
                        "pcode": "Baladiya PCode",
                        "round": "AssessmentRound",
                        "individuals": "Migrants (IND)",
                    },
                ),
            }
        )
    result = {"observations": observations}
    nat_sheet = sheets.get(dtm_r54.NATIONALITY_SHEET.lower())
    if nat_sheet:
        result["nationalities"] = _nationalities(book, nat_sheet)
    return result


def _nationalities(book: pd.ExcelFile, sheet: str) -> list[dict]:
    """Muhalla x nationality aggregated to baladiya (a muhalla pcode starts with it)."""
    frame = pd.read_excel(book, sheet_name=sheet)
    for column in dtm_r54.NATIONALITY_COLUMNS:
        if column not in frame.columns:
            raise LayoutError(f"sheet '{sheet}': expected a column '{column}' on row 1")
    cells = _cells(
        sheet,
        {
            "pcode": "Muhalla P Code",
            "nationality": "Migrant Nationality",
            "individuals": "Migrant Individuals",
        },
    )
    totals: dict[tuple[str, str], list] = {}
    problems = []
    for offset, r in enumerate(frame.to_dict("records")):
        muhalla, count = _text(r["Muhalla P Code"]), _text(r["Migrant Individuals"])
        nationality = _text(r["Migrant Nationality"])
        key = (muhalla[:8], NATIONALITY_NAMES.get(nationality, nationality))
        if not re.fullmatch(r"[0-9]+", count):
            problems.append(
                {
                    "line": 2 + offset,
                    "pcode": muhalla[:8],
                    "level": "2",
                    "nationality": key[1],
                    "individuals": count,
                    CELLS: cells,
                }
            )
            continue
        entry = totals.setdefault(key, [2 + offset, 0])
        entry[1] += int(count)
    # A key with a bad cell is reported by that cell alone (the file is refused anyway),
    # not also as a duplicate of its other rows' total.
    bad = {(p["pcode"], p["nationality"]) for p in problems}
    rows = [
        {
            "line": line,
            "pcode": pcode,
            "level": "2",
            "nationality": nat,
            "individuals": str(total),
            CELLS: cells,
        }
        for (pcode, nat), (line, total) in totals.items()
        if (pcode, nat) not in bad
    ]
    return sorted(rows + problems, key=lambda r: r["line"])


def _idp_returnee_sheet(book: pd.ExcelFile, sheet: str) -> list[dict] | None:
    preview = pd.read_excel(book, sheet_name=sheet, header=None, nrows=5)
    for header_index in range(len(preview)):
        labels = [_text(v) for v in preview.iloc[header_index]]
        found = {}
        for key, pattern in IDP_RETURNEE_COLUMNS.items():
            for position, label in enumerate(labels):
                if pattern.search(label):
                    found[key] = position
                    break
        counts = [k for k in found if isinstance(k, tuple) and k[1] == "individuals"]
        if "pcode" in found and counts:
            frame = pd.read_excel(book, sheet_name=sheet, header=None, skiprows=header_index + 1)
            label = {key: labels[position] for key, position in found.items()}
            rows = []
            for offset, values in enumerate(frame.itertuples(index=False)):
                if all(_text(v) == "" for v in values):
                    continue
                line = header_index + 2 + offset
                for population_type in ("idp", "returnee"):
                    if (population_type, "individuals") not in found:
                        continue
                    households = found.get((population_type, "households"))
                    figures = [values[found[(population_type, "individuals")]]]
                    if households is not None:
                        figures.append(values[households])
                    if all(_text(v) == "" for v in figures):
                        continue  # no figure of this population type on this row
                    rows.append(
                        {
                            "line": line,
                            "pcode": _text(values[found["pcode"]]),
                            "level": "2",
                            "round": _text(values[found["round"]]) if "round" in found else "",
                            "population_type": population_type,
                            "individuals": _text(values[found[(population_type, "individuals")]]),
                            "households": _text(values[households])
                            if households is not None
                            else "",
                            CELLS: _cells(
                                sheet,
                                {
                                    "pcode": label["pcode"],
                                    "round": label.get("round"),
                                    "individuals": label[(population_type, "individuals")],
                                    "households": label.get((population_type, "households")),
                                },
                            ),
                        }
                    )
            return rows
    return None
