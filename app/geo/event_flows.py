"""A documented model of an event's origin-destination flows from published totals.

Published flash updates give totals, hosting figures and shares, not an origin-destination
matrix. This module builds one that reproduces every published figure of a snapshot
exactly; docs/storm-daniel-flow-model.md explains the inputs, assumptions and method.

1. Hosting per baladiya: published hosting figures as given (shares of the total become
   the nearest whole number of people); the rest of each region's published total goes to
   the region's likeliest hosts (population over squared distance from the epicentre),
   capped below the smallest published hosting figure, as whole people.
2. Origins: each destination region's total is split over the origin baladiyas in
   proportion to the origin weights (an earlier snapshot's figures); a published share of
   one origin's displaced in a region fixes that origin's part there.
3. Within each region, iterative proportional fitting of a distance-decay seed to the
   origin and destination totals, then rounding to whole people that keeps both totals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Place:
    pcode: str
    region: str
    lon: float
    lat: float
    population: int | None


@dataclass
class Snapshot:
    """What one snapshot published (people; shares in percent of `total`)."""

    total: int
    households: int | None = None
    hosted: dict[str, int] = field(default_factory=dict)
    hosted_share: dict[str, float] = field(default_factory=dict)
    region_total: dict[str, int] = field(default_factory=dict)
    region_share: dict[str, float] = field(default_factory=dict)
    # (origin pcode, destination region) -> percent of that origin's displaced there
    origin_share_in_region: dict[tuple[str, str], float] = field(default_factory=dict)


@dataclass(frozen=True)
class Parameters:
    epicentre: str  # baladiya pcode
    origin_weights: dict[str, int]  # origin baladiya -> weight (an earlier snapshot's counts)
    hosts_per_region: dict[str, int]  # how many baladiyas of a region host the displaced
    decay_km: float = 100.0  # distance decay of the flow seed
    min_distance_km: float = 25.0  # floor of the host-gravity distance


@dataclass(frozen=True)
class Flow:
    origin: str
    destination: str
    individuals: int
    households: int | None


class ModelError(ValueError):
    """The published figures cannot be met under the model's assumptions."""


