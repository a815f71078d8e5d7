"""A round report, a print map, a QGIS project and a style cold and cached, through the
application (goal for the report: cold under 5 s, cached under 50 ms).

Cold is the first request of a fresh process (no memo, no cached answer), one process per
report; cached is the median of 20 more requests of the same URL (answered from the
response cache keyed by the data version). Reads DATABASE_URL (with the default data
loaded: `dtm-geo load`).

    PYTHONPATH=. .venv/bin/python bench/report.py
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

REPORTS = [
    "/api/v1/reports/R39?lang=en&format=pdf",
    "/api/v1/reports/R39?lang=ar&format=pdf",
    "/api/v1/reports/R39?lang=ar&format=html",
    "/api/v1/reports/IRQ-R132?lang=en&format=pdf",
    "/api/v1/maps/IRQ-R132.pdf?level=2&size=A3&orientation=portrait",
    "/api/v1/maps/IRQ-R132.png?level=2&size=A3&lang=ar",
    "/ogc/project.qgz?operation=IRQ&lang=ar",
    "/ogc/project.qgz?operation=LBY&lang=en",
    "/ogc/collections/irq-stats-admin2/styles/idp?f=sld",
]
REPEATS = 20


def one(url: str) -> dict:
    """In this (fresh) process: the first request's and the cached requests' seconds."""
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.settings import Settings

    with TestClient(create_app(Settings())) as client:
        client.get("/healthz")  # the app and its pool up: not the report's cost
        started = time.perf_counter()
        first = client.get(url)
        cold = time.perf_counter() - started
        assert first.status_code == 200, first.text
        times = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            again = client.get(url)
            times.append(time.perf_counter() - started)
            assert again.content == first.content
    return {
        "url": url,
        "bytes": len(first.content),
        "cold": cold,
        "cached": statistics.median(times),
    }


def main() -> None:
    if len(sys.argv) == 2:
        print(json.dumps(one(sys.argv[1])))
        return
    print(f"{'answer':64} {'bytes':>8} {'cold s':>8} {'cached ms':>10}")
    for url in REPORTS:
        found = subprocess.run(
            [sys.executable, __file__, url], capture_output=True, text=True, check=True
        )
        r = json.loads(found.stdout.strip().splitlines()[-1])
        print(f"{r['url']:64} {r['bytes']:>8} {r['cold']:>8.2f} {1000 * r['cached']:>10.2f}")
    print("goals: cold < 5 s, cached < 50 ms")


if __name__ == "__main__":
    main()
