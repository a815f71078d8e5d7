"""CQL2 filters on OGC items: what parsing costs, and an uncached filtered request beside an
uncached unfiltered one of the same layer, in the same run.

Usage: .venv/bin/python bench/ogc_filter.py [--requests 200]

Every request has a URL of its own (a different number in it), so that none is answered
from the response cache: the comparison is of the full path, database query included.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import serve

FILTER = "migrants > {n} AND name_en LIKE '%a%' OR S_INTERSECTS(geometry, BBOX(22,32,23,33))"
FILTER_JSON = (
    '{{"op": "or", "args": [{{"op": "and", "args": ['
    '{{"op": ">", "args": [{{"property": "migrants"}}, {n}]}}, '
    '{{"op": "like", "args": [{{"property": "name_en"}}, "%a%"]}}]}}, '
    '{{"op": "s_intersects", "args": [{{"property": "geometry"}}, '
    '{{"bbox": [22, 32, 23, 33]}}]}}]}}'
)


def timed(url: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as response:
        response.read()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    from app.cli import database_up
    from app.loaders.default_data import load_default_data
    from app.services import cql2
    from app.settings import get_settings

    started = time.perf_counter()
    cql2.parse("migrants > 1", "cql2-text")
    print(f"first parse in a process: {time.perf_counter() - started:.3f} s")
    types = {"migrants": "integer", "name_en": "string", "geometry": "geometry"}
    started = time.perf_counter()
    for n in range(1000):
        cql2.parse(FILTER.format(n=n), "cql2-text")
    print(f"parse (cql2-rs): {(time.perf_counter() - started):.3f} ms per filter (1000)")
    started = time.perf_counter()
    for n in range(1000):
        cql2.to_sql(cql2.parse(FILTER.format(n=n), "cql2-text"), types)
    print(f"parse and translate: {(time.perf_counter() - started):.3f} ms per filter (1000)")
    started = time.perf_counter()
    for n in range(1000):
        cql2.to_sql(cql2.parse(FILTER_JSON.format(n=n), "cql2-json"), types)
    print(f"the same in CQL2-JSON: {(time.perf_counter() - started):.3f} ms per filter (1000)")

    settings = get_settings()
    url = database_up(settings)
    load_default_data(url, settings.data_dir)
    with serve(url) as base:
        items = f"{base}/ogc/collections/stats-admin2/items?round=R54"
        plain, filtered = [], []
        for n in range(args.requests):
            plain.append(timed(f"{items}&limit={1000 + n}"))
            query = urllib.parse.urlencode({"filter": FILTER.format(n=n)})
            filtered.append(timed(f"{items}&limit={1000 + n}&{query}"))
        a, b = statistics.median(plain), statistics.median(filtered)
        print(f"uncached items, 100 baladiyas, median of {args.requests}: {a:.2f} ms")
        print(f"uncached items with the filter above, median: {b:.2f} ms")
        print(f"ratio: {b / a:.2f}x the unfiltered request's time")


if __name__ == "__main__":
    main()
