"""Hotspots of a round's figures: values from the statistics, statistics from esda."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from app.attribution import COD_AB, DTM, HNO_2021, LEVEL_NAMES
from app.errors import InvalidParameter
from app.geo.frames import area_frame
from app.geo.hotspots import MIN_UNITS, Options, analyse
from app.serialize import dumps
from app.services import stats
from app.services.rendered import Rendered
from app.services.stats import StatsFilter

METRICS = ("count", "rate", "change")


def _values(session: Session, level: int, round_id: int, population_type: str) -> dict:
    rows = stats.statistics(
        session,
        StatsFilter(level=level, round_ids=(round_id,), population_types=(population_type,)),
    )
    return {r["pcode"]: r for r in rows if r["displacement_reason"] is None}


def compute(
    session: Session,
    level: int,
    round_id: int,
    population_type: str,
    metric: str,
    base_round_id: int | None,
    options: Options,
) -> tuple[pd.DataFrame, dict]:
    """(frame of units with geometry and results, metadata)."""
    current = _values(session, level, round_id, population_type)
    if metric == "change":
        before = _values(session, level, base_round_id, population_type)
        values = {
            p: current[p]["individuals"] - before[p]["individuals"] for p in current if p in before
        }
    elif metric == "rate":
        values = {p: float(r["per_1000"]) for p, r in current.items() if r["per_1000"] is not None}
    else:
        values = {p: r["individuals"] for p, r in current.items()}
    frame = area_frame(session, level, approximate=options.weights == "queen-approximate")
    frame = frame.set_index("pcode", drop=False)
    frame.index.name = None
    no_data = sorted(set(frame.index) - set(values))
    frame = frame.loc[[p for p in frame.index if p in values]]
    if len(frame) < MIN_UNITS:
        raise InvalidParameter(
            "round",
            f"only {len(frame)} {LEVEL_NAMES[level]} areas have a "
            f"{metric} value for {population_type}; at least {MIN_UNITS} are "
            "needed for local statistics",
        )
    result = analyse(frame, np.array([values[p] for p in frame.index], dtype=float), options)
    by_pcode = {u["pcode"]: u for u in result.units}
    frame = frame.loc[[p for p in frame.index if p in by_pcode]]
    for key in ("value", "z", "p_analytic", "p_permutation", "class", "local_i"):
        if any(key in u for u in result.units):
            frame[key] = [by_pcode[p].get(key) for p in frame.index]
    meta = {
        "level": level,
        "level_name": LEVEL_NAMES[level],
        "metric": metric,
        "population_type": population_type,
        "parameters": asdict(options),
        "weights": result.weights,
        "islands": result.islands,
        "no_data": no_data,
        "fdr_threshold": result.fdr_threshold,
        "sources": sorted({s for r in current.values() for s in (r["sources"] or [])}),
        "attribution": [DTM, COD_AB, *([HNO_2021] if metric == "rate" else [])],
        "notes": "Statistics by esda (Getis-Ord Gi* with binary weights and the unit itself "
        "included; local Moran's I with row-standardised weights); p_analytic is the "
        "one-sided normal approximation (Gi*: esda's p_norm; Moran: from esda's analytic "
        "moments EI and VI), p_permutation esda's conditional permutation pseudo "
        "p-value (directed, one-sided); z is esda's Zs for Gi* and z_sim for Moran.",
    }
    return frame, meta


_COLUMNS = (
    "pcode",
    "name_en",
    "name_ar",
    "parent_pcode",
    "value",
    "z",
    "p_analytic",
    "p_permutation",
    "local_i",
    "class",
)


def render(frame: pd.DataFrame, meta: dict, as_geojson: bool) -> Rendered:
    columns = [c for c in _COLUMNS if c in frame.columns]
    if as_geojson:
        collection = json.loads(frame[[*columns, "geometry_kind", "geom"]].to_json(na="null"))
        collection.update(meta)
        return Rendered(dumps(collection), "application/geo+json")
    rows = frame[columns].to_dict("records")
    return Rendered(dumps({"data": rows, "meta": meta}), "application/json")
