"""No 500 during a database outage: PostgreSQL is stopped and started under load.

The embedded cluster of the test run (app.localdb.LocalCluster, in .pgdata) is stopped
with pg_ctl as the project stops it, while threads ask a two-worker `dtm-geo serve` for
distinct URLs (uncached answers) and cached ones. Every answer must be 200 (204 for an
empty tile), 304 or 503 (with Retry-After), during the stop, the outage, the start-up
("the database system is starting up") and after it; the service must recover by
itself. The cluster is back and every pooled connection of this process renewed before
the test ends.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from contextlib import contextmanager

import httpx
import pytest

from app.db import dispose_engines
from app.localdb import LocalCluster, find_binaries
from tests.conftest import serve


def distinct_urls():
    """Endless distinct read URLs (each one a first answer), with a cached one between."""
    for n in itertools.count():
        yield f"/api/v1/stats?level=2&round=R54&limit=3&offset={n % 97}&population_type=migrant"
        yield f"/ogc/collections/baladiyas/items?limit=2&offset={n % 99}"
        yield f"/api/v1/areas?level=2&limit=1&offset={n % 100}"
        yield f"/ogc/tiles/mantikas/6/{34 + n % 8}/{24 + n // 8 % 8}.pbf?n={n}"
        yield "/api/v1/rounds"  # cached: served stale while the database is away
        yield "/readyz"


def hammer(base: str, stop: threading.Event, seen: Counter, bad: list, offset: int) -> None:
    urls = distinct_urls()
    for _ in range(offset):
        next(urls)
    with httpx.Client(base_url=base, timeout=30) as client:
        deadline = time.monotonic() + 120  # bounded, whatever happens
        while not stop.is_set() and time.monotonic() < deadline:
            url = next(urls)
            try:
                response = client.get(url)
            except httpx.TransportError as exc:  # a dropped connection is a failure too
                bad.append((url, type(exc).__name__))
                continue
            seen[response.status_code] += 1
            if response.status_code not in (200, 204, 304, 503) or (
                response.status_code == 503
                and url != "/readyz"
                and "Retry-After" not in response.headers
            ):
                bad.append((url, response.status_code, response.text[:300]))


def test_a_database_stop_and_start_under_load_answers_only_503(
    settings, db_url, first_load, engine
):
    if not settings.uses_local_db:
        pytest.skip("stops the embedded cluster; DATABASE_URL points elsewhere")
    cluster = LocalCluster(settings, say=lambda _: None)
    binaries = find_binaries()
    with contextmanager(serve)(db_url, WORKERS="2", DATA_VERSION_TTL="0.2") as base:
        stop, seen, bad = threading.Event(), Counter(), []
        threads = [
            threading.Thread(target=hammer, args=(base, stop, seen, bad, i * 3)) for i in range(2)
        ]
        for thread in threads:
            thread.start()
        try:
            time.sleep(2)
            before = sum(seen.values())
            cluster.stop()  # pg_ctl stop -m fast, as `dtm-geo db stop` does
            assert not cluster.running(binaries)
            time.sleep(3)
            during = Counter(seen)
            cluster.ensure_running()  # pg_ctl start -w, as `dtm-geo db up` does
            time.sleep(4)  # recovery: first answers again
            after = Counter(seen)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
            cluster.ensure_running()
            dispose_engines()
            engine.dispose()
        print(f"answers before {before}, during {dict(during)}, after {dict(after)}")
        assert bad == [], bad[:10]
        assert before > 0 and during[503] > 0, (before, during)
        assert after[200] > during[200], "the service did not recover after the start"
        with httpx.Client(base_url=base, timeout=30) as client:
            assert client.get("/readyz").status_code == 200
    with engine.connect() as conn:  # this process's connections work again too
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1
