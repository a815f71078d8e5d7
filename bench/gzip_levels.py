"""Compressing first answers: zlib (the standard library) against ISA-L (`isal`), on real
answers of the API read from the database `make run` uses.

Usage: .venv/bin/python bench/gzip_levels.py [--repeat 200]

Prints, per answer and compressor, the compressed size and the median time of one call.
Every answer is compressed once on its way out (app.api.rendered), so this time is
part of every first answer's cost.
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import sys
import time
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

ANSWERS = {
    "stats JSON, 100 baladiyas R54": "/api/v1/stats?level=2&round=R54",
    "stats GeoJSON, 100 baladiyas R54": "/api/v1/stats?level=2&round=R54&format=geojson",
    "stats JSON, 663 muhallas R39": "/api/v1/stats?level=3&round=R39",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    from isal import igzip

    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

    from app.main import create_app

    compressors = {
        "zlib level 6": lambda body: gzip.compress(body, compresslevel=6),
        "zlib level 1": lambda body: gzip.compress(body, compresslevel=1),
        "ISA-L level 1": lambda body: igzip.compress(body, compresslevel=1),
    }
    with TestClient(create_app()) as client:
        bodies = {name: client.get(path).content for name, path in ANSWERS.items()}
    print(f"{'answer':<34} {'bytes':>8}  {'compressor':<14} {'gzipped':>8} {'median':>9}")
    for name, body in bodies.items():
        for label, compress in compressors.items():
            assert gzip.decompress(compress(body)) == body
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                compress(body)
                times.append(time.perf_counter() - start)
            print(f"{name:<34} {len(body):>8}  {label:<14} {len(compress(body)):>8} "
                  f"{1e6 * statistics.median(times):>6.0f} us")  # fmt: skip


if __name__ == "__main__":
    main()
