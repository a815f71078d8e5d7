"""A sync of Iraq's whole DTM API history from a loopback API: cold, then with nothing new.

Usage: .venv/bin/python bench/sync_iraq.py [--runs 3]

Brings the database up (DATABASE_URL or the embedded cluster), loads the default data into
a database of its own (bench.common.scratch_database), removes Iraq's API rounds (all but
the Master List's Round 123), and serves the real Iraq records (7,691 district records,
1,430 governorate and 80 national records, 80 rounds; tests/upstreams.py) from a DTM API
on loopback. Each run times `app.sync.run.sync_dtm_api` for Iraq: the cold sync (every
round written through the ingest pipeline) and then a sync with nothing new. Between runs
the rounds are removed again.

Goals: cold under 30 s, nothing-new under 2 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.common import scratch_database  # noqa: E402

COLD_GOAL, NOTHING_NEW_GOAL = 30.0, 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from app.settings import Settings, get_settings
    from app.sync import run
    from tests.upstreams import Upstream, iraq_records, remove_iraq_api_rounds

    upstream = Upstream(records={"IRQ": iraq_records(get_settings().data_dir)})
    server = upstream.start()
    cold, nothing = [], []
    with scratch_database() as url:
        settings = Settings(database_url=url, dtm_api_url=upstream.base, dtm_api_key=upstream.key)
        for i in range(1, args.runs + 1):
            remove_iraq_api_rounds(url)
            started = time.perf_counter()
            outcomes = run.sync_dtm_api(url, settings, ["IRQ"])
            cold.append(time.perf_counter() - started)
            counts = Counter(o.status for o in outcomes)
            started = time.perf_counter()
            again = run.sync_dtm_api(url, settings, ["IRQ"])
            nothing.append(time.perf_counter() - started)
            assert {o.status for o in again} == {"unchanged"}, Counter(o.status for o in again)
            print(
                f"run {i}: cold {cold[-1]:.1f} s ({dict(counts)}), nothing new {nothing[-1]:.2f} s"
            )
    server.shutdown()
    records = sum(len(v) for v in upstream.records["IRQ"].values())
    print(f"records served: {records:,}")
    print(
        f"cold sync: median {statistics.median(cold):.1f} s (goal < {COLD_GOAL:.0f} s); "
        f"nothing new: median {statistics.median(nothing):.2f} s "
        f"(goal < {NOTHING_NEW_GOAL:.0f} s)"
    )


if __name__ == "__main__":
    main()
