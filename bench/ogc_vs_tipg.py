"""OGC API items and vector tiles: DTM Geo beside tipg on the same PostGIS, same run.

Usage: .venv/bin/python bench/ogc_vs_tipg.py [--seconds 5] [--connections 16]

tipg (developmentseed's OGC server) is installed only in a separate benchmark virtualenv:
    python3 -m venv .venv-bench && .venv-bench/bin/pip install tipg uvicorn
It serves views of the same tables, Libya's and Iraq's areas (schema `tipg_bench`, created
here and dropped after). One uvicorn worker each; wrk drives both with gzip accepted.
"""

from __future__ import annotations

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.common import beside_tipg, drive, serve, warm  # noqa: E402

# (label, DTM Geo path, tipg path)
CASES = [
    (
        "items: 22 mantikas",
        "/ogc/collections/mantikas/items?limit=100",
        "/collections/tipg_bench.mantikas/items?limit=100",
    ),
    (
        "items: 100 baladiyas",
        "/ogc/collections/baladiyas/items?limit=100",
        "/collections/tipg_bench.baladiyas/items?limit=100",
    ),
    (
        "tile: mantikas z5",
        "/ogc/tiles/mantikas/5/18/13.pbf",
        "/collections/tipg_bench.mantikas/tiles/WebMercatorQuad/5/18/13",
    ),
    (
        "tile: baladiyas z6",
        "/ogc/tiles/baladiyas/6/36/25.pbf",
        "/collections/tipg_bench.baladiyas/tiles/WebMercatorQuad/6/36/25",
    ),
    (
        "items: 101 irq districts",
        "/ogc/collections/irq-districts/items?limit=200",
        "/collections/tipg_bench.irq_districts/items?limit=200",
    ),
    (
        "items: 294 irq subdists",
        "/ogc/collections/irq-subdistricts/items?limit=300",
        "/collections/tipg_bench.irq_subdistricts/items?limit=300",
    ),
    # the tiles holding Baghdad (lon 44.4, lat 33.3)
    (
        "tile: irq districts z6",
        "/ogc/tiles/irq-districts/6/39/25.pbf",
        "/collections/tipg_bench.irq_districts/tiles/WebMercatorQuad/6/39/25",
    ),
    (
        "tile: irq subdists z7",
        "/ogc/tiles/irq-subdistricts/7/79/51.pbf",
        "/collections/tipg_bench.irq_subdistricts/tiles/WebMercatorQuad/7/79/51",
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    with beside_tipg() as (url, tipg_base), serve(url) as ours:
        print(
            f"{'case':<24} {'server':<8} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7}  "
            f"c={args.connections}, {args.seconds} s"
        )
        for label, our_path, tipg_path in CASES:
            results = {}
            for server, base, path in (
                ("tipg", tipg_base, tipg_path),
                ("dtm-geo", ours, our_path),
            ):
                warm(base + path)
                results[server] = drive(base + path, args.connections, args.seconds)
                r = results[server]
                errors = f" ({r.errors} errors)" if r.errors else ""
                print(
                    f"{label:<24} {server:<8} {r.rps:>8.0f} {r.p50_ms:>7.2f} "
                    f"{r.p99_ms:>7.2f}{errors}",
                    flush=True,
                )
            ratio = results["dtm-geo"].rps / max(results["tipg"].rps, 1e-9)
            print(f"{label:<24} ratio: DTM Geo serves {ratio:.1f}x tipg's requests/s", flush=True)


if __name__ == "__main__":
    main()
