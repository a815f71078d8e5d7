"""The project's own curated tables in `data/catalog/`: round metadata, name spellings."""

from __future__ import annotations

from pathlib import Path

from app.errors import LoadError
from app.loaders.sources import first_line, iso_date, read_csv
from app.names import match_key
from app.settings import PROJECT_ROOT
from app.vocabulary import ROUND_KINDS

CATALOG_DIR = PROJECT_ROOT / "data" / "catalog"
ROUNDS_FILE = "rounds.csv"
NAMES_FILE = "alternative_names.csv"
ROUND_COLUMNS = [
    "code",
    "number",
    "kind",
    "event_slug",
    "title",
    "collection_start",
    "collection_end",
    "reporting_date",
    "figures_key",
    "source",
    "source_url",
]


def round_rows(catalog_dir: Path = CATALOG_DIR) -> tuple[list[dict], dict[str, str]]:
    """Round rows for the `rounds` table, and {figures_key: round code}."""
    name = f"data/catalog/{ROUNDS_FILE}"
    frame = read_csv(catalog_dir / ROUNDS_FILE, name, ROUND_COLUMNS)
    rows, keys = [], {}
    for line, r in enumerate(frame.itertuples(index=False), start=first_line(frame)):
        if r.kind not in ROUND_KINDS:
            raise LoadError(
                name,
                f"kind '{r.kind}' is not one of {', '.join(ROUND_KINDS)}",
                row=line,
                field="kind",
            )
        if r.number and not r.number.isdigit():
            raise LoadError(name, f"'{r.number}' is not a round number", row=line, field="number")
        rows.append(
            {
                "code": r.code,
                "number": int(r.number) if r.number else None,
                "kind": r.kind,
                "event_slug": r.event_slug or None,
                "title": r.title,
                "collection_start": iso_date(r.collection_start, name, line, "collection_start"),
                "collection_end": iso_date(r.collection_end, name, line, "collection_end"),
                "reporting_date": iso_date(r.reporting_date, name, line, "reporting_date"),
                "source": r.source,
                "source_url": r.source_url or None,
            }
        )
        keys[r.figures_key] = r.code
    return rows, keys


def alternative_name_rows(known_pcodes: set[str], catalog_dir: Path = CATALOG_DIR) -> list[dict]:
    name = f"data/catalog/{NAMES_FILE}"
    frame = read_csv(catalog_dir / NAMES_FILE, name, ["pcode", "lang", "name"])
    rows = []
    for line, r in enumerate(frame.itertuples(index=False), start=first_line(frame)):
        if r.pcode not in known_pcodes:
            raise LoadError(name, f"unknown pcode {r.pcode}", row=line, field="pcode")
        rows.append(
            {
                "pcode": r.pcode,
                "name": r.name,
                "lang": r.lang,
                "kind": "alternative",
                "provider": "DTM Geo curated spellings",
                "match_key": match_key(r.name),
            }
        )
    return rows
