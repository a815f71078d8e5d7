"""Turn what people post into canonical rows of text (one dict per row, with `line`).

JSON rows, the documented long CSV format (an HXL tag row is accepted), and the DTM Libya
XLSX layouts: the migrant baseline (R54) and the IDP and returnee baseline; and DTM Iraq's
IDP Master List. Values stay
text here; the staging table's checks judge them, so every problem is reported at once.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Iterator

from app.errors import DtmGeoError, LoadError
from app.ingest.limits import WorkbookLimits, check_workbook
from app.loaders import dtm_r39, dtm_r54, iraq_master_list
from app.loaders.dtm_r54 import NATIONALITY_NAMES
from app.settings import get_settings


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
    if value is None or (isinstance(value, float) and math.isnan(value)):
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
            if len(record) > len(header) and any(c.strip() for c in record[len(header) :]):
                # refused, not cut: a shifted row would put its values in the wrong columns
                raise LayoutError(
                    f"CSV line {line}: {len(record)} cells, but the header names "
                    f"{len(header)} columns (a cell with a comma needs quotes)"
                )
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
    ", or DTM Iraq's IDP Master List (sheet 'DTM Dataset' with 'Place id', 'Households' and "
    "'Individuals')"
)


def xlsx_datasets(data: bytes, limits: WorkbookLimits | None = None) -> dict[str, Iterable[dict]]:
    """{'observations': rows, 'nationalities': rows?} from a DTM Libya workbook.

    The layout is checked at once (LayoutError); observation rows are read as they are
    consumed, one at a time (openpyxl's read-only mode), so memory stays flat however long
    the sheet. A nationality sheet is read the same way and summed per baladiya and
    nationality at once. Before openpyxl opens it, the archive is checked against
    `limits` (default: the settings'; app.ingest.limits), so a zip bomb is never inflated.
    """
    import openpyxl  # on first use: not part of a worker's start

    check_workbook(data, limits or WorkbookLimits.from_settings(get_settings()))
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a file that is not xlsx
        raise LayoutError(f"not a readable XLSX workbook ({type(exc).__name__})") from None
    sheets = {name.strip().lower(): name for name in book.sheetnames}
    if dtm_r39.is_baseline_workbook(book.sheetnames):
        try:
            return {"observations": _muhalla_baseline(book)}
        finally:
            book.close()
    if dtm_r54.BALADIYA_SHEET.strip().lower() in sheets:
        return _migrant_baseline(book, sheets)
    if iraq_master_list.is_master_list(book.sheetnames):
        try:
            return {"observations": _master_list(book)}
        finally:
            book.close()
    for name in book.sheetnames:
        found = _idp_returnee_sheet(book, name)
        if found is not None:
            return {"observations": found}
    book.close()
    raise LayoutError(f"no sheet has a known layout: {EXPECTED_LAYOUTS}")


def _rows(book, sheet: str, first: int = 1, last: int | None = None) -> Iterator[tuple]:
    """(row number, cell values) of a sheet from row `first`, read lazily."""
    worksheet = book[sheet]
    worksheet.reset_dimensions()  # some writers record wrong dimensions; read every row
    try:
        yield from enumerate(
            worksheet.iter_rows(min_row=first, max_row=last, values_only=True), start=first
        )
    except Exception as exc:  # a damaged sheet found while streaming it
        raise LayoutError(
            f"sheet '{sheet.strip()}' cannot be read ({type(exc).__name__})"
        ) from None


def _header(book, sheet: str, row: int) -> dict[str, int]:
    """{column label: position} of a sheet's header row (the first of a repeated label)."""
    labels = next((values for _, values in _rows(book, sheet, row, row)), ())
    positions: dict[str, int] = {}
    for position, label in enumerate(labels):
        positions.setdefault(_text(label), position)
    return positions


# Cells pandas read as missing, as this module did before it streamed workbooks.
MISSING = frozenset(
    (
        *("#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN"),
        *("<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"),
    )
)


def _cell(values: tuple, position: int | None) -> str:
    """The text of a row's cell at `position` ('' when missing)."""
    value = values[position] if position is not None and position < len(values) else None
    text = _text(value)
    return "" if text in MISSING else text


def _migrant_baseline(book, sheets: dict[str, str]) -> dict[str, Iterable[dict]]:
    sheet = sheets[dtm_r54.BALADIYA_SHEET.strip().lower()]
    header = _header(book, sheet, dtm_r54.BALADIYA_HEADER_ROW)
    for column in ("Baladiya PCode", "Migrants (IND)"):
        if column not in header:
            raise LayoutError(
                f"sheet '{sheet.strip()}': expected a column '{column}' on row "
                f"{dtm_r54.BALADIYA_HEADER_ROW}"
            )
    nat_sheet = sheets.get(dtm_r54.NATIONALITY_SHEET.lower())
    nat_header = _header(book, nat_sheet, 1) if nat_sheet else {}
    for column in dtm_r54.NATIONALITY_COLUMNS if nat_sheet else ():
        if column not in nat_header:
            raise LayoutError(f"sheet '{nat_sheet}': expected a column '{column}' on row 1")
    cells = _cells(
        sheet,
        {"pcode": "Baladiya PCode", "round": "AssessmentRound", "individuals": "Migrants (IND)"},
    )

    def observations() -> Iterator[dict]:
        pcode, count = header["Baladiya PCode"], header["Migrants (IND)"]
        round_at = header.get("AssessmentRound")
        for line, values in _rows(book, sheet, dtm_r54.BALADIYA_HEADER_ROW + 1):
            if all(_text(v) == "" for v in values):
                continue
            yield {
                "line": line,
                "pcode": _cell(values, pcode),
                "level": "2",
                "round": _cell(values, round_at),
                "population_type": "migrant",
                "individuals": _cell(values, count),
                CELLS: cells,
            }

    result: dict[str, Iterable[dict]] = {"observations": observations()}
    if nat_sheet:
        # Summed now, before any transaction opens: reading a long sheet takes a while, and
        # its sums are small (baladiyas x nationalities).
        result["nationalities"] = _nationalities(book, nat_sheet, nat_header)
    return result


def _nationalities(book, sheet: str, header: dict[str, int]) -> list[dict]:
    """Muhalla x nationality summed to baladiya (a muhalla pcode starts with it)."""
    cells = _cells(
        sheet,
        {
            "pcode": "Muhalla P Code",
            "nationality": "Migrant Nationality",
            "individuals": "Migrant Individuals",
        },
    )
    where = [header[c] for c in ("Muhalla P Code", "Migrant Individuals", "Migrant Nationality")]
    totals: dict[tuple[str, str], list] = {}
    problems = []
    for line, values in _rows(book, sheet, 2):
        muhalla, count, nationality = (_cell(values, p) for p in where)
        if not (muhalla or count or nationality):
            continue
        key = (muhalla[:8], NATIONALITY_NAMES.get(nationality, nationality))
        if not re.fullmatch(r"[0-9]+", count):
            problems.append(
                {
                    "line": line,
                    "pcode": muhalla[:8],
                    "level": "2",
                    "nationality": key[1],
                    "individuals": count,
                    CELLS: cells,
                }
            )
            continue
        entry = totals.setdefault(key, [line, 0])
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


def _muhalla_baseline(book) -> list[dict]:
    """The IDP and returnee baseline workbook as DTM Libya publishes it (Round 39's layout:
    sheet 'IDPs_Returnees', one row per muhalla): validated whole with the default data
    set's reader, each muhalla's baladiya checked against the pcode prefix the other
    muhallas of the same baladiya share. Rows are muhalla (level 3) observations."""
    try:
        read = dtm_r39.read_workbook(book, "workbook", None)
    except LoadError as exc:
        where = f"sheet '{dtm_r39.SHEET}'"
        if exc.row is not None:
            where += f", row {exc.row}"
        if exc.field is not None:
            where += f", column '{exc.field}'"
        raise LayoutError(f"{where}: {exc.reason}") from None
    cells = {
        kind: _cells(
            dtm_r39.SHEET,
            {
                "pcode": "Muhalla_pcode",
                "round": "AssessmentRound",
                "individuals": "IDP Indiv" if kind == "idp" else "Returnee Indiv",
                "households": "IDP HH" if kind == "idp" else "Returnee HH",
            },
        )
        for kind in ("idp", "returnee")
    }
    return [
        {
            "line": m.row,
            "pcode": m.pcode,
            "level": "3",
            "round": str(read.round_number),
            "population_type": kind,
            "individuals": str(individuals),
            "households": str(households),
            CELLS: cells[kind],
        }
        for m in read.muhallas
        for kind, (households, individuals) in m.counts.items()
    ]


def _master_list(book) -> list[dict]:
    """DTM Iraq's IDP Master List (sheet 'DTM Dataset', one row per location): IDPs and
    households of each known location (level 4, pcode IQL + its Place id). New locations
    come with their coordinates through the default data's loader, not an upload."""
    try:
        records = iraq_master_list.read_sheet(book, "workbook")
    except LoadError as exc:
        raise LayoutError(exc.reason) from None
    headers = {v: k.replace("\n", " ") for k, v in iraq_master_list.COLUMNS.items()}
    cells = _cells(
        iraq_master_list.SHEET,
        {
            "pcode": headers["place_id"],
            "individuals": headers["individuals"],
            "households": headers["households"],
        },
    )
    return [
        {
            "line": r["line"],
            "pcode": f"{iraq_master_list.PCODE_PREFIX}{_text(r['place_id'])}",
            "level": str(iraq_master_list.LEVEL),
            "population_type": "idp",
            "individuals": _text(r["individuals"]),
            "households": _text(r["households"]),
            CELLS: cells,
        }
        for r in records
    ]


def _idp_returnee_sheet(book, sheet: str) -> Iterator[dict] | None:
    for header_row, values in _rows(book, sheet, 1, 5):
        labels = [_text(v) for v in values]
        found = {}
        for key, pattern in IDP_RETURNEE_COLUMNS.items():
            for position, label in enumerate(labels):
                if pattern.search(label):
                    found[key] = position
                    break
        counts = [k for k in found if isinstance(k, tuple) and k[1] == "individuals"]
        if "pcode" in found and counts:
            label = {key: labels[position] for key, position in found.items()}
            return _idp_returnee_rows(book, sheet, header_row, found, label)
    return None


def _idp_returnee_rows(book, sheet, header_row, found, label) -> Iterator[dict]:
    kinds = [t for t in ("idp", "returnee") if (t, "individuals") in found]
    cells = {
        kind: _cells(
            sheet,
            {
                "pcode": label["pcode"],
                "round": label.get("round"),
                "individuals": label[(kind, "individuals")],
                "households": label.get((kind, "households")),
            },
        )
        for kind in kinds
    }
    for line, values in _rows(book, sheet, header_row + 1):
        if all(_text(v) == "" for v in values):
            continue
        for population_type in kinds:
            individuals = _cell(values, found[(population_type, "individuals")])
            households = _cell(values, found.get((population_type, "households")))
            if individuals == "" and households == "":
                continue  # no figure of this population type on this row
            yield {
                "line": line,
                "pcode": _cell(values, found["pcode"]),
                "level": "2",
                "round": _cell(values, found.get("round")),
                "population_type": population_type,
                "individuals": individuals,
                "households": households,
                CELLS: cells[population_type],
            }
