"""Load the default data set from the data directory, in one transaction.

Everything is read and validated first; then every table is upserted on its natural
key inside a single transaction, so a bad file loads nothing and a second run with
the same files changes nothing (and says so).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from app.db import session_scope
from app.errors import LoadError
from app.geo import tile_geometries
from app.loaders import (
    boundaries,
    catalog,
    dtm_api,
    dtm_r39,
    dtm_r54,
    event_flows,
    figures,
    iraq,
    populations,
)
from app.loaders.figures import PUBLISHED_DIR
from app.loaders.manifest import expected_sha256
from app.loaders.sources import sha256
from app.loaders.upsert import Counts, TableCounts, upsert
from app.models import (
    AdminArea,
    AdminAreaName,
    ApproximateBoundary,
    DatasetLoad,
    DataVersion,
    DtmPcode,
    Indicator,
    MigrantNationality,
    Observation,
    Operation,
    OperationLevel,
    Population,
    PublishedFigure,
    Region,
    Round,
)
from app.services import rollup
from app.vocabulary import ADMIN_LEVELS

LOCK_KEY = 0x44544D47454F  # advisory lock: one loader at a time per database
# Files of the data directory (downloaded from their publishers, see the manifest)...
SOURCE_FILES = [*boundaries.SOURCE_FILES, dtm_r54.FILE, dtm_r39.FILE, *iraq.SOURCE_FILES]
# ...and the project's own transcriptions, in the repository's data/published/.
PUBLISHED_FILES = [*(f.path for f in figures.FILES), populations.FILE]
# the tables of area geometries: a load that changes them rebuilds what is derived from them
BOUNDARY_TABLES = ("admin_areas", "approximate_boundaries")
STEPS = 6  # the numbered steps a load reports to its progress callback

# progress(step, message): step 1..STEPS starts a step; 0 is a note within the current one
Progress = Callable[[int, str], None]


@dataclass
class LoadReport:
    counts: TableCounts = field(default_factory=TableCounts)
    data_version: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.counts.changed

    def summary(self) -> str:
        lines = []
        for table, c in self.counts.by_table.items():
            lines.append(
                f"  {table:<24} {c.inserted:>6} inserted {c.updated:>6} updated "
                f"{c.unchanged:>6} unchanged"
            )
        verdict = (
            f"loaded: data version is now {self.data_version}"
            if self.changed
            else f"no changes: the database already holds this data (version {self.data_version})"
        )
        notes = [f"  note: {n}" for n in self.notes]
        return "\n".join([*lines, *notes, f"{verdict} ({self.seconds:.1f} s)"])


def load_default_data(
    url: str,
    data_dir: Path,
    progress: Progress = lambda *_: None,
    published_dir: Path = PUBLISHED_DIR,
) -> LoadReport:
    """Load the data directory's files and the repository's transcriptions into `url`."""
    started = time.perf_counter()
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise LoadError(str(data_dir), "data directory not found: set DATA_DIR")
    staged = _read_all(data_dir, Path(published_dir), progress)
    report = LoadReport(notes=staged.pop("_notes"))
    with session_scope(url) as session:
        session.execute(select(func.pg_advisory_xact_lock(LOCK_KEY)))
        _write_all(session, staged, report.counts, progress)
        if report.changed:
            progress(0, "rolling the figures up the admin hierarchy")
            rollup.data_changed(session)
        report.data_version = session.execute(select(DataVersion.version)).scalar_one()
    report.seconds = time.perf_counter() - started
    return report


def _read_all(data_dir: Path, published_dir: Path, progress: Progress) -> dict[str, list[dict]]:
    progress(1, "reading OCHA COD-AB boundaries and deriving approximate baladiya polygons")
    staged = boundaries.boundary_rows(data_dir)
    levels = {a["pcode"]: a["level"] for a in staged["admin_areas"]}
    baladiyas = {p for p, level in levels.items() if level == 2}
    staged["operations"], staged["operation_levels"] = catalog.operation_rows()
    staged["rounds"], round_keys = catalog.round_rows()
    for r in staged["rounds"]:
        r.setdefault("all_areas_assessed", False)

    progress(2, "reading the DTM Round 54 migrant dataset (XLSX)")
    r54 = dtm_r54.r54_rows(data_dir, baladiyas)
    staged["admin_area_names"] += r54["admin_area_names"]
    staged["migrant_nationalities"] = r54["migrant_nationalities"]

    progress(3, "reading the DTM Round 39 IDP and returnee workbook (XLSX), per muhalla")
    r39, notes = _r39(data_dir, staged)
    staged["_notes"] = notes
    staged["admin_areas"] += r39["admin_areas"]
    staged["admin_area_names"] += r39["admin_area_names"]

    progress(4, "reading published figures and population denominators (data/published/)")
    regions = {r["pcode"] for r in staged["regions"]}
    figs = figures.figure_rows(round_keys, levels, regions, published_dir)
    staged["published_figures"] = figs["published_figures"]
    # A dataset's own figures of a round and population type replace a transcription of
    # the same (which stays a published figure): no total stored twice.
    covered = {(o["round_code"], o["population_type"]) for o in r39["observations"]}
    transcribed = [
        o for o in figs["observations"] if (o["round_code"], o["population_type"]) not in covered
    ]
    staged["observations"] = r54["observations"] + r39["observations"] + transcribed
    staged["indicators"] = r39["indicators"]
    staged["populations"] = populations.population_rows(baladiyas, published_dir)
    progress(0, "modelling Storm Daniel's flows from the published figures")
    staged["flows"] = event_flows.flow_rows(staged)

    progress(5, "reading Iraq: OCHA COD-AB, the DTM API's records, the Master List Round 123")
    irq = _iraq(data_dir, staged)
    staged["_notes"] += irq.notes
    staged["admin_areas"] += irq.admin_areas
    staged["admin_area_names"] += irq.admin_area_names
    staged["rounds"] += irq.rounds
    staged["observations"] += irq.observations
    staged["dtm_pcodes"] = irq.dtm_pcodes
    known = {a["pcode"] for a in staged["admin_areas"]}
    staged["admin_area_names"] += catalog.alternative_name_rows(known)
    staged["dataset_loads"] = [
        {"dataset": name, "file_name": Path(name).name, "sha256": sha256(data_dir / name)}
        for name in SOURCE_FILES
    ] + [
        {"dataset": f"published/{name}", "file_name": name, "sha256": sha256(published_dir / name)}
        for name in PUBLISHED_FILES
    ]
    return staged


def _iraq(data_dir: Path, staged: dict) -> iraq.IraqRows:
    row = next(o for o in staged["operations"] if o["iso3"] == iraq.OPERATION)
    operation = dtm_api.ApiOperation(
        row["iso3"], row["ocha_prefix"], row["round_prefix"], row["dtm_operation"], row["name_en"]
    )
    spellings = [
        n for _, n in catalog.alternative_names() if n["pcode"].startswith(row["ocha_prefix"])
    ]
    return iraq.iraq_rows(data_dir, operation, spellings)


def _r39(data_dir: Path, staged: dict) -> tuple[dict[str, list[dict]], list[str]]:
    areas = staged["admin_areas"]
    baladiyas: dict[str, set[str]] = {a["pcode"]: set() for a in areas if a["level"] == 2}
    for n in staged["admin_area_names"]:
        if n["pcode"] in baladiyas:
            baladiyas[n["pcode"]].add(n["match_key"])
    regions = {a["pcode"]: a["region_pcode"] for a in areas if a["level"] == 2}
    round_codes = {
        r["number"]: r["code"]
        for r in staged["rounds"]
        if r["number"] and r["operation"] == boundaries.COUNTRY_PCODE
    }
    return dtm_r39.default_rows(
        data_dir,
        expected_sha256(dtm_r39.FILE),
        baladiyas,
        regions,
        round_codes,
        dtm_r54.muhalla_names(data_dir),
        dtm_r54.PROVIDER,
    )


def _with_round_ids(session: Session, rows: list[dict]) -> list[dict]:
    ids = dict(session.execute(select(Round.code, Round.id)).all())
    return [
        {
            **{k: v for k, v in r.items() if k not in ("round_code", "_file")},
            "round_id": ids.get(r["round_code"]) if r["round_code"] else None,
        }
        for r in rows
    ]


def _write_all(session, staged, counts: TableCounts, progress) -> None:
    progress(6, "writing to the database in one transaction")
    plan = [
        ("operations", Operation, ["iso3"], staged["operations"]),
        ("operation_levels", OperationLevel, ["operation", "level"], staged["operation_levels"]),
        ("regions", Region, ["pcode"], staged["regions"]),
        *(
            (
                "admin_areas",
                AdminArea,
                ["pcode"],
                [a for a in staged["admin_areas"] if a["level"] == level],
            )
            for level in ADMIN_LEVELS
        ),
        (
            "approximate_boundaries",
            ApproximateBoundary,
            ["pcode"],
            staged["approximate_boundaries"],
        ),
        (
            "admin_area_names",
            AdminAreaName,
            ["pcode", "lang", "name", "provider"],
            _unique(staged["admin_area_names"], ("pcode", "lang", "name", "provider")),
        ),
        ("dtm_pcodes", DtmPcode, ["operation", "dtm_pcode"], staged["dtm_pcodes"]),
        ("rounds", Round, ["code"], staged["rounds"]),
        ("populations", Population, ["pcode", "year", "source"], staged["populations"]),
    ]
    for table, model, key, rows in plan:
        counts.add(table, _upsert(session, model, rows, key, table))
    if any(counts.by_table[t].changed for t in BOUNDARY_TABLES):
        progress(0, "simplifying the polygons for the vector tiles of each low zoom")
        tile_geometries.refresh(session)
    linked = [
        (
            "observations",
            Observation,
            ["round_id", "pcode", "population_type", "displacement_reason"],
        ),
        ("migrant_nationalities", MigrantNationality, ["round_id", "pcode", "nationality"]),
        ("published_figures", PublishedFigure, ["dataset", "row_number"]),
        ("indicators", Indicator, ["round_id", "pcode", "population_type", "indicator"]),
    ]
    for table, model, key in linked:
        rows = _with_round_ids(session, staged[table])
        counts.add(table, _upsert(session, model, rows, key, table))
    counts.add("flows", event_flows.write(session, staged["flows"]))
    counts.add(
        "dataset_loads",
        _upsert(
            session,
            DatasetLoad,
            staged["dataset_loads"],
            ["dataset"],
            "dataset_loads",
            on_update={"loaded_at": func.now()},
        ),
    )


def _upsert(session, model, rows, key, table, on_update=None) -> Counts:
    try:
        with session.begin_nested():
            return upsert(session, model.__table__, rows, key, on_update=on_update)
    except (IntegrityError, DataError) as exc:
        diag = getattr(exc.orig, "diag", None)
        what = getattr(diag, "constraint_name", None) or getattr(diag, "message_primary", None)
        raise LoadError(f"table {table}", f"rejected by the database: {what}") from None


def _unique(rows: list[dict], key: tuple[str, ...]) -> list[dict]:
    return list({tuple(r[k] for k in key): r for r in rows}.values())
