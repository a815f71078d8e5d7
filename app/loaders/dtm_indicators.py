"""Indicators of the baseline-assessment workbook's detail sheets, as published.

- `IDPs - Details` and `Returnees - Details`, per muhalla: shelter settings (households
  and individuals), reasons for leaving, coming, returning and not returning (Yes/No),
  relations with the host community, priority needs and their problems (text).
- `Access to services (Baladiya)`, per baladiya: education, health, WASH, food,
  security, NFI and livelihood (percentages, counts, Yes/No and text as published).

Each column becomes an indicator named by its header (lower case, `_` between words,
e.g. `in_informal_camp_setting_hh`) under the topic of the group header above it. Units:
`households` / `individuals` for headers ending (HH) / (IND); `flag` (1 yes, 0 no) for
Yes/No columns; `percent` for headers starting with %; `count` for other numbers; `text`
otherwise. A blank cell is no value (nothing stored), never a zero.
"""

from __future__ import annotations

import re
from typing import Any

from app.errors import LoadError

SHEETS = {
    # sheet -> (population type, area pcode column, level of its areas)
    "IDPs - Details": ("idp", "Muhalla_pcode", 3),
    "Returnees - Details": ("returnee", "Muhalla_pcode", 3),
    "Access to services (Baladiya)": (None, "Baladiya PCode", 2),
}
HEADER_ROW = 2  # row 1 holds the topics (merged cells), row 2 the column names
GENERAL = "General Info"
# columns of the general block that are the area's description, not indicators
SKIP = {
    "ADM1_Region_EN",
    "ADM2_Mantika_EN",
    "ADM3_Baladiya_EN",
    "ADM4_Muhalla_EN",
    "ADM4_Muhalla_AR",
    "Muhalla_pcode",
    "Latitude",
    "Longitude",
    "AssessmentRound",
    "ADM 1 Geodivision (EN)",
    "ADM 1 Geodivision (AR)",
    "ADM 2 Mantika-Region (EN)",
    "ADM 2 Mantika-Region (AR)",
    "ADM 3 Baladiya-Area (EN)",
    "ADM 3 Baladiya-Area (AR)",
    "Baladiya PCode",
    "Lat",
    "Long",
    "IDPs in Muhalla",
    "Returnees in Muhalla",
    "IDP HH",
    "IDP Indiv",
    "Returnee HH",
    "Returnee Indiv",
}
FLAGS = {"yes": 1, "no": 0}


def slug(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower().replace("'", "")).strip("_")


def _unit(header: str, values: list[Any]) -> str:
    text = header.strip()
    if re.search(r"\(HH\)'?$", text, re.I):
        return "households"
    if re.search(r"\(IND\)'?$", text, re.I):
        return "individuals"
    present = [v for v in values if v is not None and str(v).strip() != ""]
    if present and all(str(v).strip().lower() in FLAGS for v in present):
        return "flag"
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "percent" if text.startswith("%") else "count"
    return "text"


def indicator_rows(
    book, name: str, round_code: str, known_areas: set[str], source: str
) -> list[dict]:
    """Indicator rows of every detail sheet present (round ids filled in by the caller)."""
    rows: list[dict] = []
    for sheet_name, (population_type, pcode_column, _level) in SHEETS.items():
        if sheet_name not in book.sheetnames:
            continue
        where = f"{name} [{sheet_name}]"
        data = list(book[sheet_name].iter_rows(values_only=True))
        if len(data) < HEADER_ROW:
            raise LoadError(where, "the sheet has no header row", row=HEADER_ROW)
        topics, headers = data[0], data[1]
        topic = GENERAL
        columns = []
        for i, header in enumerate(headers):
            if i < len(topics) and topics[i] not in (None, ""):
                topic = str(topics[i]).strip()
            if header is None or str(header).strip() in SKIP:
                continue
            columns.append((i, str(header).strip(), topic))
        names = [str(h).strip() if h is not None else "" for h in headers]
        if pcode_column not in names:
            raise LoadError(
                where, f"expected column '{pcode_column}'", row=HEADER_ROW, field=pcode_column
            )
        at = names.index(pcode_column)
        body = [
            (line, r)
            for line, r in enumerate(data[HEADER_ROW:], start=HEADER_ROW + 1)
            if any(v is not None for v in r)
        ]
        seen: dict[str, int] = {}
        for line, r in body:
            pcode = str(r[at] or "").strip()
            if pcode not in known_areas:
                raise LoadError(
                    where, f"unknown area pcode '{pcode}'", row=line, field=pcode_column
                )
            if pcode in seen:
                raise LoadError(
                    where,
                    f"duplicate area {pcode} (first on row {seen[pcode]})",
                    row=line,
                    field=pcode_column,
                )
            seen[pcode] = line
        for i, header, topic in columns:
            values = [r[i] if i < len(r) else None for _, r in body]
            unit = _unit(header, values)
            indicator = slug(header)
            for (line, r), value in zip(body, values, strict=True):
                if value is None or str(value).strip() == "":
                    continue
                number, text = _value(value, unit, where, line, header)
                rows.append(
                    {
                        "round_code": round_code,
                        "pcode": str(r[at]).strip(),
                        "population_type": population_type,
                        "topic": topic,
                        "indicator": indicator,
                        "value": number,
                        "text_value": text,
                        "unit": unit,
                        "source": source,
                        "quality": "published",
                    }
                )
    return _unique(rows)


def _value(value: Any, unit: str, where: str, line: int, header: str):
    if unit == "flag":
        return FLAGS[str(value).strip().lower()], None
    if unit == "text":
        return None, str(value).strip()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LoadError(where, f"'{value}' is not a number", row=line, field=header)
    if value < 0:
        raise LoadError(where, f"{value} is negative", row=line, field=header)
    if unit in ("households", "individuals") and value != int(value):
        raise LoadError(where, f"{value} is not a whole number", row=line, field=header)
    return value, None


def _unique(rows: list[dict]) -> list[dict]:
    """Two columns of one sheet may share a slug (e.g. `Need1/Problem1` repeated): keep
    the first, as the natural key asks."""
    out: dict[tuple, dict] = {}
    for r in rows:
        out.setdefault((r["round_code"], r["pcode"], r["population_type"], r["indicator"]), r)
    return list(out.values())
