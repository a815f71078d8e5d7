"""Prepared against plain statements: the statistics page and map of 100 baladiyas (the
map with its properties pivoted per request, and stored).

Usage: .venv/bin/python bench/prepared.py [--repeat 2000]

Runs each statement as text (PostgreSQL parses and plans it every time) and as a prepared
statement (app.services.prepared), alternately, on one connection of the database `make
run` uses, and prints per run: the client's CPU, the wall time, and the CPU time of the
PostgreSQL backend serving the connection (read from /proc: run it on the database's
machine). Every run varies `limit`, as a new URL would.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def _backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from app.db import get_engine
    from app.services import stats
    from app.settings import get_settings

    engine = get_engine(get_settings().effective_database_url)
    with Session(engine) as session:
        r54 = session.execute(text("SELECT id FROM rounds WHERE code = 'R54'")).scalar_one()
        backend = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        flt = stats.StatsFilter(level=2, round_ids=(r54,))
        active = stats._active(flt)
        for name, statement in (
            ("stats page", stats._statement(stats._ENCODED, active)),
            ("map, pivoted", stats._statement(stats._MAP_PIVOTED, active)),
            ("map, stored", stats._statement(stats._MAP_STORED, active)),
        ):
            params = {**flt.params(), "offset": 0, "approximate": False}
            if name.startswith("map"):
                params["collapse"] = True

            def plain(limit: int, statement=statement, params=params) -> list:
                return session.execute(statement.statement, {**params, "limit": limit}).all()

            def prepared(limit: int, statement=statement, params=params) -> list:
                return statement.run(session, {**params, "limit": limit}).rows

            assert [tuple(r) for r in plain(1000)] == prepared(1000)
            for label, run in (("plain", plain), ("prepared", prepared)) * 2:
                for limit in range(1000, 1100):
                    run(limit)
                cpu, wall, server = time.process_time(), time.perf_counter(), _backend_cpu(backend)
                for n in range(args.repeat):
                    run(1000 + n % 9000)
                per = 1000 / args.repeat
                print(f"{name:<12} {label:<9} client CPU {per * (time.process_time() - cpu):.3f} ms"
                      f"  wall {per * (time.perf_counter() - wall):.3f} ms"
                      f"  PostgreSQL CPU {per * (_backend_cpu(backend) - server):.3f} ms",
                      flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
