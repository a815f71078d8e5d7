"""Hotspots and flows: the service beside esda called directly, and the flows endpoints.

Usage: .venv/bin/python bench/hotspots.py [--repeats 5] [--grid 100] [--seconds 5]

1. The 100 baladiyas (Round 54 migrants per 1,000 residents, knn k=6, 999 permutations):
   the service's whole computation (weights, esda, classes; the values and areas either
   cached for the data version or read from PostGIS) and an uncached HTTP request (a new
   seed each time), beside esda's G_Local / Moran_Local on the same arrays and prebuilt
   weights, in alternation; medians and the ratio.
2. A synthetic grid of grid x grid points (10,000 by default): app.geo.hotspots.analyse
   (weights, islands checked, statistic, classes), with its weights cached as the service
   caches them per data version and built afresh, beside esda on the same arrays and
   prebuilt weights.
3. The flows and event endpoints through one uvicorn worker with wrk (cached answers),
   beside /healthz.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import esda
import geopandas as gpd
import numpy as np
from libpysal.weights import KNN
from shapely import points

from bench.common import drive, serve, warm

PERMUTATIONS, SEED = 999, 12345
FLOW_ENDPOINTS = [
    ("ceiling: /healthz", "/healthz"),
    ("flows JSON 31 Oct", "/api/v1/flows?round=storm-daniel-2023-10-31"),
    ("flows GeoJSON arcs", "/api/v1/flows?round=storm-daniel-2023-10-31&format=geojson&arc=true"),
    ("flows mantika level", "/api/v1/flows?origin_level=1&destination_level=1"),
    ("flow balances", "/api/v1/flows/areas?level=2"),
    ("event storm-daniel", "/api/v1/events/storm-daniel-2023"),
    ("hotspots R54 rate", "/api/v1/hotspots?round=R54&population_type=migrant&metric=rate"),
]


def direct(method: str, y: np.ndarray, w, seed: int):
    if method == "gi":
        return esda.G_Local(
            y, w, transform="B", permutations=PERMUTATIONS, star=True, n_jobs=1, seed=seed
        )
    w.transform = "r"
    return esda.Moran_Local(
        y, w, transformation="r", permutations=PERMUTATIONS, n_jobs=1, seed=seed
    )


def timed(fn) -> float:
    # A collection in the middle of one side's run would be charged to it: collect first.
    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter()
        fn()
        return time.perf_counter() - started
    finally:
        gc.enable()


def side_by_side(label: str, service, esda_direct, repeats: int) -> None:
    a, b = [], []
    service(), esda_direct()  # warm-up (imports, caches)
    for _ in range(repeats):
        a.append(timed(service))
        b.append(timed(esda_direct))
    ms_a, ms_b = statistics.median(a) * 1000, statistics.median(b) * 1000
    print(f"{label:<44} {ms_a:>9.1f} {ms_b:>9.1f} {ms_a / ms_b:>6.2f}x")


def baladiyas(url: str, base: str, repeats: int) -> None:
    from sqlalchemy import text

    from app.db import session_scope
    from app.geo.hotspots import Options
    from app.services import hotspots

    with session_scope(url) as session:
        round_id = session.execute(text("SELECT id FROM rounds WHERE code = 'R54'")).scalar_one()
        found = hotspots.inputs(session, 2, round_id, "migrant", "rate", None, False)
    pts = np.column_stack([found.frame.geometry.x, found.frame.geometry.y])
    y = found.values
    for method, cold in (("gi", False), ("moran", False), ("gi", True)):

        def service(method=method, cold=cold):
            if cold:
                hotspots.clear_cache()
            with session_scope(url) as session:
                hotspots.compute(
                    session,
                    2,
                    round_id,
                    "migrant",
                    "rate",
                    None,
                    Options(method=method, permutations=PERMUTATIONS, seed=SEED),
                )

        w = KNN.from_array(pts, k=6, radius=6371.0088)
        what = "inputs read from PostGIS" if cold else "inputs cached"
        side_by_side(
            f"100 baladiyas {method} ({what})",
            service,
            lambda method=method, w=w: direct(method, y, w, SEED),
            repeats,
        )
    seeds = iter(range(1, 10_000))

    def cold_http():
        path = "/api/v1/hotspots?round=R54&population_type=migrant&metric=rate"
        urllib.request.urlopen(f"{base}{path}&seed={next(seeds)}", timeout=120).read()

    w = KNN.from_array(pts, k=6, radius=6371.0088)
    side_by_side(
        "100 baladiyas gi (cold HTTP request)", cold_http, lambda: direct("gi", y, w, SEED), repeats
    )


def grid(n: int, repeats: int) -> None:
    from app.geo.hotspots import Options, analyse

    rng = np.random.default_rng(SEED)
    xs, ys = np.meshgrid(np.linspace(10, 25, n), np.linspace(20, 33, n))
    frame = gpd.GeoDataFrame(
        {"pcode": [f"G{i:05d}" for i in range(n * n)]},
        geometry=points(xs.ravel(), ys.ravel()),
        crs="EPSG:4326",
    ).set_index("pcode", drop=False)
    frame.index.name = None
    y = rng.lognormal(3, 1, n * n)
    coords = np.column_stack([xs.ravel(), ys.ravel()])
    for method, cached in (("gi", True), ("moran", True), ("gi", False), ("moran", False)):
        w = KNN.from_array(coords, k=6, radius=6371.0088, ids=list(frame.index))
        what = "weights cached" if cached else "weights built"
        side_by_side(
            f"{n * n} grid points {method} ({what})",
            lambda method=method, cached=cached: analyse(
                frame,
                y,
                Options(method=method, permutations=PERMUTATIONS, seed=SEED),
                cache_key="grid" if cached else None,
            ),
            lambda method=method, w=w: direct(method, y, w, SEED),
            repeats,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--grid", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()

    from app.cli import database_up
    from app.loaders.default_data import load_default_data
    from app.settings import get_settings

    settings = get_settings()
    url = database_up(settings)
    load_default_data(url, settings.data_dir)

    print(f"{'hotspots: 999 permutations, median of runs':<44} {'service':>9} {'esda':>9}  ratio")
    print(f"{'':<44} {'ms':>9} {'ms':>9}")
    with serve(url) as base:
        baladiyas(url, base, args.repeats)
        grid(args.grid, args.repeats)

        print()
        print(
            f"{'endpoint (cached)':<24} {'bytes(gz)':>9} {'cold ms':>8} {'c':>3} {'req/s':>8} "
            f"{'p50 ms':>7} {'p99 ms':>7}"
        )
        for label, path in FLOW_ENDPOINTS:
            size, cold = warm(base + path)
            for c in (1, 16):
                r = drive(base + path, c, args.seconds)
                print(
                    f"{label:<24} {size:>9} {cold:>8.1f} {c:>3} {r.rps:>8.0f} {r.p50_ms:>7.2f} "
                    f"{r.p99_ms:>7.2f}"
                )


if __name__ == "__main__":
    main()