def apportion(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Whole numbers summing to `total` in proportion to `weights` (largest remainder)."""
    keys = sorted(weights)
    w = np.array([weights[k] for k in keys], dtype=float)
    if total == 0 or not keys:
        return dict.fromkeys(keys, 0)
    if w.sum() <= 0:
        raise ModelError("no positive weight to share a total over")
    exact = total * w / w.sum()
    whole = np.floor(exact).astype(int)
    # keys are sorted, so ties in the remainder go to the first key: deterministic
    order = np.lexsort((np.arange(len(keys)), -(exact - whole)))
    whole[order[: total - whole.sum()]] += 1
    return dict(zip(keys, whole.tolist(), strict=True))


def distances_km(a: list[Place], b: list[Place]) -> np.ndarray:
    lon1, lat1 = np.radians([[p.lon, p.lat] for p in a]).T
    lon2, lat2 = np.radians([[p.lon, p.lat] for p in b]).T
    h = (
        np.sin((lat1[:, None] - lat2[None, :]) / 2) ** 2
        + np.cos(lat1)[:, None] * np.cos(lat2)[None, :] * np.sin((lon1[:, None] - lon2) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def hosting(snapshot: Snapshot, places: dict[str, Place], params: Parameters) -> dict[str, int]:
    """People hosted per baladiya, meeting every published hosting and region figure."""
    fixed = dict(snapshot.hosted)
    for pcode, share in snapshot.hosted_share.items():
        fixed.setdefault(pcode, round(snapshot.total * share / 100))
    regions = dict(snapshot.region_total)
    for region, share in snapshot.region_share.items():
        regions.setdefault(region, round(snapshot.total * share / 100))
    rest = sorted({p.region for p in places.values()} - set(regions))
    unassigned = snapshot.total - sum(regions.values())
    if unassigned < 0:
        raise ModelError("published region figures exceed the total")
    if unassigned:
        # The remainder goes to the region that hosts most outside the published regions:
        # with no figure for it, the nearest region to the epicentre that is not listed.
        if not rest:
            raise ModelError("published region figures do not add up to the total")
        regions[_nearest_region(rest, places, params)] = unassigned
    # Unnamed hosts stay below every named one: under the smallest published count, and
    # under the smallest published share as rounded (7.4% stays "7%" beside an "8%").
    caps = [v - 1 for v in snapshot.hosted.values()]
    caps += [
        math.ceil((share - 0.5) * snapshot.total / 100) - 1
        for share in snapshot.hosted_share.values()
    ]
    cap = min(caps) if caps else None
    epicentre = places[params.epicentre]
    out = dict(fixed)
    for region, total in sorted(regions.items()):
        in_region = [p for p in places.values() if p.region == region]
        remaining = total - sum(v for k, v in fixed.items() if places[k].region == region)
        if remaining < 0:
            raise ModelError(f"published hosting figures exceed region {region}'s total")
        if remaining == 0:
            continue
        candidates = [p for p in in_region if p.pcode not in fixed and p.population]
        d = distances_km([epicentre], candidates)[0]
        gravity = {
            p.pcode: p.population / max(km, params.min_distance_km) ** 2
            for p, km in zip(candidates, d, strict=True)
        }
        n_fixed = sum(1 for k in fixed if places[k].region == region)
        hosts = params.hosts_per_region.get(region, len(candidates) + n_fixed) - n_fixed
        top = dict(sorted(gravity.items(), key=lambda kv: (-kv[1], kv[0]))[: max(hosts, 1)])
        out.update(_capped(remaining, top, cap))
    return {k: v for k, v in out.items() if v > 0}


def _nearest_region(regions: list[str], places: dict[str, Place], params: Parameters) -> str:
    epicentre = places[params.epicentre]
    best = {}
    for region in regions:
        members = [p for p in places.values() if p.region == region]
        best[region] = distances_km([epicentre], members)[0].min()
    return min(best, key=lambda r: (best[r], r))


def _capped(total: int, weights: dict[str, float], cap: int | None) -> dict[str, int]:
    """Apportion `total`, no key above `cap` (water-filling), as whole numbers."""
    if cap is None:
        return apportion(total, weights)
    if cap * len(weights) < total:
        raise ModelError("too few hosts to stay below the smallest published hosting figure")
    held: dict[str, int] = {}
    free = dict(weights)
    while True:
        shares = apportion(total - sum(held.values()), free)
        over = {k for k, v in shares.items() if v > cap}
        if not over:
            return {**held, **shares}
        for k in over:
            held[k] = cap
            free.pop(k)


def origin_totals(
    snapshot: Snapshot, hosted: dict[str, int], places: dict[str, Place], params: Parameters
) -> dict[str, dict[str, int]]:
    """region -> origin -> people from that origin hosted in the region."""
    by_region: dict[str, int] = {}
    for pcode, n in hosted.items():
        by_region[places[pcode].region] = by_region.get(places[pcode].region, 0) + n
    overall = apportion(snapshot.total, params.origin_weights)
    out = {}
    for region, total in sorted(by_region.items()):
        fixed = {
            origin: round(overall[origin] * share / 100)
            for (origin, r), share in snapshot.origin_share_in_region.items()
            if r == region
        }
        if sum(fixed.values()) > total:
            raise ModelError(f"published origin shares exceed region {region}'s total")
        others = {k: v for k, v in params.origin_weights.items() if k not in fixed}
        out[region] = {**fixed, **apportion(total - sum(fixed.values()), others)}
    return out


def fit(rows: np.ndarray, cols: np.ndarray, seed: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Iterative proportional fitting of `seed` to row and column totals."""
    m = seed.astype(float).copy()
    for _ in range(10_000):
        m *= np.divide(rows, m.sum(1), out=np.zeros_like(rows, dtype=float), where=m.sum(1) > 0)[
            :, None
        ]
        m *= np.divide(cols, m.sum(0), out=np.zeros_like(cols, dtype=float), where=m.sum(0) > 0)
        if np.abs(m.sum(1) - rows).max() < tol:
            return m
    raise ModelError("the flow matrix did not converge to the published totals")


def whole(m: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Round a fitted matrix to whole people, keeping every row and column total."""
    out = np.floor(m + 1e-9).astype(np.int64)
    need_r, need_c = rows - out.sum(1), cols - out.sum(0)
    frac = m - out
    for flat in np.argsort(-frac, axis=None, kind="stable"):
        i, j = divmod(int(flat), m.shape[1])
        if need_r[i] > 0 and need_c[j] > 0:
            out[i, j] += 1
            need_r[i] -= 1
            need_c[j] -= 1
    if need_r.any() or need_c.any():
        raise ModelError("could not round the flow matrix to whole people")
    return out


def model_flows(snapshot: Snapshot, places: dict[str, Place], params: Parameters) -> list[Flow]:
    """The modelled flows of one snapshot (idp individuals; households if published)."""
    hosted = hosting(snapshot, places, params)
    origins = origin_totals(snapshot, hosted, places, params)
    flows: list[tuple[str, str, int]] = []
    for region, by_origin in origins.items():
        o = sorted(k for k, v in by_origin.items() if v > 0)
        d = sorted(k for k, v in hosted.items() if places[k].region == region)
        seed = np.exp(
            -distances_km([places[k] for k in o], [places[k] for k in d]) / params.decay_km
        )
        rows = np.array([by_origin[k] for k in o], dtype=float)
        cols = np.array([hosted[k] for k in d], dtype=float)
        matrix = whole(fit(rows, cols, seed), rows.astype(np.int64), cols.astype(np.int64))
        flows += [(o[i], d[j], int(matrix[i, j])) for i, j in zip(*np.nonzero(matrix), strict=True)]
    households: dict[tuple[str, str], int] = {}
    if snapshot.households is not None:
        households = apportion(snapshot.households, {(a, b): n for a, b, n in flows})
    return [
        Flow(a, b, n, households.get((a, b)) if snapshot.households is not None else None)
        for a, b, n in sorted(flows)
    ]
