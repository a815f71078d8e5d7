"""Population denominators: OCHA Libya HNO 2021 resident population per baladiya."""

from __future__ import annotations

from pathlib import Path

from app.errors import LoadError
from app.loaders.sources import count, first_line, read_csv

FILE = "ocha_hno2021_population_via_cara/ocha_hno2021_resident_population_by_baladiya.csv"
SOURCE = "OCHA Libya HNO 2021 (via HDX; transcribed by CARA-libya)"
DEFINITION = "resident population: non-displaced plus returnees (IDPs, migrants, refugees excluded)"


def population_rows(data_dir: Path, known_baladiyas: set[str]) -> list[dict]:
    frame = read_csv(data_dir / FILE, FILE, ["adm3_pcode", "resident_population_2021", "year"])
    rows, seen = [], set()
    for line, r in enumerate(frame.to_dict("records"), start=first_line(frame)):
        pcode = r["adm3_pcode"].strip()
        if pcode not in known_baladiyas:
            raise LoadError(FILE, f"unknown baladiya pcode {pcode!r}", row=line, field="adm3_pcode")
        if pcode in seen:
            raise LoadError(FILE, f"duplicate baladiya {pcode}", row=line, field="adm3_pcode")
        seen.add(pcode)
        rows.append(
            {
                "pcode": pcode,
                "year": count(r["year"], FILE, line, "year"),
                "source": SOURCE,
                "population": count(
                    r["resident_population_2021"], FILE, line, "resident_population_2021"
                ),
                "definition": DEFINITION,
                "quality": "published",
            }
        )
    return rows
