"""The project's own curated tables in `data/catalog/`: operations and their levels, round
metadata, name spellings, OGC collections."""

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
OPERATIONS_FILE = "operations.csv"
LEVELS_FILE = "operation_levels.csv"
COLLECTIONS_FILE = "ogc_collections.csv"
OPERATION_COLUMNS = [
    "iso3",
    "slug",
    "name_en",
    "name_ar",
    "dtm_operation",
    "ocha_prefix",
    "round_prefix",
    "is_default",
    "boundary_source",
    "figures_source",
    "denominators",
    "map_credit_en",
    "map_credit_ar",
    "map_bounds",
]
LEVEL_COLUMNS = ["operation", "level", "name_en", "name_ar", "plural_en", "plural_ar"]
LEVEL_COLUMNS += ["geometry", "source"]
COLLECTION_COLUMNS = ["operation", "id", "kind", "level", "title", "description"]
COLLECTION_COLUMNS += ["geometry_type", "min_zoom", "weights", "metric"]
ROUND_COLUMNS = [
    "operation",
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
                "operation": r.operation,
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


def alternative_names(catalog_dir: Path = CATALOG_DIR) -> list[tuple[int, dict]]:
    """(file line, name row) of the curated spellings, unchecked."""
    name = f"data/catalog/{NAMES_FILE}"
    frame = read_csv(catalog_dir / NAMES_FILE, name, ["pcode", "lang", "name"])
    return [
        (
            line,
            {
                "pcode": r.pcode,
                "name": r.name,
                "lang": r.lang,
                "kind": "alternative",
                "provider": "DTM Geo curated spellings",
                "match_key": match_key(r.name),
            },
        )
        for line, r in enumerate(frame.itertuples(index=False), start=first_line(frame))
    ]


def alternative_name_rows(known_pcodes: set[str], catalog_dir: Path = CATALOG_DIR) -> list[dict]:
    """The curated spellings, each of a known area."""
    rows = []
    for line, row in alternative_names(catalog_dir):
        if row["pcode"] not in known_pcodes:
            where = f"data/catalog/{NAMES_FILE}"
            raise LoadError(where, f"unknown pcode {row['pcode']}", row=line, field="pcode")
        rows.append(row)
    return rows


def operation_rows(catalog_dir: Path = CATALOG_DIR) -> tuple[list[dict], list[dict]]:
    """Rows for `operations` and `operation_levels`."""
    name = f"data/catalog/{OPERATIONS_FILE}"
    frame = read_csv(catalog_dir / OPERATIONS_FILE, name, OPERATION_COLUMNS)
    operations = []
    for line, r in enumerate(frame.itertuples(index=False), start=first_line(frame)):
        if r.is_default not in ("true", "false"):
            raise LoadError(name, "is_default must be true or false", row=line, field="is_default")
        operations.append(
            {
                **r._asdict(),
                "is_default": r.is_default == "true",
                "map_bounds": _bounds(r.map_bounds, name, line),
            }
        )
    if sum(o["is_default"] for o in operations) != 1:
        raise LoadError(name, "exactly one operation must be the default", field="is_default")
    known = {o["iso3"] for o in operations}
    name = f"data/catalog/{LEVELS_FILE}"
    frame = read_csv(catalog_dir / LEVELS_FILE, name, LEVEL_COLUMNS)
    levels = []
    for line, r in enumerate(frame.itertuples(index=False), start=first_line(frame)):
        if r.operation not in known:
            raise LoadError(name, f"unknown operation {r.operation}", row=line, field="operation")
        if not r.level.isdigit():
            raise LoadError(name, f"'{r.level}' is not a level", row=line, field="level")
        levels.append({**r._asdict(), "level": int(r.level)})
    return operations, levels


def _bounds(text: str, name: str, line: int) -> list[float] | None:
    if not text:
        return None
    try:
        bounds = [float(v) for v in text.split(",")]
    except ValueError:
        bounds = []
    if len(bounds) != 4 or not (bounds[0] < bounds[2] and bounds[1] < bounds[3]):
        raise LoadError(
            name, "expected minlon,minlat,maxlon,maxlat (CRS84)", row=line, field="map_bounds"
        )
    return bounds


def collection_rows(catalog_dir: Path = CATALOG_DIR) -> list[dict]:
    """The OGC API collections each operation offers (app.services.ogc builds their SQL)."""
    name = f"data/catalog/{COLLECTIONS_FILE}"
    frame = read_csv(catalog_dir / COLLECTIONS_FILE, name, COLLECTION_COLUMNS)
    return [
        {
            **r._asdict(),
            "level": int(r.level) if r.level else None,
            "min_zoom": int(r.min_zoom or 0),
        }
        for r in frame.itertuples(index=False)
    ]


HDX_FILE = "hdx_datasets.csv"
HDX_COLUMNS = ["operation", "dataset", "title"]


def hdx_dataset_rows(catalog_dir: Path = CATALOG_DIR) -> list[dict]:
    """The HDX datasets `dtm-geo sync hdx` reads, per operation (CKAN package names)."""
    name = f"data/catalog/{HDX_FILE}"
    frame = read_csv(catalog_dir / HDX_FILE, name, HDX_COLUMNS)
    return [r._asdict() for r in frame.itertuples(index=False)]
