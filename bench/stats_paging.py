"""Why statistics pages are cut from rows rolled up once per data version, not by SQL.

Usage: .venv/bin/python bench/stats_paging.py [--repeats 400]

One page of `/api/v1/stats?level=2&round=R54` (100 baladiyas, every row on the page),
three ways, in alternation on the database `make run` uses, medians in milliseconds:
1. the service as it is: the filter's rows rolled up once per data version (app.memo),
   the page sliced from them;
2. SQL paging over the live roll-up: the statistics query with LIMIT/OFFSET and a window
   count, run for every page;
3. SQL paging over a stored roll-up: the same rows kept in an indexed table (as a table
   refreshed by every write would hold them), one indexed SELECT with LIMIT/OFFSET per page.
The request budget at 5x tipg's baladiya items rate (about 150 req/s on this machine) is
1.3 ms for the whole request, framework included.
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
from app.services import stats
from app.services.paging import Page
from app.services.stats import StatsFilter
from app.settings import get_settings

ORDER = "ORDER BY reporting_date NULLS LAST, round_code, pcode, population_type, reason"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=400)
    args = parser.parse_args()
    engine = db.get_engine(get_settings().effective_database_url)
    with Session(engine) as session:
        round_id = session.execute(text("SELECT id FROM rounds WHERE code = 'R54'")).scalar()
        if round_id is None:
            sys.exit("no Round 54 in the database: run `make run` once to load the default data")
        flt = StatsFilter(level=2, round_ids=(round_id,))
        rows = stats._query(session, flt)
        live = (
            stats._SQL[2]
            .rsplit("ORDER BY", 1)[0]
            .replace("res.reason AS displacement_reason", "res.reason")
        )
        session.execute(text(f"CREATE TEMP TABLE stored AS {live}"), flt.params())
        session.execute(text("CREATE INDEX ON stored (round_code, pcode, population_type)"))
        page_sql = text(
            f"SELECT *, count(*) OVER () AS total FROM ({live}) s {ORDER} "
            "LIMIT :limit OFFSET :offset"
        )
        stored_sql = text(
            "SELECT *, count(*) OVER () AS total FROM stored WHERE round_code = 'R54' "
            f"{ORDER} LIMIT :limit OFFSET :offset"
        )
        ways = {
            "slice of rows rolled up once": lambda limit: Page(limit, 0).slice(rows),
            "SQL page of the live roll-up": lambda limit: [
                dict(r)
                for r in session.execute(
                    page_sql, {**flt.params(), "limit": limit, "offset": 0}
                ).mappings()
            ],
            "SQL page of a stored roll-up": lambda limit: [
                dict(r)
                for r in session.execute(stored_sql, {"limit": limit, "offset": 0}).mappings()
            ],
        }
        times: dict[str, list[float]] = {name: [] for name in ways}
        for i in range(args.repeats):
            for name, way in ways.items():
                start = time.perf_counter()
                got = way(1000 + i)
                times[name].append((time.perf_counter() - start) * 1000)
                assert len(got) == len(rows), name
    base = statistics.median(times["slice of rows rolled up once"])
    print(f"one page of {len(rows)} rows, {args.repeats} times each, in alternation")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<32} median {median:8.3f} ms  ({median / base:,.0f}x the slice)")


if __name__ == "__main__":
    main()
