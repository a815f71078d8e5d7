"""Read API throughput and latency, side by side with a trivial endpoint of the same app.

Usage: .venv/bin/python bench/read_api.py [--seconds 5] [--concurrency 1,4,16]

Brings the database up (DATABASE_URL or the embedded cluster), loads the default data,
starts one uvicorn worker on loopback and drives each endpoint with wrk (gzip accepted).
The ratio column is /healthz's requests/s over the endpoint's at the same concurrency
(below 1 means faster than the trivial endpoint, which goes through routing). `cold ms` is
the first request, which renders the body and fills the cache for this data version.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import drive, serve, warm

ENDPOINTS = [
    ("ceiling: /healthz", "/healthz"),
    ("GeoJSON 100 baladiyas R54", "/api/v1/stats?level=2&round=R54&format=geojson"),
    ("JSON 22 mantikas R54", "/api/v1/stats?level=1&round=R54"),
    ("CSV 100 baladiyas R54", "/api/v1/stats?level=2&round=R54&format=csv"),
    ("JSON 100 baladiyas R39", "/api/v1/stats?level=2&round=R39"),
    ("JSON 663 muhallas R39", "/api/v1/stats?level=3&round=R39&limit=2000"),
    ("GeoJSON 663 muhallas R39", "/api/v1/stats?level=3&round=R39&format=geojson&limit=1000"),
    ("CSV 663 muhallas R39", "/api/v1/stats?level=3&round=R39&format=csv&limit=2000"),
    ("OGC items baladiyas", "/ogc/collections/stats-admin2/items?limit=100"),
    ("OGC items 663 muhallas", "/ogc/collections/stats-admin3/items?limit=1000"),
    ("JSON national series", "/api/v1/stats/timeseries?level=0"),
    ("JSON change R50->R54", "/api/v1/stats/change?level=0&from_round=R50&to_round=R54"),
    ("GeoJSON mantika areas", "/api/v1/areas?level=1&format=geojson"),
    ("DTM v3 admin0 Libya", "/v3/displacement/admin0?CountryName=Libya"),
    ("DTM v3 admin2 Libya", "/v3/displacement/admin2?CountryName=Libya"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--concurrency", default="1,4,16")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]

    from app.cli import database_up
    from app.loaders.default_data import load_default_data
    from app.settings import get_settings

    settings = get_settings()
    url = database_up(settings)
    load_default_data(url, settings.data_dir)

    with serve(url) as base:
        print(
            f"{'endpoint':<28} {'bytes(gz)':>9} {'c':>3} {'req/s':>8} {'p50 ms':>7} "
            f"{'p99 ms':>7} {'ratio':>6}"
        )
        ceiling: dict[int, float] = {}
        for label, path in ENDPOINTS:
            size, cold = warm(base + path)
            for c in levels:
                result = drive(base + path, c, args.seconds)
                if path == "/healthz":
                    ceiling[c] = result.rps
                ratio = ceiling[c] / result.rps if result.rps else float("inf")
                errors = f"  ({result.errors} errors)" if result.errors else ""
                print(
                    f"{label:<28} {size:>9} {cold:>7.1f} {c:>3} {result.rps:>8.0f} "
                    f"{result.p50_ms:>7.2f} {result.p99_ms:>7.2f} {ratio:>5.2f}x{errors}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
