"""What the stored roll-up costs a write, and what a page of statistics costs a read.

Usage: .venv/bin/python bench/rollup.py [--repeats 200]

On the database `make run` uses, in transactions rolled back afterwards:
1. the write side: rebuilding the roll-up and the stored map of every round (the default
   load), of the largest round (Round 39, per muhalla) and of a small one (Round 54), and
   the roll-up alone (so the map's share shows), medians of 5, each in its own
   transaction, rolled back and vacuumed after;
2. the read side: one page of `/api/v1/stats?level=2&round=R54` (100 baladiyas) by SQL
   over the stored roll-up, as the service makes it, against the same rows rolled up live
   from the observations (what a page cost before the roll-up was stored), in
   alternation, medians in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import text
from sqlalchemy.orm import Session

from app import db
from app.services import rollup, stats
from app.services.paging import Page
from app.services.stats import StatsFilter
from app.settings import get_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    engine = db.get_engine(get_settings().effective_database_url)
    with Session(engine) as session:
        ids = dict(session.execute(text("SELECT code, id FROM rounds")).all())
        if "R54" not in ids or "R39" not in ids:
            sys.exit("no Rounds 39 and 54 in the database: run `make run` once first")
        stored = session.execute(text("SELECT count(*) FROM rolled_up_figures")).scalar()
        print(f"write side: rebuilding the roll-up ({stored:,} stored rows in all)")
        for label, rounds in (
            ("every round", None),
            ("Round 39 (muhallas)", [ids["R39"]]),
            ("Round 54", [ids["R54"]]),
        ):
            times: dict[str, list[float]] = {"with the map": [], "roll-up alone": []}
            for _ in range(5):  # each in its own transaction, rolled back and vacuumed
                for name, rebuild in (
                    ("with the map", rollup.refresh),
                    ("roll-up alone", rollup.refresh_figures),
                ):
                    start = time.perf_counter()
                    rebuild(session, rounds)
                    times[name].append((time.perf_counter() - start) * 1000)
                    session.rollback()
                    with engine.connect() as conn:
                        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                            text("VACUUM rolled_up_figures, mapped_areas")
                        )
            both, alone = (statistics.median(t) for t in times.values())
            print(f"  {label:<22} median {both:8.1f} ms (the roll-up alone {alone:.1f} ms)")

        flt = StatsFilter(level=2, round_ids=(ids["R54"],))
        # the live roll-up of one round, as the refresh computes it, read instead of stored
        live = text(
            rollup._REFRESH.split("INSERT INTO", 1)[0]
            + "SELECT * FROM levels WHERE level = 2 ORDER BY pcode LIMIT :limit"
        )
        params = {"qualities": ["published"], "collapse": False, "all_rounds": False}
        ways = {
            "SQL page of the stored roll-up": lambda: (
                stats.statistics(session, flt, Page(100, 0)).rows
            ),
            "SQL page of a live roll-up": lambda: session.execute(
                live, {**params, "round_ids": [ids["R54"]], "limit": 100}
            ).all(),
        }
        times: dict[str, list[float]] = {name: [] for name in ways}
        for _ in range(args.repeats):
            for name, way in ways.items():
                start = time.perf_counter()
                got = way()
                times[name].append((time.perf_counter() - start) * 1000)
                assert len(got) == 100, (name, len(got))
    print(f"read side: one page of 100 baladiyas, {args.repeats} times each, in alternation")
    base = statistics.median(times["SQL page of the stored roll-up"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:<32} median {median:8.3f} ms  ({median / base:.1f}x)")


if __name__ == "__main__":
    main()
