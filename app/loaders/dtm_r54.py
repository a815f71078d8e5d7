"""The IOM DTM Libya Migrants Baseline Assessment, Round 54, read from its published XLSX.

The `Baladiya Main ` sheet (trailing space as published) gives migrants per baladiya;
the `Nationalities` sheet gives muhalla x nationality, aggregated here to baladiya
(a muhalla pcode starts with its baladiya's pcode).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from app.errors import LoadError
from app.loaders.sources import count
from app.names import match_key

if TYPE_CHECKING:  # pandas loads when a workbook is read, not with the API's modules
    import pandas as pd

FILE = "dtm_libya_r54_migrants/DTM_Libya_R54_Migrant_Dataset_PUBLIC.xlsx"
ROUND_CODE = "R54"
SOURCE = "IOM DTM Libya, Migrants Baseline Assessment Round 54 (public dataset)"
SOURCE_URL = "https://dtm.iom.int/datasets/libya-migrants-baseline-assessment-round-54"
PROVIDER = "IOM DTM Libya R54"

BALADIYA_SHEET = "Baladiya Main "
BALADIYA_HEADER_ROW = 2  # the sheet's second row holds the column names
BALADIYA_COLUMNS = {
    "Baladiya PCode": "pcode",
    "ADM 3 Baladiya-Area (EN)": "name_en",
    "ADM 3 Baladiya-Area (AR)": "name_ar",
    "ADM 2 Mantika-Region (EN)": "mantika_en",
    "ADM 2 Mantika-Region (AR)": "mantika_ar",
    "AssessmentRound": "round",
    "Migrants (IND)": "individuals",
}
NATIONALITY_SHEET = "Nationalities"
NATIONALITY_COLUMNS = {
    "Muhalla P Code": "muhalla_pcode",
    "Migrant Nationality": "nationality",
    "Migrant Individuals": "individuals",
}
# The dataset writes some nationalities without spaces; normalised English names here.
NATIONALITY_NAMES = {
    "BurkinaFaso": "Burkina Faso",
    "CôtedIvoire": "Côte d'Ivoire",
    "SouthSudan": "South Sudan",
    "Unkown": "Unknown",
}


def _sheet(book: pd.ExcelFile, sheet: str, header_row: int, columns: dict) -> pd.DataFrame:
    if sheet not in book.sheet_names:
        raise LoadError(FILE, f"expected a sheet named '{sheet}'; found {book.sheet_names}")
    import pandas as pd

    frame = pd.read_excel(book, sheet_name=sheet, header=header_row - 1)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise LoadError(
            f"{FILE} [{sheet.strip()}]",
            f"expected column '{missing[0]}'",
            row=header_row,
            field=missing[0],
        )
    frame = frame[list(columns)].rename(columns=columns)
    return frame.dropna(how="all")


def r54_rows(data_dir: Path, known_baladiyas: set[str]) -> dict[str, list[dict]]:
    """Observation, nationality and provider-name rows (round ids filled in by the caller)."""
    path = data_dir / FILE
    if not path.exists():
        raise LoadError(FILE, "file not found in the data directory")
    try:
        import pandas as pd

        book = pd.ExcelFile(path, engine="openpyxl")
    except Exception as exc:  # openpyxl raises zipfile, KeyError, ValueError... for bad files
        raise LoadError(FILE, f"not a readable XLSX workbook ({type(exc).__name__})") from None
    with book:
        baladiyas = _sheet(book, BALADIYA_SHEET, BALADIYA_HEADER_ROW, BALADIYA_COLUMNS)
        nationalities = _sheet(book, NATIONALITY_SHEET, 1, NATIONALITY_COLUMNS)
    return {
        "observations": _observations(baladiyas, known_baladiyas),
        "admin_area_names": _provider_names(baladiyas),
        "migrant_nationalities": _nationalities(nationalities, known_baladiyas),
    }


def _observations(frame: pd.DataFrame, known: set[str]) -> list[dict]:
    where = f"{FILE} [{BALADIYA_SHEET.strip()}]"
    rows, seen = [], set()
    for offset, r in enumerate(frame.itertuples(index=False)):
        line = BALADIYA_HEADER_ROW + 1 + offset
        if r.pcode not in known:
            raise LoadError(
                where, f"unknown baladiya pcode {r.pcode!r}", row=line, field="Baladiya PCode"
            )
        if r.pcode in seen:
            raise LoadError(
                where, f"duplicate baladiya {r.pcode}", row=line, field="Baladiya PCode"
            )
        seen.add(r.pcode)
        if count(r.round, where, line, "AssessmentRound") != 54:
            raise LoadError(where, f"round {r.round} is not 54", row=line, field="AssessmentRound")
        rows.append(
            {
                "round_code": ROUND_CODE,
                "pcode": r.pcode,
                "population_type": "migrant",
                "displacement_reason": None,
                "individuals": count(r.individuals, where, line, "Migrants (IND)"),
                "households": None,
                "males": None,
                "females": None,
                "source": SOURCE,
                "source_url": SOURCE_URL,
                "quality": "published",
            }
        )
    return rows


def _provider_names(frame: pd.DataFrame) -> list[dict]:
    """DTM's own spellings, kept beside OCHA's for matching (baladiya and mantika)."""
    rows = {}
    for r in frame.itertuples(index=False):
        for pcode, name, lang in (
            (r.pcode, r.name_en, "en"),
            (r.pcode, r.name_ar, "ar"),
            (r.pcode[:6], r.mantika_en, "en"),
            (r.pcode[:6], r.mantika_ar, "ar"),
        ):
            rows[(pcode, lang, name)] = {
                "pcode": pcode,
                "name": str(name).strip(),
                "lang": lang,
                "kind": "provider",
                "provider": PROVIDER,
                "match_key": match_key(str(name)),
            }
    return list(rows.values())


def _nationalities(frame: pd.DataFrame, known: set[str]) -> list[dict]:
    where = f"{FILE} [{NATIONALITY_SHEET}]"
    totals: dict[tuple[str, str, str], int] = {}
    for offset, r in enumerate(frame.itertuples(index=False)):
        line = 2 + offset
        baladiya = str(r.muhalla_pcode)[:8]
        if baladiya not in known:
            raise LoadError(
                where,
                f"muhalla pcode {r.muhalla_pcode!r} is in no known baladiya",
                row=line,
                field="Muhalla P Code",
            )
        provider = str(r.nationality).strip()
        if not provider or provider == "nan":
            raise LoadError(where, "nationality is empty", row=line, field="Migrant Nationality")
        key = (baladiya, NATIONALITY_NAMES.get(provider, provider), provider)
        totals[key] = totals.get(key, 0) + count(r.individuals, where, line, "Migrant Individuals")
    return [
        {
            "round_code": ROUND_CODE,
            "pcode": pcode,
            "nationality": nationality,
            "nationality_provider": provider,
            "individuals": n,
            "source": SOURCE,
            "quality": "published",
        }
        for (pcode, nationality, provider), n in sorted(totals.items())
    ]


MUHALLA_SHEET = "Muhalla Main"
MUHALLA_HEADER_ROW = 2


def muhalla_names(data_dir: Path) -> dict[str, tuple[str, str]]:
    """{muhalla pcode: (English, Arabic name)} as Round 54's `Muhalla Main` spells them,
    for reconciling with other rounds' muhallas (app.loaders.dtm_r39)."""
    import openpyxl

    path = data_dir / FILE
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise LoadError(FILE, f"not a readable XLSX workbook ({type(exc).__name__})") from None
    try:
        if MUHALLA_SHEET not in book.sheetnames:
            raise LoadError(FILE, f"expected a sheet named '{MUHALLA_SHEET}'")
        rows = book[MUHALLA_SHEET].iter_rows(min_row=MUHALLA_HEADER_ROW, values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows)]
        wanted = ("Muhalla_pcode", "ADM4_Muhalla_EN", "ADM4_Muhalla_AR")
        for column in wanted:
            if column not in header:
                raise LoadError(
                    f"{FILE} [{MUHALLA_SHEET}]",
                    f"expected column '{column}'",
                    row=MUHALLA_HEADER_ROW,
                    field=column,
                )
        at = [header.index(c) for c in wanted]
        names = {}
        for values in rows:
            pcode = str(values[at[0]] or "").strip()
            if pcode:
                names[pcode] = tuple(str(values[i] or "").strip() for i in at[1:])
        return names
    finally:
        book.close()
