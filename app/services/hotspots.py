"""Hotspots of a round's figures: values from the statistics, statistics from esda."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy.orm import Session

from app import vocabulary
from app.errors import InvalidParameter
from app.geo import encoded
from app.geo.frames import area_frame

if TYPE_CHECKING:  # geopandas loads with the first map (app.geo.frames), not at start
    import geopandas as gpd
from app.geo.hotspots import MIN_UNITS, Options, analyse, clear_weights_cache
from app.memo import Lru, data_version, database_key
from app.services import operations, rounds, stats
from app.services.stats import StatsFilter

METRICS = vocabulary.METRICS


def _operation(session: Session, round_id: int) -> operations.Operation:
    """The operation of a round (its areas are the ones analysed)."""
    ref = rounds.catalogue(session, None).by_id(round_id)
    return operations.all_operations(session)[ref.operation]


def _values(session: Session, level: int, round_id: int, population_type: str) -> dict:
    rows = stats.statistics(
        session,
        StatsFilter(
            level=level,
            operation=_operation(session, round_id).iso3,
            round_ids=(round_id,),
            population_types=(population_type,),
            collapse_reasons=True,
        ),
    ).rows
    return {r["pcode"]: r for r in rows if r["displacement_reason"] is None}


@dataclass(frozen=True)
class Inputs:
    """What the statistic reads from the database: the areas with a value, and why others
    have none."""

    frame: gpd.GeoDataFrame  # indexed by pcode, only areas with a value
    values: np.ndarray
    no_data: tuple[str, ...]
    sources: tuple[str, ...]
    areas: dict[str, dict]  # pcode -> names, parent, geometry kind
    geometries: dict[str, bytes]  # pcode -> encoded GeoJSON geometry (app.geo.encoded)
    key: tuple = ()  # database, data version and query: stands for the content


# Inputs per database and data version: a new version (any load or ingest) makes every
# key stale, so results follow the data while repeated analyses skip the reads.
_INPUTS = Lru(32)


def clear_cache() -> None:
    """Forget cached inputs and weights (benchmarks measure the cold path with it)."""
    _INPUTS.clear()
    clear_weights_cache()


def inputs(
    session: Session,
    level: int,
    round_id: int,
    population_type: str,
    metric: str,
    base_round_id: int | None,
    approximate: bool,
) -> Inputs:
    key = (
        database_key(session),
        data_version(session),
        level,
        round_id,
        population_type,
        metric,
        base_round_id,
        approximate,
    )
    return _INPUTS.get_or_compute(
        key,
        lambda: replace(
            _read_inputs(
                session, level, round_id, population_type, metric, base_round_id, approximate
            ),
            key=key,
        ),
    )


def _read_inputs(session, level, round_id, population_type, metric, base_round_id, approximate):
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
    op = _operation(session, round_id)
    frame = area_frame(session, op.iso3, level, approximate=approximate)
    frame = frame.set_index("pcode", drop=False)
    frame.index.name = None
    # muhallas without published coordinates have no location to analyse: no data
    located = set(frame.index[frame.geometry.notna()])
    no_data = tuple(sorted(set(frame.index) - (set(values) & located)))
    frame = frame.loc[[p for p in frame.index if p in values and p in located]]
    if len(frame) < MIN_UNITS:
        raise InvalidParameter(
            "round",
            f"this round gives {len(frame)} {op.level_name(level)} areas a {metric} value "
            f"for population_type {population_type}; local statistics need at least "
            f"{MIN_UNITS}: choose another round or population_type",
            areas=len(frame),
            min_areas=MIN_UNITS,
        )
    shapes = encoded.geometries(session, "approximate" if approximate else "official")
    return Inputs(
        frame,
        np.array([values[p] for p in frame.index], dtype=float),
        no_data,
        tuple(sorted({s for r in current.values() for s in (r["sources"] or [])})),
        frame[list(_AREA_COLUMNS)].to_dict("index"),
        {p: shapes[p] for p in frame.index},
    )


def compute(
    session: Session,
    level: int,
    round_id: int,
    population_type: str,
    metric: str,
    base_round_id: int | None,
    options: Options,
) -> tuple[list[dict], dict, dict[str, dict]]:
    """(one row per analysed area: names, value and results; metadata; geometries)."""
    found = inputs(
        session,
        level,
        round_id,
        population_type,
        metric,
        base_round_id,
        options.weights == "queen-approximate",
    )
    result = analyse(found.frame, found.values, options, cache_key=found.key)
    rows = [{**found.areas[u["pcode"]], **u} for u in result.units]
    op = _operation(session, round_id)
    meta = {
        "level": level,
        "level_name": op.level_name(level),
        "metric": metric,
        "population_type": population_type,
        "parameters": asdict(options),
        "weights": result.weights,
        "islands": result.islands,
        "undefined": result.undefined,
        "no_data": list(found.no_data),
        "fdr_threshold": result.fdr_threshold,
        "sources": list(found.sources),
        "attribution": op.attribution(rated=metric == "rate"),
        "notes": "Statistics by esda (Getis-Ord Gi* with binary weights and the unit itself "
        "included; local Moran's I with row-standardised weights); p_analytic is the "
        "one-sided normal approximation (Gi*: esda's p_norm; Moran: from esda's analytic "
        "moments EI and VI), p_permutation esda's conditional permutation pseudo "
        "p-value (directed, one-sided); z is esda's Zs for Gi* and z_sim for Moran. Gi* "
        "classes use the two-sided permutation p-value (2 x p_permutation): 90% is p <= "
        "0.10, 95% p <= 0.05, 99% p <= 0.01. Moran classes use p_permutation <= alpha. "
        "Units whose neighbourhood is every other unit are 'undefined'.",
    }
    return rows, meta, found.geometries


_AREA_COLUMNS = ("pcode", "name_en", "name_ar", "parent_pcode", "geometry_kind")
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


def shaped(rows: list[dict], with_geometry: bool) -> list[dict]:
    """Each area's published columns (and its geometry kind, for maps)."""
    columns = [c for c in _COLUMNS if any(c in r for r in rows[:1])]
    if with_geometry:
        columns.append("geometry_kind")
    return [{c: r[c] for c in columns} for r in rows]
