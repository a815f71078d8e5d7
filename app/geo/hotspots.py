"""Local spatial statistics with esda and libpysal: Getis-Ord Gi* and local Moran's I.

No statistic is computed here by hand: this module builds the spatial weights, hands the
values and weights to esda, and classifies its results. Units without neighbours
(islands) are taken out of the analysis and reported; units whose neighbourhood takes in
every other unit (a very long distance band) have no variance to test, so they are kept
but classed "undefined", with no z or p-values.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from app import vocabulary
from app.errors import InvalidParameter
from app.memo import Lru

if TYPE_CHECKING:  # esda, libpysal, geopandas and scipy load on first use: seconds a new
    import geopandas as gpd  # worker does not spend before it can answer (bench/worker_start.py)
    from libpysal.weights import W

EARTH_RADIUS_KM = 6371.0088
WEIGHTS = vocabulary.WEIGHTS
MORAN_QUADRANTS = {1: "High-High", 2: "Low-High", 3: "Low-Low", 4: "High-Low"}
GI_LEVELS = ((0.01, 99), (0.05, 95), (0.10, 90))
MIN_UNITS = 8
_WEIGHTS = Lru(64)  # (W, ids) per key


@dataclass(frozen=True)
class Options:
    method: str = "gi"  # 'gi' (Getis-Ord Gi*) or 'moran' (local Moran's I)
    weights: str = "knn"
    k: int = 6
    distance_km: float | None = None
    permutations: int = 999
    seed: int = 12345
    fdr: bool = False
    alpha: float = 0.05


@dataclass
class Result:
    units: list[dict]
    islands: list[str]
    weights: dict = field(default_factory=dict)
    fdr_threshold: float | None = None
    undefined: list[str] = field(default_factory=list)


def build_weights(frame: gpd.GeoDataFrame, options: Options) -> W:
    """Spatial weights over `frame` (indexed by pcode), as libpysal builds them."""
    import shapely
    from libpysal.weights import KNN, DistanceBand, Queen

    if options.weights in ("queen", "queen-approximate"):
        return Queen.from_dataframe(frame, use_index=True, silence_warnings=True)
    geoms = frame.geometry.values
    if not (shapely.get_type_id(geoms) == 0).all():  # not all points: a point inside each
        geoms = shapely.point_on_surface(geoms)
    # Points on the sphere in 3-D: the straight-line (chord) distance grows with the
    # great-circle distance, so nearest neighbours and distance bands are those on the
    # sphere (up to ties between equidistant neighbours), from libpysal's faster
    # Euclidean tree.
    xyz = _on_sphere(shapely.get_coordinates(geoms))
    ids = list(frame.index)
    if options.weights == "knn":
        return KNN.from_array(xyz, k=options.k, ids=ids, silence_warnings=True)
    chord = 2 * EARTH_RADIUS_KM * np.sin(options.distance_km / (2 * EARTH_RADIUS_KM))
    return DistanceBand.from_array(
        xyz, threshold=chord, ids=ids, binary=True, silence_warnings=True
    )


def _on_sphere(lon_lat: np.ndarray) -> np.ndarray:
    lon, lat = np.radians(lon_lat).T
    return EARTH_RADIUS_KM * np.column_stack(
        [np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)]
    )


def _check_inputs(frame: gpd.GeoDataFrame, y: np.ndarray, options: Options, stage: str) -> None:
    if len(frame) < MIN_UNITS:
        what = "keep neighbours" if stage == "islands" else "have a value"
        raise InvalidParameter(
            "weights" if stage == "islands" else "round",
            f"only {len(frame)} areas {what}; at least {MIN_UNITS} are needed for local statistics",
            areas=len(frame),
            min_areas=MIN_UNITS,
        )
    if options.weights == "knn" and options.k >= len(frame):
        raise InvalidParameter("k", f"must be less than the number of areas ({len(frame)})")
    if stage == "islands" and np.ptp(y) == 0:
        raise InvalidParameter("metric", "every area has the same value; nothing can cluster")


def clear_weights_cache() -> None:
    _WEIGHTS.clear()


def _connected_weights(frame: gpd.GeoDataFrame, options: Options) -> tuple[W, list[str]]:
    """Weights over the units that have neighbours, and the islands left out."""
    w = build_weights(frame, options)
    islands = [str(i) for i in w.islands]
    if islands:
        w = build_weights(frame[~frame.index.isin(islands)], options)
    return w, islands


def _cached_weights(frame, options: Options, key: Hashable | None) -> tuple[W, list[str]]:
    if key is None:
        return _connected_weights(frame, options)
    # One W per method: esda sets the transform of the weights it is given.
    full_key = (key, options.weights, options.k, options.distance_km, options.method)
    return _WEIGHTS.get_or_compute(full_key, lambda: _connected_weights(frame, options))


def analyse(
    frame: gpd.GeoDataFrame,
    values: np.ndarray,
    options: Options,
    cache_key: Hashable | None = None,
) -> Result:
    """Run the local statistic on `values` (aligned with `frame`, indexed by pcode).

    With a `cache_key` that stands for the frame's content (the service uses the database
    and data version), the weights are built once and reused.
    """
    y = np.asarray(values, dtype=float)
    _check_inputs(frame, y, options, "values")
    w, islands = _cached_weights(frame, options, cache_key)
    if islands:
        keep = ~frame.index.isin(islands)
        frame, y = frame[keep], y[keep]
    _check_inputs(frame, y, options, "islands")
    with warnings.catch_warnings():
        # libpysal warns about disconnected components when esda copies the weights (they
        # are reported in the weights description), and esda about a future change of its
        # default alternative hypothesis (the p-values here are its current 'directed' ones).
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        # a neighbourhood of every unit has no variance: its z is NaN, classed "undefined"
        warnings.simplefilter("ignore", RuntimeWarning)
        stat, z, p_analytic, p_sim = _statistic(y, w, options)
    defined = np.isfinite(z)
    if not defined.any():
        raise InvalidParameter(
            "weights",
            "every area's neighbourhood takes in all the others, so the local statistic is "
            "undefined: use fewer neighbours (k) or a shorter distance_km",
        )
    # Gi* classes use the two-sided p-value (twice esda's directed one), as hot spot
    # confidence bins usually are (90% <-> |z| >= 1.645); Moran's keep esda's own p_sim.
    p_class = np.minimum(1.0, 2 * p_sim) if options.method == "gi" else np.asarray(p_sim)
    import esda

    threshold = float(esda.fdr(p_class[defined], options.alpha)) if options.fdr else None
    units = []
    for i, pcode in enumerate(frame.index):
        if not defined[i]:
            units.append(_undefined(pcode, y[i], options))
            continue
        unit = {
            "pcode": pcode,
            "value": float(y[i]),
            "z": float(z[i]),
            "p_analytic": float(p_analytic[i]),
            "p_permutation": _plain(p_sim[i]),
        }
        if options.method == "moran":
            unit["local_i"] = float(stat.Is[i])
            unit["class"] = _moran_class(int(stat.q[i]), p_class[i], options, threshold)
        else:
            unit["class"] = _gi_class(z[i], p_class[i], threshold)
        units.append(unit)
    described = {
        "type": options.weights,
        "n": int(w.n),
        "mean_neighbors": float(w.mean_neighbors),
        "components": int(w.n_components),
        "k": options.k if options.weights == "knn" else None,
        "distance_km": options.distance_km if options.weights == "distance" else None,
    }
    undefined = [str(p) for p, ok in zip(frame.index, defined, strict=True) if not ok]
    return Result(units, islands, described, threshold, undefined)


def _statistic(y: np.ndarray, w: W, options: Options):
    """(esda object, z, analytic p, permutation p) for the chosen method."""
    import esda
    from scipy.stats import norm

    if options.method == "gi":
        stat = esda.G_Local(
            y,
            w,
            transform="B",
            permutations=options.permutations,
            star=True,
            n_jobs=1,
            seed=options.seed,
        )
        return stat, stat.Zs, stat.p_norm, stat.p_sim
    w.transform = "r"
    stat = esda.Moran_Local(
        y, w, transformation="r", permutations=options.permutations, n_jobs=1, seed=options.seed
    )
    # esda gives the analytic moments (EI, VI; Anselin 1995); the p-value is one-sided like
    # G_Local's p_norm. z stays esda's permutation z-score.
    p_analytic = norm.sf(np.abs((stat.Is - stat.EI) / np.sqrt(stat.VI)))
    return stat, stat.z_sim, p_analytic, stat.p_sim


def _undefined(pcode: str, value: float, options: Options) -> dict:
    """A unit whose neighbourhood is every other unit: no variance, no statistic."""
    unit = {
        "pcode": pcode,
        "value": float(value),
        "z": None,
        "p_analytic": None,
        "p_permutation": None,
        "class": "undefined",
    }
    if options.method == "moran":
        unit["local_i"] = None
    return unit


def _plain(value: np.floating) -> float:
    # G_Local keeps p_sim as float32: give its shortest form (0.483, not 0.48300001)
    return float(str(value)) if isinstance(value, np.float32) else float(value)


def _gi_class(z: float, p: float, threshold: float | None) -> str:
    if threshold is not None and p > threshold:
        return "not significant"
    for level, confidence in GI_LEVELS:
        if p <= level:
            return f"{'hot' if z > 0 else 'cold'} spot {confidence}%"
    return "not significant"


def _moran_class(quadrant: int, p: float, options: Options, threshold: float | None) -> str:
    cut = threshold if threshold is not None else options.alpha
    return MORAN_QUADRANTS[quadrant] if p <= cut else "not significant"
