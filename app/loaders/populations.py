"""Population denominators: OCHA Libya HNO 2021 resident population per baladiya.

The table is the project's own transcription in `data/published/` (CC BY 4.0, see its
README), read from the repository rather than the data directory."""

from __future__ import annotations

from pathlib import Path

from app.errors import LoadError
from app.loaders.figures import PUBLISHED_DIR
from app.loaders.sources import count, first_line, read_csv

FILE = "ocha_hno2021_resident_population_by_baladiya.csv"
LABEL = f"data/published/{FILE}"
SOURCE = "OCHA Libya HNO 2021 (via HDX; transcribed by CARA-libya)"
DEFINITION = "resident population: non-displaced plus returnees (IDPs, migrants, refugees excluded)"


def population_rows(known_baladiyas: set[str], published_dir: Path = PUBLISHED_DIR) -> list[dict]:
    columns = ["adm3_pcode", "resident_population_2021", "year"]
    frame = read_csv(published_dir / FILE, LABEL, columns)
    rows, seen = [], set()
    for line, r in enumerate(frame.to_dict("records"), start=first_line(frame)):
        pcode = r["adm3_pcode"].strip()
        if pcode not in known_baladiyas:
            raise LoadError(
                LABEL, f"unknown baladiya pcode {pcode!r}", row=line, field="adm3_pcode"
            )
        if pcode in seen:
            raise LoadError(LABEL, f"duplicate baladiya {pcode}", row=line, field="adm3_pcode")
        seen.add(pcode)
        rows.append(
            {
                "pcode": pcode,
                "year": count(r["year"], LABEL, line, "year"),
                "source": SOURCE,
                "population": count(
                    r["resident_population_2021"], LABEL, line, "resident_population_2021"
                ),
                "definition": DEFINITION,
                "quality": "published",
            }
        )
    return rows
