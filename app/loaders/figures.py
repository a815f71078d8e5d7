"""Published figures transcribed from DTM, OCHA and IOM reports (long-format CSVs).

The transcriptions are the project's own, kept in the repository under `data/published/`
(see its README): facts, one row per figure with its source URL, so a fresh machine needs
no download for them. Every row is kept as a published figure with its source. Rows that
are counts of a population type in a known round and area (country, mantika or baladiya)
also become observations; region totals, shares, deaths and the like stay figures only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from app.errors import LoadError
from app.loaders.boundaries import COUNTRY_PCODE
from app.loaders.sources import first_line, read_csv
from app.settings import PROJECT_ROOT

PUBLISHED_DIR = PROJECT_ROOT / "data" / "published"
STORM_DANIEL = "storm-daniel-2023"


@dataclass(frozen=True)
class FigureFile:
    dataset: str
    path: str
    round_column: str  # column whose value keys the round catalog's figures_key
    source: str | None  # fixed source label, or None to read a 'source' column
    columns: tuple[str, ...]

    @property
    def label(self) -> str:
        """The file as named in messages: its place in the repository."""
        return f"data/published/{self.path}"


FILES = (
    FigureFile(
        "dtm_libya_round_figures",
        "dtm_libya_round_figures_from_reports.csv",
        "round",
        "DTM Libya figures as published in reports (transcribed)",
        (
            "round",
            "period",
            "geography",
            "adm_pcode",
            "metric",
            "value",
            "unit",
            "source_url",
            "note",
        ),
    ),
    FigureFile(
        "storm_daniel_2023",
        "storm_daniel_2023_published_figures.csv",
        "snapshot_or_period",
        "Storm Daniel 2023 figures as published (transcribed)",
        (
            "event",
            "snapshot_or_period",
            "geography",
            "adm_pcode",
            "metric",
            "value",
            "unit",
            "source_url",
            "note",
        ),
    ),
    FigureFile(
        "iom_libya_annual_report_2023",
        "iom_libya_annual_report_2023_figures.csv",
        "round",
        None,
        (
            "round",
            "period",
            "geography",
            "adm_pcode",
            "metric",
            "value",
            "unit",
            "source",
            "source_url",
            "note",
        ),
    ),
    FigureFile(
        "dtm_libya_hdx_baseline_round_totals",
        "dtm_libya_hdx_baseline_round_totals.csv",
        "round",
        "DTM Libya national totals as stated on HDX (transcribed)",
        (
            "round",
            "period",
            "geography",
            "adm_pcode",
            "metric",
            "value",
            "unit",
            "source_url",
            "note",
        ),
    ),
)

# metric -> (population type, field) for metrics that are observation counts
OBSERVATION_METRICS = {
    "idps": ("idp", "individuals"),
    "idp_households": ("idp", "households"),
    "returnees": ("returnee", "individuals"),
    "returnee_households": ("returnee", "households"),
    "migrants": ("migrant", "individuals"),
    "displaced_individuals": ("idp", "individuals"),
    "displaced_households": ("idp", "households"),
    "idps_hosted": ("idp", "individuals"),
    "displaced_migrants": ("migrant", "individuals"),
}


def _value(text: str, name: str, line: int) -> Decimal:
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        raise LoadError(name, f"'{text}' is not a number", row=line, field="value") from None
    if value < 0 or not value.is_finite():
        raise LoadError(name, f"{text} is not a non-negative number", row=line, field="value")
    return value


def figure_rows(
    round_keys: dict[str, str],
    area_levels: dict[str, int],
    region_pcodes: set[str],
    published_dir: Path = PUBLISHED_DIR,
) -> dict[str, list[dict]]:
    """Published-figure rows and the observations derived from them."""
    figures: list[dict] = []
    for spec in FILES:
        frame = read_csv(published_dir / spec.path, spec.label, list(spec.columns))
        for line, r in enumerate(frame.to_dict("records"), start=first_line(frame)):
            figures.append(_figure(spec, r, line, round_keys, area_levels, region_pcodes))
    return {"published_figures": figures, "observations": _observations(figures, area_levels)}


def _figure(spec, r, line, round_keys, area_levels, region_pcodes) -> dict:
    pcode = r["adm_pcode"].strip() or None
    if pcode == "LY":
        pcode = COUNTRY_PCODE
    if pcode is not None and pcode not in area_levels and pcode not in region_pcodes:
        raise LoadError(spec.label, f"unknown pcode {pcode}", row=line, field="adm_pcode")
    key = r[spec.round_column].strip()
    event = (
        STORM_DANIEL
        if spec.dataset == "storm_daniel_2023" or r["metric"].startswith("storm_daniel")
        else None
    )
    return {
        "dataset": spec.dataset,
        "row_number": line,
        "round_code": round_keys.get(key) if key else None,
        "event_slug": event,
        "period": r.get("period") or r.get("snapshot_or_period", ""),
        "geography": r["geography"],
        "pcode": pcode,
        "metric": r["metric"].strip(),
        "value": _value(r["value"], spec.label, line),
        "unit": r["unit"],
        "source": spec.source or r["source"],
        "source_url": r.get("source_url") or None,
        "note": r["note"] or None,
        "_file": spec.label,
    }


def _observations(figures: list[dict], area_levels: dict[str, int]) -> list[dict]:
    grouped: dict[tuple, dict] = {}
    for f in figures:
        target = OBSERVATION_METRICS.get(f["metric"])
        if not (target and f["round_code"] and f["pcode"] in area_levels):
            continue
        population_type, field = target
        key = (f["round_code"], f["pcode"], population_type)
        obs = grouped.setdefault(
            key,
            {
                "round_code": f["round_code"],
                "pcode": f["pcode"],
                "population_type": population_type,
                "displacement_reason": None,
                "individuals": None,
                "households": None,
                "males": None,
                "females": None,
                "source": f["source"],
                "source_url": f["source_url"],
                "quality": "published",
            },
        )
        if obs[field] is not None:
            # The same figure transcribed from two publications (a report and HDX, say)
            # is one observation, from the first source; two different ones are an error.
            if obs[field] == int(f["value"]):
                continue
            raise LoadError(
                f["_file"],
                f"{field} {f['value']} for {key} disagrees with {obs[field]} from "
                f"{obs['source_url'] or obs['source']}",
                row=f["row_number"],
                field="value",
            )
        obs[field] = int(f["value"])
    # Households alone (no individuals published) stay figures only.
    return [o for o in grouped.values() if o["individuals"] is not None]
